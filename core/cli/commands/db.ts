import type { Command } from 'commander';
import { ConfigSchema, loadConfig } from '../../config';
import { SentinelError } from '../../errors';
import { createLogger } from '../../logger';
import { migratePostgres } from '../../db/postgres/migrate';
import { describePostgresUrl } from '../../db/postgres/describe';

/**
 * `sentinel db migrate`: applies the Postgres schema (docs/scale.md, "Postgres"), so an
 * operator can prepare the production database before any core runs on it. SQLite needs no
 * command: the core migrates its file when it opens it.
 */
export function registerDb(program: Command): void {
  const db = program.command('db').description('the Postgres database (docs/scale.md)');
  db.command('migrate')
    .description('create or update the Sentinel schema in a Postgres database (idempotent; all steps in one transaction)')
    .option('--url <url>', 'postgres://user:password@host:port/database (default: database.url or SENTINEL_DATABASE_URL)')
    .option('--config <file>', 'config file')
    .action(async (opts: { url?: string; config?: string }) => {
      let url = opts.url;
      if (url !== undefined) {
        if (!ConfigSchema.shape.database.unwrap().shape.url.safeParse(url).success)
          throw new SentinelError('--url is not a postgres://user:password@host:port/database URL', 'validation_failed', '--url');
      } else {
        url = loadConfig({ configFile: opts.config }).database.url;
        if (!url)
          throw new SentinelError(
            'no Postgres database given: pass --url, or set database.url in the config file or SENTINEL_DATABASE_URL',
            'validation_failed',
            '--url',
          );
      }
      const version = await migratePostgres(url, undefined, createLogger('warn'));
      process.stdout.write(`Postgres database ${describePostgresUrl(url)} is at schema version ${version}\n`);
    });
}
