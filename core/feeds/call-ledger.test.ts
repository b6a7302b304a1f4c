import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/database';
import { createLogger } from '../logger';
import { SettingsCallLedger } from './call-ledger';
import { CallBudget } from './planner';

const log = createLogger('silent');
const KEY = 'feeds.bus-tracker.calls';
const open: Array<{ db: Database; dir: string }> = [];

function database(dir = mkdtempSync(join(tmpdir(), 'sentinel-ledger-'))): { db: Database; dir: string } {
  const db = openDatabase(join(dir, 'sentinel.db'));
  open.push({ db, dir });
  return { db, dir };
}

afterEach(() => {
  for (const { db, dir } of open.splice(0)) {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('SettingsCallLedger', () => {
  it('is one budget for two processes on one database: the one that takes over continues the count', () => {
    const { dir, db } = database();
    let now = Date.UTC(2026, 11, 2, 12, 0, 0);
    const first = new CallBudget(5, () => now, new SettingsCallLedger(db, KEY, log));
    for (let i = 0; i < 3; i++) expect(first.tryTake()).toBe(true);
    // Another connection to the same file, as a replica taking over the feed-polling lease has.
    const other = database(dir).db;
    const second = new CallBudget(5, () => now, new SettingsCallLedger(other, KEY, log));
    expect(second.used).toBe(3);
    expect(second.tryTake()).toBe(true);
    expect(first.tryTake()).toBe(true);
    expect(second.tryTake()).toBe(false);
    expect(first.tryTake()).toBe(false);
    // A day and one bucket later the window has rolled past every call.
    now += 86_400_000 + 600_000;
    expect(second.used).toBe(0);
    expect(second.tryTake()).toBe(true);
  });

  it('counts a call until its 10-minute bucket is a day old: never a shorter window than 24 h', () => {
    const { db } = database();
    const t0 = Date.UTC(2026, 11, 2, 12, 9, 0); // bucket 12:00-12:10
    let now = t0;
    const budget = new CallBudget(1, () => now, new SettingsCallLedger(db, KEY, log));
    expect(budget.tryTake()).toBe(true);
    now = t0 + 86_400_000 + 30_000; // 12:09:30 next day: the bucket ends 12:10, still counted
    expect(budget.tryTake()).toBe(false);
    now = t0 + 86_400_000 + 61_000; // 12:10:01: the whole bucket is over a day old
    expect(budget.tryTake()).toBe(true);
  });

  it('a damaged saved count does not stop polling and is kept beside the new one', () => {
    const { db } = database();
    db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)').run(KEY, '{"x": "not a count"', 'then');
    const budget = new CallBudget(2, Date.now, new SettingsCallLedger(db, KEY, log));
    expect(budget.tryTake()).toBe(true);
    expect(budget.used).toBe(1);
    const kept = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(`${KEY}.damaged`);
    expect(kept?.value).toBe('{"x": "not a count"');
  });
});
