import type { Database, Statement } from 'better-sqlite3';

/**
 * Prepared statements by SQL text, per database. better-sqlite3 compiles a statement on
 * every `prepare`; on the alert path (a handful of statements per alert, hundreds of alerts
 * in a burst) that compile was a large share of the time, so hot repositories prepare once.
 */
export function statementCache(db: Database): (sql: string) => Statement {
  const cache = new Map<string, Statement>();
  return (sql) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
}
