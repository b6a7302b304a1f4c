import { z } from 'zod';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import { DAY_MS, type CallLedger } from './planner';

/** Calls are counted per 10 minutes: a day is at most 145 buckets, a few KB to rewrite per call. */
const BUCKET_MS = 600_000;

const Buckets = z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative());

/**
 * A call ledger in the database's `settings` table, so that the Bus Tracker key's daily budget
 * is one budget across restarts and across replicas: when the feed-polling lease moves, the new
 * holder reads what the old one spent instead of starting from zero (a key that is over its
 * limit is cut off by the CTA for the day). Counting in 10-minute buckets is conservative: a
 * bucket counts until its *end* is a day old, so the window is up to 10 minutes longer than
 * 24 h, never shorter. Checked and written in one immediate transaction per call (at most one
 * call every few seconds), so two processes can never both take the last call.
 */
export class SettingsCallLedger implements CallLedger {
  private readonly read;
  private readonly write;
  constructor(
    private readonly db: Database,
    private readonly key: string,
    private readonly log: Logger,
  ) {
    this.read = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
    this.write = db.prepare<[string, string, string]>(
      'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
  }

  private buckets(): Map<number, number> {
    const row = this.read.get(this.key);
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
    this.write.run(`${this.key}.damaged`, row.value, new Date().toISOString());
    this.write.run(this.key, '{}', new Date().toISOString());
    return new Map();
  }

  private countIn(buckets: Map<number, number>, at: number): number {
    let n = 0;
    for (const [start, count] of buckets) if (start + BUCKET_MS > at - DAY_MS) n += count;
    return n;
  }

  countDay(at: number): number {
    return this.countIn(this.buckets(), at);
  }

  take(at: number, limit: number): boolean {
    return this.db
      .transaction(() => {
        const buckets = this.buckets();
        if (this.countIn(buckets, at) >= limit) return false;
        const start = Math.floor(at / BUCKET_MS) * BUCKET_MS;
        buckets.set(start, (buckets.get(start) ?? 0) + 1);
        const keep: Record<string, number> = {};
        for (const [s, c] of buckets) if (s + BUCKET_MS > at - DAY_MS) keep[String(s)] = c;
        this.write.run(this.key, JSON.stringify(keep), new Date(at).toISOString());
        return true;
      })
      .immediate();
  }
}
