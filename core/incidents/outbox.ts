import type { Incident } from '../../contract';
import { sql } from 'kysely';
import { typed, type SqlDb } from '../db/sql';
import type { LifecycleLog, LogEvent } from '../lifecycle/log';
import type { Logger } from '../logger';
import type { IncidentStore } from './service';
import type { IncidentTables } from './tables';
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

type Row = Omit<IncidentTables['webhook_outbox'], 'id' | 'attempts'> & { id: number; attempts: number };

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
    private readonly db: SqlDb,
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

  /** Reading the log into the table, one pass at a time (start and every batch of events both ask). */
  private catching: Promise<void> = Promise.resolve();

  start(): void {
    if (this.closed || this.active) return;
    this.active = true;
    // The reader reads by its own cursor, not the batch it is handed: a batch it failed to
    // store (a busy database) is picked up again with the next one instead of leaving a gap.
    this.unsubscribe = this.lifecycle.subscribe('webhook outbox', () => this.catchUp());
    void this.begin().catch((err: unknown) => this.log.error({ err }, 'webhook outbox cannot start; the next event retries'));
  }

  private async begin(): Promise<void> {
    const newest = await this.t()
      .selectFrom('webhook_outbox')
      .select(sql<number | null>`max(event_seq)`.as('seq'))
      .executeTakeFirst();
    // First start with a webhook: deliver from now on, not the whole history.
    this.cursor = newest?.seq ?? (await this.lifecycle.head());
    this.begun = true;
    await this.catchUp();
    this.kick();
  }

  private begun = false;

  private t() {
    return this.db.as<IncidentTables>();
  }

  /**
   * Stops reading the log and posting (another replica took the lease over); what is left
   * stays in the table for it. A request in flight finishes: a receiver may then get that
   * delivery twice, which its idempotency key covers.
   */
  pause(): void {
    if (!this.active) return;
    this.active = false;
    this.begun = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private catchUp(): Promise<void> {
    const run = this.catching.then(async () => {
      if (!this.begun || !this.active) return;
      for (;;) {
        const batch = await this.lifecycle.after(this.cursor, 500);
        if (!batch.length) break;
        await this.enqueue(batch);
        this.cursor = batch[batch.length - 1]!.seq;
      }
    });
    this.catching = run.catch(() => undefined);
    return run;
  }

  private async enqueue(events: readonly LogEvent[]): Promise<void> {
    const rows = events.filter((e) => e.incidentId);
    if (!rows.length) return;
    const now = Date.now();
    const values: { event_seq: number; incident_id: string; idem_key: string; body: string; next_at_ms: number }[] = [];
    for (const e of rows) {
      const incident = await this.incidents.get(e.incidentId!);
      if (!incident) continue;
      const body: WebhookBody = {
        event: e.kind === 'incident.created' ? 'incident.created' : 'incident.updated',
        kind: e.kind,
        seq: e.seq,
        incident,
      };
      values.push({
        event_seq: e.seq,
        incident_id: e.incidentId!,
        idem_key: `sentinel-event-${e.seq}`,
        body: JSON.stringify(body),
        next_at_ms: now,
      });
    }
    // Keyed by the event: a batch read twice (two replicas, or a retry) adds nothing twice.
    if (values.length)
      await this.db.transaction(async (trx) => {
        await typed<IncidentTables>(trx)
          .insertInto('webhook_outbox')
          .values(values)
          .onConflict((oc) => oc.column('event_seq').doNothing())
          .execute();
      });
    this.kick();
  }

  /** Deliveries not yet accepted by the receiver. */
  async pending(): Promise<number> {
    const r = await this.t()
      .selectFrom('webhook_outbox')
      .select(sql<number>`CAST(count(*) AS INTEGER)`.as('n'))
      .where('delivered_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
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
        void this.arm().catch((err: unknown) => this.log.error({ err }, 'webhook outbox cannot read its next delivery'));
      });
  }

  /** The oldest undelivered row of each incident, the earliest due first. */
  private async next(): Promise<Row | undefined> {
    return this.t()
      .selectFrom('webhook_outbox as o')
      .selectAll('o')
      .where('o.delivered_at', 'is', null)
      .where(({ eb, selectFrom }) =>
        eb(
          'o.id',
          '=',
          selectFrom('webhook_outbox as p')
            .select(({ fn }) => fn.min('p.id').as('m'))
            .whereRef('p.incident_id', '=', 'o.incident_id')
            .where('p.delivered_at', 'is', null),
        ),
      )
      .orderBy('o.next_at_ms')
      .orderBy('o.id')
      .limit(1)
      .executeTakeFirst();
  }

  private async pump(): Promise<void> {
    while (!this.closed && this.active) {
      const row = await this.next();
      if (!row || row.next_at_ms > Date.now()) return;
      const error = await this.post(row);
      if (error === null) {
        await this.t()
          .updateTable('webhook_outbox')
          .set((eb) => ({ delivered_at: new Date().toISOString(), attempts: eb('attempts', '+', 1), last_error: null }))
          .where('id', '=', row.id)
          .execute();
      } else {
        const attempts = row.attempts + 1;
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempts - 1, 20));
        await this.t()
          .updateTable('webhook_outbox')
          .set({ attempts, next_at_ms: Date.now() + delay, last_error: error })
          .where('id', '=', row.id)
          .execute();
        this.log.warn({ key: row.idem_key, attempts, retryInMs: delay, error }, 'webhook delivery failed; will retry');
      }
    }
  }

  /** Wakes up when the earliest pending row is due. */
  private async arm(): Promise<void> {
    if (this.closed || !this.active || this.timer) return;
    const row = await this.next();
    if (!row || this.closed || !this.active || this.timer || this.running) return;
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
      const row = await this.next();
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
    const left = await this.pending();
    if (left) this.log.warn({ pending: left }, 'webhook deliveries left in the outbox for the next start');
    return left;
  }
}
