import { SentinelError } from '../../errors';

/** Where the Postgres URL points, for messages: host, port and database, never the password. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * The repositories are still synchronous better-sqlite3 code; they move to Postgres slice by
 * slice (docs/scale.md, "Postgres"). Until every slice is converted, a command that would
 * open the data with a Postgres URL configured refuses: running on the SQLite file instead
 * would split the installation's data between two databases without anyone noticing.
 */
export function refuseUnconvertedPostgres(database: { url?: string | undefined }, command: string): void {
  if (!database.url) return;
  throw new SentinelError(
    `${command}: database.url (or SENTINEL_DATABASE_URL) names the Postgres database ${describePostgresUrl(database.url)}, ` +
      'but Sentinel does not run on Postgres yet: its schema exists (`sentinel db migrate` applies it), ' +
      'while every repository (leases and sessions, the alert spine of alerts, incidents, audit and lifecycle log, and the rest) ' +
      'still reads and writes only SQLite (docs/scale.md, "Postgres"). Remove database.url and SENTINEL_DATABASE_URL to use the SQLite file in the data directory.',
    'validation_failed',
    'database.url',
  );
}
