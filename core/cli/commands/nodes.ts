import type { Command } from 'commander';
import { NodeCreate } from '../../../contract';
import { AuditTrail } from '../../audit';
import { loadConfig } from '../../config';
import { requireSentinelDataDir } from '../../data-dir';
import { openData } from '../../db/open';
import { SentinelError } from '../../errors';
import { NodeStore } from '../../nodes/store';
import { printJson } from '../util';

/** `sentinel nodes add | list | revoke`: analytics node tokens from the command line (the admin API has the same). */
export function registerNodes(program: Command): void {
  const nodes = program.command('nodes').description('analytics nodes: issue, list and revoke their tokens (docs/scale.md)');
  const open = async (dataDir: string | undefined) => {
    const config = loadConfig({ dataDir });
    requireSentinelDataDir(config.dataDir);
    // Closing the SqlDb closes the handle under it.
    const db = await openData(config);
    return { db, store: new NodeStore(db), audit: new AuditTrail(db) };
  };
  const actor = `cli:${process.env.USER ?? 'unknown'}`;
  nodes
    .command('add')
    .description('issue a token for a new analytics node; the token is printed once and only its hash is kept')
    .argument('<name>', 'the node name (letters, digits, dot, dash, underscore)')
    .option('--capacity <n>', 'cameras the node may hold at most (docs/performance.md: the capacity benchmark)', '8')
    .option('--data-dir <dir>', 'data directory')
    .action(async (name: string, opts: { capacity: string; dataDir?: string }) => {
      const input = NodeCreate.safeParse({ name, capacity: Number(opts.capacity) });
      if (!input.success)
        throw new SentinelError(
          `${input.error.issues[0]?.path.join('.') ?? 'input'}: ${input.error.issues[0]?.message ?? 'invalid'}`,
          'validation_failed',
        );
      const { db, store, audit } = await open(opts.dataDir);
      try {
        const { node, token } = await store.create(input.data.name, input.data.capacity, actor);
        await audit.append({
          actorId: null,
          actor,
          action: 'node.create',
          target: `node:${node.id}`,
          detail: { name: node.name, capacity: node.capacity, via: 'sentinel nodes add' },
        });
        process.stdout.write(
          `analytics node ${node.name} (${node.id}), capacity ${node.capacity}\ntoken (shown once, keep it secret): ${token}\n` +
            `run it with: SENTINEL_NODE_TOKEN=<token> sentinel analytics-node --core <core URL>\n`,
        );
      } finally {
        await db.close();
      }
    });
  nodes
    .command('list')
    .description('the analytics nodes (without tokens)')
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts: { dataDir?: string }) => {
      const { db, store } = await open(opts.dataDir);
      try {
        printJson(await store.list());
      } finally {
        await db.close();
      }
    });
  nodes
    .command('revoke')
    .description('revoke a node’s token: it is refused from its next message on, and its cameras move to the others')
    .argument('<name>', 'the node name')
    .option('--data-dir <dir>', 'data directory')
    .action(async (name: string, opts: { dataDir?: string }) => {
      const { db, store, audit } = await open(opts.dataDir);
      try {
        const n = await store.byName(name);
        if (!n) throw new SentinelError(`no analytics node named "${name}"`, 'not_found');
        const r = await store.revoke(n.id);
        await audit.append({
          actorId: null,
          actor,
          action: 'node.revoke',
          target: `node:${n.id}`,
          detail: { name, via: 'sentinel nodes revoke' },
        });
        printJson(r);
      } finally {
        await db.close();
      }
    });
}
