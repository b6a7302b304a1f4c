import type { Incident } from '../../contract';
import type { Database } from '../db/database';
import type { LifecycleLog, LogEvent } from '../lifecycle/log';
import type { Logger } from '../logger';
import type { IncidentStore } from './service';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

export interface OutboxOptions {
  url: string;
  secret: string;
  /** First retry after this long; each further one doubles, up to maxDelayMs. Never given up. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request time limit. */
  requestTimeoutMs?: number;
}

export interface WebhookBody {
  event: 'incident.created' | 'incident.updated';
  /** The lifecycle event behind this delivery (incident.created, incident.state, alert.escalated...). */
  kind: string;
  /** Its log sequence: increasing per incident, so a receiver can order what it got. */
  seq: number;
  incident: Incident;
}

interface Row {
  id: number;
  event_seq: number;
  incident_id: string;
  idem_key: string;
  body: string;
  attempts: number;
  next_at_ms: number;
}

/**
 * The dispatch webhook, through an outbox table (migration 0009). Every lifecycle event that
 * concerns an incident becomes one outbox row, keyed by the event (its idempotency key, sent
 * as the `Idempotency-Key` header), so a receiver that sees a delivery twice (we retried
 * after it had answered, or the core died mid-request) can drop the copy. Rows are posted one
 * at a time, oldest first per incident (a later change never overtakes an earlier one), with
 * exponential backoff on failure and no limit on tries: a receiver that is down for an hour
 * gets everything when it is back, also across restarts of the core. The outbox reads the
 * log by cursor (its newest row): events committed while the core was dying are picked up at
 * the next start. Shutdown waits for it at most a given time.
 */
export class WebhookOutbox {
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly requestTimeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly abort = new AbortController();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly db: Database,
    private readonly lifecycle: LifecycleLog,
    private readonly incidents: IncidentStore,
    private readonly opts: OutboxOptions,
    private readonly log: Logger,
  ) {
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
  }

  /** The last log sequence turned into outbox rows (or skipped: not about an incident). */
  private cursor = 0;

  /** Started and not paused: with several replicas only the holder of its lease runs it (core/cluster). */
  private active = false;

  start(): void {
    if (this.closed || this.active) return;
    this.active = true;
    const newest = (this.db.prepare('SELECT max(event_seq) AS seq FROM webhook_outbox').get() as { seq: number | null }).seq;
    // First start with a webhook: deliver from now on, not the whole history.
    this.cursor = newest ?? this.lifecycle.head();
    this.catchUp();
    // The reader reads by its own cursor, not the batch it is handed: a batch it failed to
    // store (SQLITE_BUSY) is picked up again with the next one instead of leaving a gap.
    this.unsubscribe = this.lifecycle.subscribe('webhook outbox', () => this.catchUp());
    this.kick();
  }

  /**
   * Stops reading the log and posting (another replica took the lease over); what is left
   * stays in the table for it. A request in flight finishes: a receiver may then get that
   * delivery twice, which its idempotency key covers.
   */
  pause(): void {
    if (!this.active) return;
    this.active = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private catchUp(): void {
    for (;;) {
      const batch = this.lifecycle.after(this.cursor, 500);
      if (!batch.length) break;
      this.enqueue(batch);
      this.cursor = batch[batch.length - 1]!.seq;
    }
  }

  private enqueue(events: readonly LogEvent[]): void {
    const rows = events.filter((e) => e.incidentId);
    if (!rows.length) return;
    const ins = this.db.prepare(
      'INSERT OR IGNORE INTO webhook_outbox (event_seq, incident_id, idem_key, body, next_at_ms) VALUES (?, ?, ?, ?, ?)',
    );
    const now = Date.now();
    this.db.transaction(() => {
      for (const e of rows) {
        const incident = this.incidents.get(e.incidentId!);
        if (!incident) continue;
        const body: WebhookBody = {
          event: e.kind === 'incident.created' ? 'incident.created' : 'incident.updated',
          kind: e.kind,
          seq: e.seq,
          incident,
        };
        ins.run(e.seq, e.incidentId, `sentinel-event-${e.seq}`, JSON.stringify(body), now);
      }
    })();
    this.kick();
  }

  /** Deliveries not yet accepted by the receiver. */
  pending(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM webhook_outbox WHERE delivered_at IS NULL').get() as { n: number }).n;
  }

  private kick(): void {
    if (this.closed || !this.active || this.running) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.running = this.pump()
      .catch((err: unknown) => this.log.error({ err }, 'webhook outbox failed; retrying'))
      .finally(() => {
        this.running = null;
        this.arm();
      });
  }

  /** The oldest undelivered row of each incident, the earliest due first. */
  private next(): Row | undefined {
    return this.db
      .prepare(
        `SELECT o.* FROM webhook_outbox o
          WHERE o.delivered_at IS NULL
            AND o.id = (SELECT min(p.id) FROM webhook_outbox p WHERE p.incident_id = o.incident_id AND p.delivered_at IS NULL)
          ORDER BY o.next_at_ms, o.id LIMIT 1`,
      )
      .get() as Row | undefined;
  }

  private async pump(): Promise<void> {
    while (!this.closed && this.active) {
      const row = this.next();
      if (!row || row.next_at_ms > Date.now()) return;
      const error = await this.post(row);
      if (error === null) {
        this.db
          .prepare('UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?')
          .run(new Date().toISOString(), row.id);
      } else {
        const attempts = row.attempts + 1;
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempts - 1, 20));
        this.db
          .prepare('UPDATE webhook_outbox SET attempts = ?, next_at_ms = ?, last_error = ? WHERE id = ?')
          .run(attempts, Date.now() + delay, error, row.id);
        this.log.warn({ key: row.idem_key, attempts, retryInMs: delay, error }, 'webhook delivery failed; will retry');
      }
    }
  }

  /** Wakes up when the earliest pending row is due. */
  private arm(): void {
    if (this.closed || !this.active || this.timer) return;
    const row = this.next();
    if (!row) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.kick();
      },
      Math.max(0, row.next_at_ms - Date.now()),
    );
    this.timer.unref();
  }

  /** null when the receiver accepted it, else what went wrong. */
  private async post(row: Row): Promise<string | null> {
    const ts = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: ts,
          [SIGNATURE_HEADER]: signWebhook(this.opts.secret, ts, row.body),
          [IDEMPOTENCY_HEADER]: row.idem_key,
        },
        body: row.body,
        signal: AbortSignal.any([AbortSignal.timeout(this.requestTimeoutMs), this.abort.signal]),
      });
      // Drain the body so the connection is reused.
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? null : `receiver answered ${res.status}`;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /**
   * Shutdown: keeps delivering what is due for at most `timeoutMs`, then stops (what is left
   * stays in the table for the next start). Resolves with the number still pending.
   */
  async drain(timeoutMs: number): Promise<number> {
    const until = Date.now() + timeoutMs;
    // Not the lease holder here: another replica delivers, nothing to wait for.
    while (this.active && Date.now() < until) {
      const row = this.next();
      if (!row) break;
      if (row.next_at_ms > Date.now()) break; // backing off: waiting would only run out the clock
      this.kick();
      const left = until - Date.now();
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.running ?? Promise.resolve(), new Promise((r) => (t = setTimeout(r, Math.max(0, left))))]);
      clearTimeout(t);
    }
    this.closed = true;
    this.abort.abort();
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    const left = this.pending();
    if (left) this.log.warn({ pending: left }, 'webhook deliveries left in the outbox for the next start');
    return left;
  }
}
