import type { Command } from 'commander';
import { join } from 'node:path';
import { fetchAssets } from '../../assets-fetch';
import { loadConfig } from '../../config';
import { SentinelError } from '../../errors';

export function registerAssets(program: Command): void {
  const assets = program
    .command('assets')
    .description('the assets pack: third-party models, footage and map data (not part of this repository)');
  assets
    .command('fetch')
    .description('download the public originals listed in tools/assets-manifest.json into the assets directory, verifying each sha256')
    .option('--dir <dir>', 'assets directory (default: the configured one, else <dataDir>/assets)')
    .option('--config <file>', 'JSON config file')
    .action(async (opts: { dir?: string; config?: string }) => {
      const config = loadConfig({ configFile: opts.config });
      const dir = opts.dir ?? config.assetsDir ?? join(config.dataDir, 'assets');
      process.stdout.write(`fetching the assets pack into ${dir}\n`);
      // One line per file that could not be had (stderr); the counts at the end (stdout).
      const outcomes = await fetchAssets({ dir, onOutcome: (o) => o.error && process.stderr.write(`could not fetch ${o.error}\n`) });
      const n = (r: string): number => outcomes.filter((o) => o.result === r).length;
      process.stdout.write(`${n('fetched')} fetched, ${n('present')} already present, ${n('failed')} could not be fetched\n`);
      if (n('failed') > 0)
        throw new SentinelError(
          `${n('failed')} of ${outcomes.length} asset files could not be fetched (listed above); the assets directory keeps only verified files`,
        );
    });
}
