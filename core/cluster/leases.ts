import { sql } from 'kysely';
import type { Executor, SqlDb } from '../db/sql';
import { typed } from '../db/sql';
import type { Logger } from '../logger';
import type { ClusterTables } from './tables';

export interface LeaseRow {
  name: string;
  holder: string;
  expiresAtMs: number;
  fence: number;
  acquiredAt: string;
  renewedAt: string;
  info: unknown;
}

type Row = ClusterTables['leases'];

const toLease = (r: Row): LeaseRow => ({
  name: r.name,
  holder: r.holder,
  expiresAtMs: r.expires_at_ms,
  fence: r.fence,
  acquiredAt: r.acquired_at,
  renewedAt: r.renewed_at,
  info: JSON.parse(r.info) as unknown,
});

/**
 * The leases table (migration 0013): one row per job or camera, owned by one holder until it
 * expires. Taking and renewing are one conditional upsert, so two processes racing for the
 * same lease through the shared database cannot both win: SQLite serialises the writes, and
 * Postgres locks the conflicting row and re-checks the WHERE on its latest version (READ
 * COMMITTED), so the second sees the first's unexpired row either way. Times are the writer's
 * clock (the replicas of one site are NTP-synchronised; the TTL is seconds, far above their skew).
 *
 * Every method takes the executor last, so a caller's transaction (the nodes' heartbeat) can
 * run them on its own connection.
 */
export class LeaseStore {
  constructor(private readonly db: SqlDb) {}

  private t(ex: Executor | undefined) {
    return ex ? typed<ClusterTables>(ex) : this.db.as<ClusterTables>();
  }

  /** Takes the lease if it is free, expired or already ours, until now + ttl. The fence after it, or null when another holds it. */
  async acquire(name: string, holder: string, ttlMs: number, info: unknown = {}, now = Date.now(), ex?: Executor): Promise<number | null> {
    const at = new Date(now).toISOString();
    // The CASEs keep the fence and the acquisition time of a renewal and move them on a change of hands.
    const r = await sql<{ fence: number }>`
      INSERT INTO leases (name, holder, expires_at_ms, fence, acquired_at, renewed_at, info)
        VALUES (${name}, ${holder}, ${now + ttlMs}, 1, ${at}, ${at}, ${JSON.stringify(info)})
      ON CONFLICT (name) DO UPDATE SET
        fence = CASE WHEN leases.holder = excluded.holder THEN leases.fence ELSE leases.fence + 1 END,
        acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
        holder = excluded.holder, expires_at_ms = excluded.expires_at_ms, renewed_at = excluded.renewed_at, info = excluded.info
      WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ${now}
      RETURNING fence`.execute(this.t(ex));
    return r.rows[0]?.fence ?? null;
  }

  /** Gives a lease up (an orderly shutdown), so another holder need not wait for it to expire. */
  async release(name: string, holder: string, ex?: Executor): Promise<boolean> {
    const r = await this.t(ex).deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async releaseAll(holder: string, ex?: Executor): Promise<number> {
    const r = await this.t(ex).deleteFrom('leases').where('holder', '=', holder).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Brings a holder's leases under `prefix` forward to expire by `untilMs` at the latest (its connection closed). */
  async shorten(holder: string, prefix: string, untilMs: number, ex?: Executor): Promise<number> {
    let q = this.t(ex)
      .updateTable('leases')
      .set({ expires_at_ms: untilMs })
      .where('holder', '=', holder)
      .where('expires_at_ms', '>', untilMs);
    if (prefix) q = q.where(sql<string>`substr(name, 1, ${prefix.length})`, '=', prefix);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async get(name: string, ex?: Executor): Promise<LeaseRow | null> {
    const r = await this.t(ex).selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toLease(r) : null;
  }

  /** Leases whose name starts with `prefix` (e.g. 'camera:'), live or expired. */
  async list(prefix = '', ex?: Executor): Promise<LeaseRow[]> {
    let q = this.t(ex).selectFrom('leases').selectAll().orderBy('name');
    // substr, not LIKE: a prefix is compared as it is, with no wildcard to escape.
    if (prefix) q = q.where(sql<string>`substr(name, 1, ${prefix.length})`, '=', prefix);
    return (await q.execute()).map(toLease);
  }
}

export interface LeaseOptions {
  /** A lease not renewed for this long is free for another holder. */
  ttlMs: number;
  /** How often held leases are renewed and free ones tried (well under ttlMs). */
  renewEveryMs: number;
}

/** What a job does while its lease is held; the function it returns stops it. */
export type LeasedJob = () => (() => void) | void;

interface JobState {
  name: string;
  run: LeasedJob;
  stop: (() => void) | null;
  /** Until when our last successful renewal holds the lease (local clock). */
  validUntil: number;
  fence: number;
}

/**
 * Runs each timer-driven job (escalation timers, the webhook outbox, retention...) in exactly
 * one process at a time. Alone (no cluster configured) every job simply runs, at once. In a
 * cluster each job has a database lease: the process holding it runs the job and renews it
 * every `renewEveryMs`; the others try to take it at the same cadence, so a holder that dies
 * (kill -9: nothing released) is replaced within ttl + renewEvery. A holder that cannot
 * renew (database busy, disk) stops the job once its lease may have expired, before another
 * could have taken it, so two never run together.
 *
 * Renewals are database round trips: one round at a time goes through the jobs, and a round
 * that comes due while the previous one still runs (a slow database) waits for it instead of
 * overlapping it, so one job's lease is never being taken twice by this process at once.
 */
export class Leases {
  private readonly jobs = new Map<string, JobState>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Jobs waiting for their next tick, and the round working through them (null when idle). */
  private readonly due = new Set<JobState>();
  private round: Promise<void> | null = null;

  constructor(
    /** Null: a single process, every job runs here. */
    private readonly store: LeaseStore | null,
    readonly holder: string,
    private readonly opts: LeaseOptions,
    private readonly log: Logger,
  ) {}

  /** Registers a job; it starts when its lease is free (at once when alone). */
  job(name: string, run: LeasedJob): void {
    if (this.jobs.has(name)) throw new Error(`leased job ${name} registered twice`);
    const j: JobState = { name, run, stop: null, validUntil: 0, fence: 0 };
    this.jobs.set(name, j);
    if (this.closed) return;
    if (!this.store) {
      this.begin(j, 0);
      return;
    }
    this.schedule([j]);
    if (!this.timer) {
      this.timer = setInterval(() => this.schedule(this.jobs.values()), this.opts.renewEveryMs);
      this.timer.unref();
    }
  }

  owns(name: string): boolean {
    return Boolean(this.jobs.get(name)?.stop);
  }

  /** Which registered jobs run here (health, the technician view). */
  owned(): string[] {
    return [...this.jobs.values()].filter((j) => j.stop).map((j) => j.name);
  }

  private schedule(jobs: Iterable<JobState>): void {
    for (const j of jobs) this.due.add(j);
    if (this.round || this.closed) return; // the running round takes them next
    this.round = (async () => {
      while (this.due.size > 0 && !this.closed) {
        const batch = [...this.due];
        this.due.clear();
        for (const j of batch) await this.tick(j);
      }
    })()
      .catch((err: unknown) => this.log.error({ err }, 'a lease round failed'))
      .finally(() => {
        this.round = null;
      });
  }

  private async tick(j: JobState): Promise<void> {
    if (this.closed || !this.store) return;
    const now = Date.now();
    let fence: number | null;
    try {
      fence = await this.store.acquire(j.name, this.holder, this.opts.ttlMs, {}, now);
    } catch (err) {
      // Cannot tell: keep running only while the last renewal still covers us.
      this.log.warn({ err, lease: j.name }, 'cannot renew a lease');
      if (j.stop && Date.now() >= j.validUntil) this.end(j, 'its lease could not be renewed before it expired');
      return;
    }
    // Closing meanwhile: close() releases what this process holds once this round is over.
    if (this.closed) return;
    if (fence === null) {
      if (j.stop) this.end(j, 'another process holds its lease');
      return;
    }
    // Renewal time minus a safety margin: our clock started before the write.
    j.validUntil = now + this.opts.ttlMs - this.opts.renewEveryMs;
    if (j.stop && fence !== j.fence) this.end(j, 'its lease changed hands');
    if (!j.stop && !this.begin(j, fence)) await this.safeRelease(j.name);
  }

  /** Starts a job; false when it failed to start (its lease is then given back for another try). */
  private begin(j: JobState, fence: number): boolean {
    j.fence = fence;
    try {
      j.stop = j.run() ?? (() => undefined);
      if (this.store) this.log.info({ lease: j.name, fence, holder: this.holder }, 'took over a job');
      return true;
    } catch (err) {
      this.log.error({ err, lease: j.name }, 'a leased job failed to start; retrying at the next renewal');
      j.stop = null;
      return false;
    }
  }

  private end(j: JobState, why: string): void {
    const stop = j.stop;
    j.stop = null;
    this.log.warn({ lease: j.name, holder: this.holder }, `stopped a job: ${why}`);
    try {
      stop?.();
    } catch (err) {
      this.log.error({ err, lease: j.name }, 'a leased job failed to stop');
    }
  }

  private async safeRelease(name: string): Promise<void> {
    try {
      await this.store?.release(name, this.holder);
    } catch (err) {
      this.log.warn({ err, lease: name }, 'cannot release a lease; it expires by itself');
    }
  }

  /** Stops every job this process runs and gives their leases up for the others. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A renewal under way finishes first, so no lease it takes is left behind.
    await this.round;
    for (const j of this.jobs.values()) {
      const stop = j.stop;
      j.stop = null;
      try {
        stop?.();
      } catch (err) {
        this.log.error({ err, lease: j.name }, 'a leased job failed to stop');
      }
      // Every job's, not only the running ones: a round cut short by closing may have taken one.
      // The release only deletes a lease this process holds.
      if (this.store) await this.safeRelease(j.name);
    }
  }
}
