import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { Alert } from '../../contract';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { newAlert } from '../../test/support/spine';
import { AuditTrail } from '../audit/trail';
import type { SqlDb } from '../db/sql';
import { EventBus } from '../events/bus';
import { LifecycleLog } from '../lifecycle/log';
import { createLogger } from '../logger';
import { AlertStore, type NewAlert } from './store';

const log = createLogger('silent');
const storeOn = (db: SqlDb, bus: EventBus) =>
  new AlertStore({ db, bus, lifecycle: new LifecycleLog(db, log), audit: new AuditTrail(db), log });
const count = async (db: SqlDb, q: string): Promise<number> =>
  Number((await sql<{ n: number }>`${sql.raw(q)}`.execute(db.as())).rows[0]!.n);

const input: NewAlert = newAlert({ snapshotPath: '/tmp/x.jpg', trackIds: [3, 4] });

describeOnBothDatabases('AlertStore', (open, dialect) => {
  it('persists before publishing, then updates and lists in delivery order', async () => {
    const db = await open();
    const bus = new EventBus();
    const store = storeOn(db, bus);
    const seen: string[] = [];
    const committed: Promise<void>[] = [];
    bus.on('alert:raised', (a: Alert) => {
      // Published only once it is committed: a fresh read finds it.
      committed.push(store.get(a.id).then((s) => expect(s?.alert.cameraId).toBe('cam-1')));
      seen.push(`raised:${a.id}`);
    });
    bus.on('alert:updated', (a: Alert) => seen.push(`updated:${a.id}:${a.endedAt ? 'ended' : 'open'}`));
    const a = await store.create(input);
    const b = await store.create({ ...input, kind: 'fight', snapshotPath: null });
    expect(a.alert.snapshotUrl).toBe(`/api/v1/alerts/${a.alert.id}/snapshot.jpg`);
    expect(b.alert.snapshotUrl).toBeNull();
    const ended = await store.update(a.alert.id, { endedAt: new Date('2026-01-01T00:00:00Z') });
    expect(ended.alert.endedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(ended.alert.detail).toEqual({ people: 6, capacity: 5 });
    const merged = await store.update(a.alert.id, { detail: (d) => ({ ...d, closedBy: 'zones changed' }) });
    expect(merged.alert.detail).toEqual({ people: 6, capacity: 5, closedBy: 'zones changed' });
    await Promise.all(committed);
    expect(seen).toEqual([`raised:${a.alert.id}`, `raised:${b.alert.id}`, `updated:${a.alert.id}:ended`, `updated:${a.alert.id}:ended`]);
    expect((await store.list()).map((s) => s.alert.id)).toEqual([b.alert.id, a.alert.id]);
    expect((await store.list({ afterSeq: a.seq })).map((s) => s.alert.id)).toEqual([b.alert.id]);
    expect((await store.getBySeq(b.seq))?.alert.id).toBe(b.alert.id);
  });

  it('commits the alert with its log event and audit record, and rolls all back together', async () => {
    const db = await open();
    const store = storeOn(db, new EventBus());
    const a = await store.create(input, { audit: (x) => ({ actor: 'test', action: 'alert.test', target: `alert:${x.id}` }) });
    expect(await count(db, `SELECT CAST(count(*) AS INTEGER) AS n FROM lifecycle_events WHERE kind = 'alert.raised'`)).toBe(1);
    expect(await count(db, `SELECT CAST(count(*) AS INTEGER) AS n FROM audit WHERE target = 'alert:${a.alert.id}'`)).toBe(1);
    // A write that fails inside the transaction (a hook throws) leaves no alert, no event, no audit.
    store.onRaisedInTx(() => Promise.reject(new Error('incident write failed')));
    await expect(store.create({ ...input, cameraId: 'cam-rollback' }, { audit: { action: 'alert.test' } })).rejects.toThrow(
      /incident write failed/,
    );
    expect(await count(db, `SELECT CAST(count(*) AS INTEGER) AS n FROM alerts WHERE camera_id = 'cam-rollback'`)).toBe(0);
    expect(await count(db, 'SELECT CAST(count(*) AS INTEGER) AS n FROM lifecycle_events')).toBe(1);
    expect(await count(db, 'SELECT CAST(count(*) AS INTEGER) AS n FROM audit')).toBe(1);
  });

  it('a failed write is retried with backoff until stored, with the clear that came meanwhile; health counts it', async () => {
    const db = await open();
    const bus = new EventBus();
    const store = storeOn(db, bus);
    const raised: string[] = [];
    bus.on('alert:raised', (a) => void raised.push(a.id));
    // A real database failure on insert (as a full disk would fail it), lifted after a while.
    if (dialect === 'sqlite')
      await sql`CREATE TRIGGER fail_insert BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`.execute(
        db.as(),
      );
    else {
      await sql`CREATE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'database or disk is full'; END $$`.execute(
        db.as(),
      );
      await sql`CREATE TRIGGER fail_insert BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION fail_insert()`.execute(db.as());
    }
    const r = store.raise(input);
    expect(await r.stored).toBeNull();
    expect(store.writeStatus()).toMatchObject({ pending: 1, failedAttempts: 1, lastError: 'database or disk is full' });
    // The rule clears before the alert is stored: the change waits behind the write.
    store.change(r.id, { endedAt: new Date('2026-01-01T00:00:01Z') });
    await new Promise((res) => setTimeout(res, 400));
    expect(store.writeStatus().pending).toBe(1);
    await sql`DROP TRIGGER fail_insert${sql.raw(dialect === 'postgres' ? ' ON alerts' : '')}`.execute(db.as());
    const deadline = Date.now() + 10_000;
    while (store.writeStatus().pending > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(store.writeStatus().pending).toBe(0);
    expect((await store.get(r.id))?.alert.endedAt).toBe('2026-01-01T00:00:01.000Z');
    expect(raised).toEqual([r.id]);
    const kinds = await db
      .as<{ lifecycle_events: { kind: string; alert_id: string; seq: number } }>()
      .selectFrom('lifecycle_events')
      .select('kind')
      .where('alert_id', '=', r.id)
      .orderBy('seq')
      .execute();
    expect(kinds.map((e) => e.kind)).toEqual(['alert.raised', 'alert.cleared']);
    await store.close();
  });
});
