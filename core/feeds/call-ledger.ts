import { z } from 'zod';
import type { Executor, SqlDb } from '../db/sql';
import { typed } from '../db/sql';
import type { Logger } from '../logger';
import { DAY_MS, type CallLedger } from './planner';
import type { FeedsTables } from './tables';

/** Calls are counted per 10 minutes: a day is at most 145 buckets, a few KB to rewrite per call. */
const BUCKET_MS = 600_000;

const Buckets = z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative());

/**
 * A call ledger in the database's `settings` table, so that the Bus Tracker key's daily budget
 * is one budget across restarts and across replicas: when the feed-polling lease moves, the new
 * holder reads what the old one spent instead of starting from zero (a key that is over its
 * limit is cut off by the CTA for the day). Counting in 10-minute buckets is conservative: a
 * bucket counts until its *end* is a day old, so the window is up to 10 minutes longer than
 * 24 h, never shorter. Checked and written in one transaction per call (at most one call every
 * few seconds), so two processes can never both take the last call: SQLite's immediate
 * transaction serialises them; on Postgres the row is read FOR UPDATE, and a first call of all
 * (no row yet to lock) inserts with DO NOTHING and reads again, so a racing twin waits on the
 * row the other created.
 */
export class SettingsCallLedger implements CallLedger {
  constructor(
    private readonly db: SqlDb,
    private readonly key: string,
    private readonly log: Logger,
  ) {}

  private async write(ex: Executor, key: string, value: string, at: string): Promise<void> {
    await typed<FeedsTables>(ex)
      .insertInto('settings')
      .values({ key, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
      .execute();
  }

  private async buckets(ex: Executor, lock: boolean): Promise<Map<number, number>> {
    const t = typed<FeedsTables>(ex);
    const read = () => {
      const q = t.selectFrom('settings').select('value').where('key', '=', this.key);
      return (lock && this.db.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    };
    let row = await read();
    if (!row && lock && this.db.dialect === 'postgres') {
      // Nothing to lock yet: make the row (a twin doing the same waits on it), then lock it.
      await t
        .insertInto('settings')
        .values({ key: this.key, value: '{}', updated_at: new Date().toISOString() })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      row = await read();
    }
    if (!row) return new Map();
    let parsed: z.infer<typeof Buckets> | null = null;
    try {
      const r = Buckets.safeParse(JSON.parse(row.value));
      if (r.success) parsed = r.data;
    } catch {
      parsed = null;
    }
    if (parsed) return new Map(Object.entries(parsed).map(([k, v]) => [Number(k), v]));
    // A damaged value (hand-edited, or from another version) must not stop bus positions for a
    // day: the count starts again, and the damaged value is kept beside it for whoever looks.
    this.log.error({ key: this.key }, 'the saved Bus Tracker call count is unreadable; counting again from zero (kept as <key>.damaged)');
    await this.write(ex, `${this.key}.damaged`, row.value, new Date().toISOString());
    await this.write(ex, this.key, '{}', new Date().toISOString());
    return new Map();
  }

  private countIn(buckets: Map<number, number>, at: number): number {
    let n = 0;
    for (const [start, count] of buckets) if (start + BUCKET_MS > at - DAY_MS) n += count;
    return n;
  }

  async countDay(at: number): Promise<number> {
    return this.db.transaction(async (trx) => this.countIn(await this.buckets(trx, false), at));
  }

  async take(at: number, limit: number): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const buckets = await this.buckets(trx, true);
      if (this.countIn(buckets, at) >= limit) return false;
      const start = Math.floor(at / BUCKET_MS) * BUCKET_MS;
      buckets.set(start, (buckets.get(start) ?? 0) + 1);
      const keep: Record<string, number> = {};
      for (const [s, c] of buckets) if (s + BUCKET_MS > at - DAY_MS) keep[String(s)] = c;
      await this.write(trx, this.key, JSON.stringify(keep), new Date(at).toISOString());
      return true;
    });
  }
}
