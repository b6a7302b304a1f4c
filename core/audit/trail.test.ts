import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../db/database';
import { MIGRATIONS } from '../db/migrations';
import { AuditTrail, canonicalJson, GENESIS_HASH } from './trail';

function fresh(): { db: BetterSqlite3.Database; trail: AuditTrail } {
  const db = new BetterSqlite3(':memory:');
  migrate(db, MIGRATIONS);
  return { db, trail: new AuditTrail(db) };
}

describe('audit trail', () => {
  it('canonical JSON sorts keys at every level', async () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":0,"z":1}]},"b":1}');
  });

  it('chains each record to the previous one and verifies a clean chain', async () => {
    const { trail } = fresh();
    const a = await trail.append({ action: 'auth.login', actor: 'ada', detail: { ok: true } });
    const b = await trail.append({ action: 'video.view', actor: 'ada', target: 'camera:1' });
    expect(a.prevHash).toBe(GENESIS_HASH);
    expect(b.prevHash).toBe(a.hash);
    expect(trail.verify()).toEqual({ ok: true, records: 2, firstBroken: null, reason: null });
  });

  it('refuses UPDATE and DELETE through SQL', async () => {
    const { db, trail } = fresh();
    await trail.append({ action: 'auth.login' });
    expect(() => db.prepare("UPDATE audit SET actor = 'x'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
  });

  it('names the first broken record when a row is edited or deleted behind its back', async () => {
    const { db, trail } = fresh();
    for (let i = 0; i < 5; i++) await trail.append({ action: 'incident.update', detail: { i } });
    db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete');
    db.prepare('UPDATE audit SET detail = ? WHERE seq = 3').run('{"i":99}');
    expect(trail.verify()).toMatchObject({ ok: false, firstBroken: 3 });
    db.prepare('UPDATE audit SET detail = ? WHERE seq = 3').run('{"i":2}');
    expect(trail.verify().ok).toBe(true);
    db.prepare('DELETE FROM audit WHERE seq = 2').run();
    expect(trail.verify()).toMatchObject({ ok: false, firstBroken: 3 });
  });
});
