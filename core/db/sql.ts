import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import type { Database } from 'better-sqlite3';
import type { Logger } from '../logger';
import { migratePostgres, POSTGRES_MIGRATIONS } from './postgres/migrate';
import { openPostgresPool } from './postgres/pool';

/**
 * Kysely is the one way repositories reach either database (docs/scale.md, "Postgres"): one
 * typed query builder with a better-sqlite3 and a pg dialect, so a repository is written
 * once and its parameters get each dialect's placeholders. Where the builder would read worse
 * than the SQL (upserts with CASE, window functions), a repository writes the `sql` tag,
 * which is still parameterised per dialect.
 */
export type SqlDialect = 'sqlite' | 'postgres';

/**
 * What a repository queries through: the database itself, or the transaction it was handed.
 * Repositories type it with their own tables (`Executor<AuthTables>`): each feature declares
 * the tables it owns beside its code, and no module has to know every table.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the untyped root; repositories narrow it with `as<T>()` or `typed()`
export type AnyTables = any;
export type Executor<T = AnyTables> = Kysely<T> | Transaction<T>;

/** A transaction (or the root) handed to a repository, seen with the repository's own tables. */
export const typed = <T>(ex: Executor): Kysely<T> => ex as unknown as Kysely<T>;

/**
 * Serialisation points that Postgres does not give for free (docs/scale.md, "Two guarantees"):
 * appends to the lifecycle log and to the audit chain take their lock before they read or
 * insert, held until commit; camera placement (core/nodes) decides on the leases as a whole, so
 * heartbeats through different replicas take turns. Always taken in this order (placement, log,
 * audit), so two transactions needing several cannot deadlock.
 */
export const SERIAL_LOCKS = { placement: 0x5e47_0010, log: 0x5e47_0001, audit: 0x5e47_0002 } as const;
export type SerialLock = keyof typeof SERIAL_LOCKS;
const LOCK_ORDER: readonly SerialLock[] = ['placement', 'log', 'audit'];

export interface TransactionOptions {
  /** Serial locks to take first (Postgres), in their fixed order. */
  locks?: readonly SerialLock[];
  /**
   * A person waits on it (an acknowledgement, an incident change): on Postgres it goes ahead of
   * this process's queued transactions for the same lock, so an operator's ack is not answered
   * only after every alert of a burst (measured: 200 raises at once held every ack until the
   * last one committed). SQLite commits each in a millisecond or two; there it queues as usual.
   */
  urgent?: boolean;
}

export interface SqlDb {
  readonly dialect: SqlDialect;
  /** The root executor, typed with the caller's tables. */
  as<T>(): Kysely<T>;
  /**
   * Runs `fn` in one transaction and commits when it resolves (rolls back when it throws).
   * SQLite: BEGIN IMMEDIATE, so a read-then-write cannot fail on upgrading its lock when
   * replicas share the file. Postgres: READ COMMITTED, with the named serial locks taken
   * first, in their fixed order.
   */
  transaction<R>(fn: (trx: Transaction<AnyTables>) => Promise<R>, opts?: TransactionOptions): Promise<R>;
  /** What health reports: the schema version and, on SQLite, the journal mode. */
  describe(): Promise<{ dialect: SqlDialect; schemaVersion: number; journalMode: string | null }>;
  /** The better-sqlite3 handle on SQLite (code still to be converted reads it), null on Postgres. */
  readonly sqlite: Database | null;
  close(): Promise<void>;
}

/**
 * Takes serial locks inside a transaction the caller already holds (a repository handed a
 * transaction by its caller). On SQLite the immediate transaction already serialises writers.
 */
export async function takeSerialLocks(trx: Executor, dialect: SqlDialect, locks: readonly SerialLock[]): Promise<void> {
  if (dialect !== 'postgres') return;
  // A transaction-scoped lock is held until commit: one taken already (by `transaction({ locks })`,
  // or by an earlier append in the same transaction) costs a round trip for nothing.
  let held = HELD.get(trx);
  if (!held) HELD.set(trx, (held = new Set()));
  for (const name of LOCK_ORDER) {
    if (!locks.includes(name) || held.has(name)) continue;
    await sql`SELECT pg_advisory_xact_lock(${SERIAL_LOCKS[name]})`.execute(trx);
    held.add(name);
  }
}
/** The serial locks each open Postgres transaction holds (gone with the transaction object). */
const HELD = new WeakMap<Executor, Set<SerialLock>>();

/** Wraps an open (and migrated) better-sqlite3 database. Closing the SqlDb closes it. */
export function sqliteSql(db: Database): SqlDb {
  // better-sqlite3 is one connection; Kysely's driver queues callers on it, so a transaction
  // holds the connection and nobody else's query runs inside it.
  const k = new Kysely<unknown>({ dialect: new SqliteDialect({ database: db }) });
  return {
    dialect: 'sqlite',
    sqlite: db,
    describe: () =>
      Promise.resolve({
        dialect: 'sqlite' as const,
        schemaVersion: db.pragma('user_version', { simple: true }) as number,
        journalMode: String(db.pragma('journal_mode', { simple: true })),
      }),
    as: <T>() => k as unknown as Kysely<T>,
    transaction: <R>(fn: (trx: Transaction<AnyTables>) => Promise<R>) =>
      // Kysely's sqlite transactions BEGIN DEFERRED; a controlled connection lets us BEGIN IMMEDIATE.
      k.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        try {
          // The connection is already inside the transaction: hand it over as the transaction.
          const r = await fn(conn as unknown as Transaction<AnyTables>);
          await sql`COMMIT`.execute(conn);
          return r;
        } catch (err) {
          if (db.inTransaction) await sql`ROLLBACK`.execute(conn);
          throw err;
        }
      }),
    close: async () => {
      await k.destroy(); // closes the handle if Kysely ever opened its connection
      if (db.open) db.close();
    },
  };
}

/**
 * One process's transactions that take the same serial lock queue here, in memory, before
 * they take a pool connection. The advisory lock serialises them anyway (and across
 * replicas); waiting for it inside Postgres would hold a connection each, so a burst of
 * alerts would occupy the whole pool and the reads each writer then needs (dispatching its
 * own event) would queue behind every other writer: measured, 200 alerts at once were all
 * answered only after the last one committed.
 */
class LocalQueue {
  private running = false;
  private readonly urgent: Array<() => Promise<void>> = [];
  private readonly normal: Array<() => Promise<void>> = [];

  /** Runs `fn` when every transaction queued before it (urgent ones: every urgent one) has ended. */
  run<R>(fn: () => Promise<R>, urgent = false): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      (urgent ? this.urgent : this.normal).push(() => fn().then(resolve, reject));
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let next = this.urgent.shift() ?? this.normal.shift(); next; next = this.urgent.shift() ?? this.normal.shift()) await next();
    this.running = false;
  }
}

/** Opens a Postgres database by URL, applying the pending schema first. */
export async function openPostgresSql(url: string, log?: Logger, maxConnections = 10): Promise<SqlDb> {
  await migratePostgres(url, POSTGRES_MIGRATIONS, log);
  const k = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: openPostgresPool(url, maxConnections) }) });
  const queues: Record<SerialLock, LocalQueue> = { placement: new LocalQueue(), log: new LocalQueue(), audit: new LocalQueue() };
  const inTransaction = <R>(fn: (trx: Transaction<AnyTables>) => Promise<R>, locks: readonly SerialLock[]): Promise<R> =>
    k
      .transaction()
      .setIsolationLevel('read committed')
      .execute(async (trx) => {
        await takeSerialLocks(trx, 'postgres', locks);
        return fn(trx);
      });
  return {
    dialect: 'postgres',
    sqlite: null,
    describe: async () => {
      const r = await sql<{ v: number | null }>`SELECT max(version) AS v FROM sentinel_schema`.execute(k);
      return { dialect: 'postgres' as const, schemaVersion: r.rows[0]?.v ?? 0, journalMode: null };
    },
    as: <T>() => k as unknown as Kysely<T>,
    transaction: (fn, opts) => {
      const locks = opts?.locks ?? [];
      // The first lock in the fixed order is the one everyone with this set queues on.
      const first = LOCK_ORDER.find((l) => locks.includes(l));
      return first ? queues[first].run(() => inTransaction(fn, locks), opts?.urgent) : inTransaction(fn, locks);
    },
    close: () => k.destroy(),
  };
}
