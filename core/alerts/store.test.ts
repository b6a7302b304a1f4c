import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../contract';
import { openDatabase } from '../db/database';
import { sqliteSql } from '../db/sql';
import { AuditTrail } from '../audit/trail';
import { EventBus } from '../events/bus';
import { LifecycleLog } from '../lifecycle/log';
import { createLogger } from '../logger';
import { AlertStore, type NewAlert } from './store';

const log = createLogger('silent');
const storeOn = (db: ReturnType<typeof openDatabase>, bus: EventBus) =>
  new AlertStore({ db, bus, lifecycle: new LifecycleLog(db, log), audit: new AuditTrail(sqliteSql(db)), log });

const input: NewAlert = {
  kind: 'crowding',
  cameraId: 'cam-1',
  cameraName: 'Clark/Lake platform',
  zoneId: 'z1',
  zoneName: 'Platform',
  score: 1.2,
  snapshotPath: '/tmp/x.jpg',
  trackIds: [3, 4],
  detail: { people: 6, capacity: 5 },
  scope: { placement: null, district: '1', lines: ['Blue'], routes: [] },
};

describe('AlertStore', () => {
  it('persists before publishing, then updates and lists in delivery order', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'alerts-')), 'db.sqlite');
    const db = openDatabase(file);
    const bus = new EventBus();
    const store = storeOn(db, bus);
    const seen: string[] = [];
    bus.on('alert:raised', (a: Alert) => {
      // Published only once it is committed: a fresh read finds it.
      expect(store.get(a.id)?.alert.cameraId).toBe('cam-1');
      seen.push(`raised:${a.id}`);
    });
    bus.on('alert:updated', (a: Alert) => seen.push(`updated:${a.id}:${a.endedAt ? 'ended' : 'open'}`));
    const a = store.create(input);
    const b = store.create({ ...input, kind: 'fight', snapshotPath: null });
    expect(a.alert.snapshotUrl).toBe(`/api/v1/alerts/${a.alert.id}/snapshot.jpg`);
    expect(b.alert.snapshotUrl).toBeNull();
    const ended = store.update(a.alert.id, { endedAt: new Date('2026-01-01T00:00:00Z') });
    expect(ended.alert.endedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(ended.alert.detail).toEqual({ people: 6, capacity: 5 });
    expect(seen).toEqual([`raised:${a.alert.id}`, `raised:${b.alert.id}`, `updated:${a.alert.id}:ended`]);
    expect(store.list().map((s) => s.alert.id)).toEqual([b.alert.id, a.alert.id]);
    expect(store.list({ afterSeq: a.seq }).map((s) => s.alert.id)).toEqual([b.alert.id]);
    db.close();
    // And it is still there after reopening the file.
    const again = storeOn(openDatabase(file), new EventBus());
    expect(again.list().length).toBe(2);
  });

  it('commits the alert with its log event and audit record, and rolls all back together', () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'alerts-')), 'db.sqlite'));
    const store = storeOn(db, new EventBus());
    const a = store.create(input, { audit: (x) => ({ actor: 'test', action: 'alert.test', target: `alert:${x.id}` }) });
    expect(db.prepare('SELECT kind FROM lifecycle_events WHERE alert_id = ?').all(a.alert.id)).toEqual([{ kind: 'alert.raised' }]);
    expect(db.prepare('SELECT count(*) AS n FROM audit WHERE target = ?').get(`alert:${a.alert.id}`)).toEqual({ n: 1 });
    // A write that fails inside the transaction (a hook throws) leaves no alert, no event, no audit.
    store.onRaisedInTx(() => {
      throw new Error('incident write failed');
    });
    expect(() => store.create({ ...input, cameraId: 'cam-rollback' }, { audit: { action: 'alert.test' } })).toThrow(
      /incident write failed/,
    );
    expect(db.prepare("SELECT count(*) AS n FROM alerts WHERE camera_id = 'cam-rollback'").get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM lifecycle_events').get()).toEqual({ n: 1 });
    expect(db.prepare('SELECT count(*) AS n FROM audit').get()).toEqual({ n: 1 });
    db.close();
  });

  it('a failed write is retried with backoff until stored, with the clear that came meanwhile; health counts it', async () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'alerts-')), 'db.sqlite'));
    const bus = new EventBus();
    const store = storeOn(db, bus);
    const raised: string[] = [];
    bus.on('alert:raised', (a) => void raised.push(a.id));
    // A real SQLite failure on insert (as a full disk would fail it), lifted after a while.
    db.exec("CREATE TEMP TRIGGER fail_insert BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
    const r = store.raise(input);
    expect(r.stored).toBeNull();
    expect(store.writeStatus()).toMatchObject({ pending: 1, failedAttempts: 1, lastError: 'database or disk is full' });
    // The rule clears before the alert is stored: the change waits behind the write.
    store.change(r.id, { endedAt: new Date('2026-01-01T00:00:01Z') });
    await new Promise((res) => setTimeout(res, 400));
    expect(store.writeStatus().pending).toBe(1);
    db.exec('DROP TRIGGER fail_insert');
    const deadline = Date.now() + 10_000;
    while (store.writeStatus().pending > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(store.writeStatus().pending).toBe(0);
    expect(store.get(r.id)?.alert.endedAt).toBe('2026-01-01T00:00:01.000Z');
    expect(raised).toEqual([r.id]);
    expect(
      (db.prepare('SELECT kind FROM lifecycle_events WHERE alert_id = ? ORDER BY seq').all(r.id) as { kind: string }[]).map((e) => e.kind),
    ).toEqual(['alert.raised', 'alert.cleared']);
    store.close();
    db.close();
  });
});
