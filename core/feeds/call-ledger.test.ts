import { afterEach, expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { openTwinSql } from '../../test/support/twin-sql';
import { createLogger } from '../logger';
import { SettingsCallLedger } from './call-ledger';
import { CallBudget } from './planner';
import type { FeedsTables } from './tables';

const log = createLogger('silent');
const KEY = 'feeds.bus-tracker.calls';

describeOnBothDatabases('SettingsCallLedger', (open, dialect) => {
  const twins: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const t of twins.splice(0)) await t.close();
  });
  const shared = async () => {
    const t = await openTwinSql(dialect);
    twins.push(t);
    return t;
  };

  it('is one budget for two processes on one database: the one that takes over continues the count', async () => {
    const { a, b } = await shared();
    let now = Date.UTC(2026, 11, 2, 12, 0, 0);
    const first = new CallBudget(5, () => now, new SettingsCallLedger(a, KEY, log));
    for (let i = 0; i < 3; i++) expect(await first.tryTake()).toBe(true);
    // Another connection to the same database, as a replica taking over the feed-polling lease has.
    const second = new CallBudget(5, () => now, new SettingsCallLedger(b, KEY, log));
    expect(await second.used()).toBe(3);
    expect(await second.tryTake()).toBe(true);
    expect(await first.tryTake()).toBe(true);
    expect(await second.tryTake()).toBe(false);
    expect(await first.tryTake()).toBe(false);
    // A day and one bucket later the window has rolled past every call.
    now += 86_400_000 + 600_000;
    expect(await second.used()).toBe(0);
    expect(await second.tryTake()).toBe(true);
  });

  it('two replicas taking at once never spend more than the budget, from the very first call', async () => {
    const { a, b } = await shared();
    const now = Date.UTC(2026, 11, 2, 12, 0, 0);
    // Postgres: two pools, their transactions truly concurrent. SQLite: two handles in one process
    // cannot hold overlapping transactions (better-sqlite3 waits for the file lock synchronously,
    // blocking the event loop the holder needs to commit), so the takes race on one handle, queued
    // by its connection, and the other handle reads the count; across processes the file lock
    // serialises the immediate transactions.
    const ledgers =
      dialect === 'postgres'
        ? [new SettingsCallLedger(a, KEY, log), new SettingsCallLedger(b, KEY, log)]
        : [new SettingsCallLedger(a, KEY, log)];
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => ledgers[i % ledgers.length]!.take(now + i, 12)));
    expect(got.filter(Boolean)).toHaveLength(12);
    expect(await new SettingsCallLedger(b, KEY, log).countDay(now + 100)).toBe(12);
  });

  it('counts a call until its 10-minute bucket is a day old: never a shorter window than 24 h', async () => {
    const db = await open();
    const t0 = Date.UTC(2026, 11, 2, 12, 9, 0); // bucket 12:00-12:10
    let now = t0;
    const budget = new CallBudget(1, () => now, new SettingsCallLedger(db, KEY, log));
    expect(await budget.tryTake()).toBe(true);
    now = t0 + 86_400_000 + 30_000; // 12:09:30 next day: the bucket ends 12:10, still counted
    expect(await budget.tryTake()).toBe(false);
    now = t0 + 86_400_000 + 61_000; // 12:10:01: the whole bucket is over a day old
    expect(await budget.tryTake()).toBe(true);
  });

  it('a damaged saved count does not stop polling and is kept beside the new one', async () => {
    const db = await open();
    await db.as<FeedsTables>().insertInto('settings').values({ key: KEY, value: '{"x": "not a count"', updated_at: 'then' }).execute();
    const budget = new CallBudget(2, Date.now, new SettingsCallLedger(db, KEY, log));
    expect(await budget.tryTake()).toBe(true);
    expect(await budget.used()).toBe(1);
    const kept = await db.as<FeedsTables>().selectFrom('settings').select('value').where('key', '=', `${KEY}.damaged`).executeTakeFirst();
    expect(kept?.value).toBe('{"x": "not a count"');
  });
});
