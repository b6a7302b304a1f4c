import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../contract';
import { openDatabase } from '../db/database';
import { AuditTrail } from '../audit/trail';
import { EventBus } from '../events/bus';
import { LifecycleLog } from '../lifecycle/log';
import { createLogger } from '../logger';
import { AlertStore, type NewAlert } from './store';

const log = createLogger('silent');
const storeOn = (db: ReturnType<typeof openDatabase>, bus: EventBus) => new AlertStore({ db, bus, lifecycle: new LifecycleLog(db, log), audit: new AuditTrail(db), log });

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
});
