import type { Database } from '../db/database';
import { statementCache } from '../db/statements';
import type { Logger } from '../logger';

export interface LeaseRow {
  name: string;
  holder: string;
  expiresAtMs: number;
  fence: number;
  acquiredAt: string;
  renewedAt: string;
  info: unknown;
}

interface Row {
  name: string;
  holder: string;
  expires_at_ms: number;
  fence: number;
  acquired_at: string;
  renewed_at: string;
  info: string;
}

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
 * same lease through the shared database cannot both win: SQLite serialises the writes and
 * the second sees the first's unexpired row. Times are the writer's clock (the replicas of
 * one site are NTP-synchronised; the TTL is seconds, far above their skew).
 */
export class LeaseStore {
  private readonly q;
  constructor(private readonly db: Database) {
    this.q = statementCache(db);
  }

  /** Takes the lease if it is free, expired or already ours, until now + ttl. The fence after it, or null when another holds it. */
  acquire(name: string, holder: string, ttlMs: number, info: unknown = {}, now = Date.now()): number | null {
    const at = new Date(now).toISOString();
    const row = this.q(
      `INSERT INTO leases (name, holder, expires_at_ms, fence, acquired_at, renewed_at, info) VALUES (?, ?, ?, 1, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET
          fence = CASE WHEN leases.holder = excluded.holder THEN leases.fence ELSE leases.fence + 1 END,
          acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
          holder = excluded.holder, expires_at_ms = excluded.expires_at_ms, renewed_at = excluded.renewed_at, info = excluded.info
        WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ?
        RETURNING fence`,
    ).get(name, holder, now + ttlMs, at, at, JSON.stringify(info), now) as { fence: number } | undefined;
    return row?.fence ?? null;
  }

  /** Gives a lease up (an orderly shutdown), so another holder need not wait for it to expire. */
  release(name: string, holder: string): boolean {
    return this.q('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder).changes > 0;
  }

  releaseAll(holder: string): number {
    return this.q('DELETE FROM leases WHERE holder = ?').run(holder).changes;
  }

  /** Brings a holder's leases under `prefix` forward to expire by `untilMs` at the latest (its connection closed). */
  shorten(holder: string, prefix: string, untilMs: number): number {
    return this.q('UPDATE leases SET expires_at_ms = ? WHERE holder = ? AND substr(name, 1, length(?)) = ? AND expires_at_ms > ?').run(
      untilMs,
      holder,
      prefix,
      prefix,
      untilMs,
    ).changes;
  }

  get(name: string): LeaseRow | null {
    const r = this.q('SELECT * FROM leases WHERE name = ?').get(name) as Row | undefined;
    return r ? toLease(r) : null;
  }

  /** Leases whose name starts with `prefix` (e.g. 'camera:'), live or expired. */
  list(prefix = ''): LeaseRow[] {
    return (this.q('SELECT * FROM leases WHERE substr(name, 1, length(?)) = ? ORDER BY name').all(prefix, prefix) as Row[]).map(toLease);
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
 * one process at a time. Alone (no cluster configured) every job simply runs. In a cluster
 * each job has a database lease: the process holding it runs the job and renews it every
 * `renewEveryMs`; the others try to take it at the same cadence, so a holder that dies
 * (kill -9: nothing released) is replaced within ttl + renewEvery. A holder that cannot
 * renew (database busy, disk) stops the job once its lease may have expired, before another
 * could have taken it, so two never run together.
 */
export class Leases {
  private readonly jobs = new Map<string, JobState>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    /** Null: a single process, every job runs here. */
    private readonly store: LeaseStore | null,
    readonly holder: string,
    private readonly opts: LeaseOptions,
    private readonly log: Logger,
  ) {}

  /** Registers a job; it starts at once when its lease is free (or always, alone). */
  job(name: string, run: LeasedJob): void {
    if (this.jobs.has(name)) throw new Error(`leased job ${name} registered twice`);
    const j: JobState = { name, run, stop: null, validUntil: 0, fence: 0 };
    this.jobs.set(name, j);
    if (!this.closed) this.tick(j);
    if (this.store && !this.timer && !this.closed) {
      this.timer = setInterval(() => {
        for (const s of this.jobs.values()) this.tick(s);
      }, this.opts.renewEveryMs);
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

  private tick(j: JobState): void {
    if (this.closed) return;
    if (!this.store) {
      if (!j.stop) this.begin(j, 0);
      return;
    }
    const now = Date.now();
    let fence: number | null;
    try {
      fence = this.store.acquire(j.name, this.holder, this.opts.ttlMs, {}, now);
    } catch (err) {
      // Cannot tell: keep running only while the last renewal still covers us.
      this.log.warn({ err, lease: j.name }, 'cannot renew a lease');
      if (j.stop && Date.now() >= j.validUntil) this.end(j, 'its lease could not be renewed before it expired');
      return;
    }
    if (fence === null) {
      if (j.stop) this.end(j, 'another process holds its lease');
      return;
    }
    // Renewal time minus a safety margin: our clock started before the write.
    j.validUntil = now + this.opts.ttlMs - this.opts.renewEveryMs;
    if (j.stop && fence !== j.fence) this.end(j, 'its lease changed hands');
    if (!j.stop) this.begin(j, fence);
  }

  private begin(j: JobState, fence: number): void {
    j.fence = fence;
    try {
      j.stop = j.run() ?? (() => undefined);
      if (this.store) this.log.info({ lease: j.name, fence, holder: this.holder }, 'took over a job');
    } catch (err) {
      this.log.error({ err, lease: j.name }, 'a leased job failed to start; retrying at the next renewal');
      j.stop = null;
      if (this.store) this.safeRelease(j.name);
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

  private safeRelease(name: string): void {
    try {
      this.store?.release(name, this.holder);
    } catch (err) {
      this.log.warn({ err, lease: name }, 'cannot release a lease; it expires by itself');
    }
  }

  /** Stops every job this process runs and gives their leases up for the others. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const j of this.jobs.values()) {
      if (!j.stop) continue;
      const stop = j.stop;
      j.stop = null;
      try {
        stop();
      } catch (err) {
        this.log.error({ err, lease: j.name }, 'a leased job failed to stop');
      }
      this.safeRelease(j.name);
    }
  }
}
