import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { SentinelError } from '../../errors';
import { createLogger } from '../../logger';

/** `sentinel analytics-node --core URL`: runs ingest and analytics for the cameras the core hands it (docs/scale.md). */
export function registerAnalyticsNode(program: Command): void {
  program
    .command('analytics-node')
    .description('run ingest and analytics for cameras the core assigns to this node (token from sentinel nodes add)')
    .requiredOption('--core <url>', 'the core, e.g. http://core.example:8787/')
    .option('--token <token>', 'the node token (better: env SENTINEL_NODE_TOKEN, which ps does not show)')
    .option('--data-dir <dir>', 'where the node keeps its alert outbox and snapshots in flight')
    .option('--config <file>', 'JSON config file (ingest, inference, analytics settings)')
    .option('--assets <dir>', 'assets directory (models)')
    .action(async (opts: { core: string; token?: string; dataDir?: string; config?: string; assets?: string }) => {
      const token = opts.token ?? process.env.SENTINEL_NODE_TOKEN;
      if (!token)
        throw new SentinelError(
          'no node token: pass --token or set SENTINEL_NODE_TOKEN (issue one with sentinel nodes add NAME)',
          'validation_failed',
        );
      let core: URL;
      try {
        core = new URL(opts.core);
        if (core.protocol !== 'http:' && core.protocol !== 'https:') throw new Error('not http');
      } catch {
        throw new SentinelError(`--core "${opts.core}" is not an http:// or https:// URL`, 'validation_failed');
      }
      const config = loadConfig({ configFile: opts.config, assetsDir: opts.assets, dataDir: opts.dataDir });
      const log = createLogger(config.log.level).child({ name: 'node' });
      const workDir = join(config.dataDir, 'node');
      mkdirSync(workDir, { recursive: true });
      // Loaded here: the other commands start without onnxruntime and socket.io-client.
      const { AnalyticsNode } = await import('../../nodes/agent');
      const node = new AnalyticsNode({
        coreUrl: core.toString(),
        token,
        config,
        log,
        workDir,
        onRevoked: () => {
          process.stderr.write(
            'sentinel: this analytics node was revoked by an administrator; issue a new token with sentinel nodes add\n',
          );
          void node.close().finally(() => process.exit(3));
        },
      });
      await node.start();
      process.stdout.write(`Sentinel analytics node connected to ${core.toString()}\n`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        void node.close().then(() => process.exit(0));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
