import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import type { Database } from '../../db/database';
import { openData } from '../../db/open';
import { sqliteSql } from '../../db/sql';
import { SentinelError } from '../../errors';
import { verifyMonth } from '../../statistics/sign';

/** Opens a data directory's database read-only, refusing anything that is not a Sentinel data directory. */
function openSentinelData(dataDir: string): Database {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new SentinelError(`data directory ${dataDir} does not exist`);
  const file = join(dataDir, 'sentinel.db');
  if (!existsSync(file)) throw new SentinelError(`${dataDir} is not a Sentinel data directory: it has no sentinel.db`);
  let db: Database;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name),
    );
    for (const t of ['installation', 'incidents', 'incident_events', 'verdicts', 'cameras', 'segments']) {
      if (!tables.has(t))
        throw new Error(`it has no ${t} table (not a Sentinel database, or one too old: start \`sentinel serve\` on it once to upgrade)`);
    }
  } catch (err) {
    throw new SentinelError(`${file} is not a usable Sentinel database: ${(err as Error).message}`);
  }
  return db;
}

/**
 * `sentinel report monthly --month YYYY-MM --out DIR`: the month's public statistics as
 * DIR/YYYY-MM.csv and DIR/YYYY-MM.html (inline SVG, opens offline), from a data directory,
 * read-only. `sentinel report verify` checks a published month's signature and files.
 */
export function registerReport(program: Command): void {
  const rep = program.command('report').description('public monthly statistics');
  rep
    .command('monthly')
    .description('write the month\'s statistics as DIR/YYYY-MM.csv and DIR/YYYY-MM.html (counts under 5 shown as "<5")')
    .requiredOption('--month <YYYY-MM>', 'the month, Chicago time')
    .requiredOption('--out <dir>', 'where to write the two files (created if needed)')
    .option('--data-dir <dir>', 'the data directory')
    .option('--config <file>', 'config file')
    .action(async (opts: { month: string; out: string; dataDir?: string; config?: string }) => {
      // The report's renderer (Observable Plot over jsdom) loads only for this command.
      const { buildMonth, checkMonth } = await import('../../statistics/publish');
      const month = checkMonth(opts.month);
      const config = loadConfig({ configFile: opts.config, dataDir: opts.dataDir });
      // SQLite: read-only, so a report never changes the installation (closing the SqlDb closes the handle under it).
      const db = config.database.url ? await openData(config) : sqliteSql(openSentinelData(config.dataDir));
      try {
        const files = await buildMonth(db, month);
        const out = resolve(opts.out);
        try {
          mkdirSync(out, { recursive: true });
          writeFileSync(join(out, `${month}.csv`), files.csv);
          writeFileSync(join(out, `${month}.html`), files.html);
        } catch (err) {
          throw new SentinelError(`cannot write to ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        process.stdout.write(`${join(out, `${month}.csv`)}\n${join(out, `${month}.html`)}\n`);
      } finally {
        await db.close();
      }
    });
  rep
    .command('verify')
    .description('check a published month (YYYY-MM.manifest.json with YYYY-MM.sig, .csv and .html beside it)')
    .argument('<manifest>', 'the downloaded YYYY-MM.manifest.json')
    .option(
      '--key <file>',
      "the installation's public key (key.pem); without it, the key in the manifest is used and its fingerprint printed",
    )
    .action((manifestPath: string, opts: { key?: string }) => {
      const read = (p: string): string | null => (existsSync(p) ? readFileSync(p, 'utf8') : null);
      const manifestJson = read(manifestPath);
      if (manifestJson === null) throw new SentinelError(`cannot read ${manifestPath}`);
      const dir = dirname(manifestPath);
      const month = basename(manifestPath).replace(/\.manifest\.json$/, '');
      const sig = read(join(dir, `${month}.sig`));
      if (sig === null) throw new SentinelError(`the signature ${join(dir, `${month}.sig`)} is missing`);
      const key = opts.key ? read(opts.key) : null;
      if (opts.key && key === null) throw new SentinelError(`cannot read the key ${opts.key}`);
      const r = verifyMonth(
        manifestJson,
        sig,
        { [`${month}.csv`]: read(join(dir, `${month}.csv`)), [`${month}.html`]: read(join(dir, `${month}.html`)) },
        key ?? undefined,
      );
      if (!r.ok) throw new SentinelError(`${manifestPath}: ${r.problems.join('; ')}`);
      process.stdout.write(
        `${month}: OK — signed by key ${r.fingerprint}${key ? ' (the trusted key)' : ' (compare with the key the CTA publishes)'}\n`,
      );
    });
}
