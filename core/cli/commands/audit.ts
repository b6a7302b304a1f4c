import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AuditTrail } from '../../audit';
import { listCheckpoints, parseCheckpointLines, verifyAnchored, type AnchorKey } from '../../audit/checkpoints';
import { loadConfig } from '../../config';
import { requireSentinelDataDir } from '../../data-dir';
import { openData } from '../../db/open';
import { SentinelError } from '../../errors';
import { loadOrCreateSigningKey, signingKeyExists } from '../../evidence/keys';
import type { KeyProtection } from '../../keys/at-rest';
import { printJson } from '../util';

/**
 * The installation key's public half, or null when the installation has none yet (then a
 * checkpoint in the database cannot be checked, and verify says so). Never creates a key:
 * a new one would "verify" nothing.
 */
function installationKey(dataDir: string, protection: KeyProtection | null): AnchorKey | null {
  if (!signingKeyExists(dataDir)) return null;
  const k = loadOrCreateSigningKey(dataDir, protection);
  return { publicKey: k.publicKey, fingerprint: k.fingerprint };
}

/**
 * `sentinel audit verify [--anchor file]`: recomputes the hash chain and checks it against
 * every signed checkpoint (and an exported file's); exit 1 names the first bad record or
 * checkpoint. `sentinel audit checkpoints export`: the checkpoints as JSON lines for a notary.
 */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('verify')
    .description('recompute the audit hash chain and check it against the signed checkpoints; exits 1 naming the first bad record')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'config file')
    .option('--anchor <file>', 'checkpoints exported earlier ("audit checkpoints export"), kept outside this installation')
    .action(async (opts: { dataDir?: string; config?: string; anchor?: string }) => {
      const config = loadConfig({ configFile: opts.config, dataDir: opts.dataDir });
      requireSentinelDataDir(config.dataDir);
      let anchor;
      if (opts.anchor) {
        const file = resolve(opts.anchor);
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw new SentinelError(`cannot read the anchor file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        anchor = { checkpoints: parseCheckpointLines(text, file), source: file };
      }
      const db = await openData(config);
      try {
        const trail = new AuditTrail(db);
        const r = await verifyAnchored(db, trail, installationKey(config.dataDir, config.keyProtection), anchor);
        await trail.append({
          actor: 'cli',
          action: 'audit.verify',
          detail: { ok: r.ok, firstBroken: r.firstBroken, badCheckpoint: r.badCheckpoint, anchor: opts.anchor ?? null },
        });
        if (!r.ok) {
          const where = r.firstBroken !== null ? `record ${r.firstBroken}` : `checkpoint ${r.badCheckpoint}`;
          throw new SentinelError(`audit trail fails verification at ${where}: ${r.reason}`);
        }
        printJson(r);
      } finally {
        await db.close();
      }
    });

  const checkpoints = audit.command('checkpoints').description("the signed checkpoints of the audit chain's head");
  checkpoints
    .command('export')
    .description('write every checkpoint as JSON lines (to --out, or stdout) for an outside notary')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'config file')
    .option('--out <file>', 'write here instead of stdout (replaced whole, never half-written)')
    .action(async (opts: { dataDir?: string; config?: string; out?: string }) => {
      const config = loadConfig({ configFile: opts.config, dataDir: opts.dataDir });
      requireSentinelDataDir(config.dataDir);
      const db = await openData(config);
      try {
        const list = await listCheckpoints(db);
        const text = list.map((c) => `${JSON.stringify(c)}\n`).join('');
        if (opts.out) {
          const file = resolve(opts.out);
          try {
            writeFileSync(`${file}.tmp`, text);
            renameSync(`${file}.tmp`, file);
          } catch (err) {
            throw new SentinelError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
          process.stderr.write(`${list.length} checkpoints written to ${file}\n`);
        } else {
          process.stdout.write(text);
        }
        await new AuditTrail(db).append({
          actor: 'cli',
          action: 'audit.checkpoints_export',
          detail: { count: list.length, out: opts.out ?? null },
        });
      } finally {
        await db.close();
      }
    });
}
