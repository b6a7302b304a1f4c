import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { SentinelError } from '../../errors';
import { electronProtection } from '../../keys/at-rest';
import { keyFromParent } from '../../keys/parent';
import { parsePort } from '../util';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the core service (HTTP API, socket.io) and serve the console at /')
    .option('--port <n>', 'TCP port (0 picks a free one)', parsePort)
    .option('--host <host>', 'address to listen on (default 127.0.0.1: this machine only)')
    .option('--data-dir <dir>', 'where the database, recordings and clips live')
    .option('--config <file>', 'JSON config file')
    .option('--assets <dir>', 'assets directory (models, footage, map data)')
    .option('--demo', 'demo mode: simulated cameras and a simulated CTA fleet')
    .action(async (opts: { port?: number; host?: string; dataDir?: string; config?: string; assets?: string; demo?: boolean }) => {
      const config = loadConfig({
        configFile: opts.config,
        host: opts.host,
        port: opts.port,
        dataDir: opts.dataDir,
        assetsDir: opts.assets,
        demo: opts.demo,
      });
      const source = process.env.SENTINEL_KEY_SOURCE;
      if (source !== undefined && source !== '' && source !== 'parent')
        throw new SentinelError(
          `SENTINEL_KEY_SOURCE="${source}" is not known; the only value is "parent" (the desktop app's key)`,
          'validation_failed',
        );
      if (source === 'parent') {
        if (config.keyProtection)
          throw new SentinelError(
            'SENTINEL_KEY_SOURCE=parent and SENTINEL_KEY_FILE/SENTINEL_KEY_PASSPHRASE are both set; use one',
            'validation_failed',
          );
        config.keyProtection = electronProtection(await keyFromParent());
      }
      // Loaded here, not at the top: every other command (probe, audit...) starts without the
      // whole core and its libraries (jsdom, twilio...), which costs a second or more of start-up.
      const { startCore } = await import('../../app');
      const core = await startCore(config);
      // One line on stdout that people and the Electron shell both read.
      process.stdout.write(`Sentinel console at ${core.url}\n`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        core.log.info({ signal }, 'shutting down');
        void core.close().then(() => process.exit(0));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      // A parent may ask for a clean stop: Node's IPC channel, or Electron's utilityProcess
      // port (process.parentPort exists only there).
      process.on('message', (m) => {
        if (m === 'shutdown') stop('ipc');
      });
      const parentPort = (process as { parentPort?: { on(event: 'message', fn: (e: { data: unknown }) => void): void } }).parentPort;
      parentPort?.on('message', (e) => {
        if (e.data === 'shutdown') stop('electron');
      });
    });
}
