import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { AuditTrail, canonicalJson, GENESIS_HASH } from './trail';

/** What an intruder with write access does first: lift the append-only guard (the statement differs per dialect). */
async function dropTrigger(db: SqlDb, name: string, table: string): Promise<void> {
  if (db.dialect === 'sqlite') await sql`DROP TRIGGER IF EXISTS ${sql.raw(name)}`.execute(db.as());
  else await sql`DROP TRIGGER IF EXISTS ${sql.raw(name)} ON ${sql.raw(table)}`.execute(db.as());
}

describe('canonical JSON', () => {
  it('sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":0,"z":1}]},"b":1}');
  });
});

describeOnBothDatabases('audit trail', (open) => {
  it('chains each record to the previous one and verifies a clean chain', async () => {
    const trail = new AuditTrail(await open());
    const heard: number[] = [];
    trail.onAppend((r) => heard.push(r.seq));
    const a = await trail.append({ action: 'auth.login', actor: 'ada', detail: { ok: true } });
    const b = await trail.append({ action: 'video.view', actor: 'ada', target: 'camera:1' });
    expect(a.prevHash).toBe(GENESIS_HASH);
    expect(b.prevHash).toBe(a.hash);
    expect(heard).toEqual([1, 2]);
    expect(await trail.head()).toEqual({ seq: 2, hash: b.hash });
    expect(await trail.hashAt(1)).toBe(a.hash);
    expect(await trail.hashAt(3)).toBeNull();
    expect(await trail.verify()).toEqual({ ok: true, records: 2, firstBroken: null, reason: null });
  });

  it('appends inside a caller transaction: kept when it commits, gone when it rolls back, heard only when published', async () => {
    const db = await open();
    const trail = new AuditTrail(db);
    const heard: string[] = [];
    trail.onAppend((r) => heard.push(r.action));
    const kept = await db.transaction((trx) => trail.append({ action: 'alert.ack', target: 'alert:1' }, trx), { locks: ['log', 'audit'] });
    expect(heard).toEqual([]);
    trail.published(kept);
    expect(heard).toEqual(['alert.ack']);
    await expect(
      db.transaction(async (trx) => {
        await trail.append({ action: 'alert.escalate' }, trx);
        throw new Error('the rest of the change failed');
      }),
    ).rejects.toThrow('the rest of the change failed');
    expect((await trail.list()).map((r) => r.action)).toEqual(['alert.ack']);
    expect((await trail.append({ action: 'auth.logout' })).seq).toBe(2);
    expect((await trail.verify()).ok).toBe(true);
  });

  it('pages newest first with filters: actor in any case, an action or a family of them, a time range', async () => {
    const trail = new AuditTrail(await open());
    for (let i = 0; i < 5; i++) await trail.append({ action: 'auth.login', actor: i % 2 ? 'Ada' : 'bob' });
    await trail.append({ action: 'auth_x.weird', actor: 'ada' });
    await trail.append({ action: 'video.view', actor: 'ada', target: 'camera:2' });
    const all = await trail.page({ limit: 3 });
    expect(all.records.map((r) => r.seq)).toEqual([7, 6, 5]);
    expect(all).toMatchObject({ total: 7, nextBeforeSeq: 5 });
    expect((await trail.page({ limit: 3, beforeSeq: 5 })).records.map((r) => r.seq)).toEqual([4, 3, 2]);
    expect((await trail.page({ actor: 'ADA' })).total).toBe(4);
    expect((await trail.page({ action: 'auth.' })).total).toBe(5); // '_' in a prefix is literal: auth_x is not auth.
    expect((await trail.page({ action: 'auth_' })).total).toBe(0);
    expect((await trail.page({ action: 'video.view' })).records.map((r) => r.target)).toEqual(['camera:2']);
    const at = (await trail.list())[0]!.at;
    expect((await trail.page({ from: new Date(Date.parse(at) + 1000).toISOString() })).total).toBe(0);
    expect((await trail.page({ to: new Date(Date.parse(at) + 1000).toISOString() })).total).toBe(7);
    expect((await trail.excerpt(['camera:2', 'none'])).map((r) => r.action)).toEqual(['video.view']);
    expect(await trail.excerpt([])).toEqual([]);
  });

  it('refuses UPDATE and DELETE through SQL', async () => {
    const db = await open();
    const trail = new AuditTrail(db);
    await trail.append({ action: 'auth.login' });
    await expect(sql`UPDATE audit SET actor = 'x'`.execute(db.as())).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit`.execute(db.as())).rejects.toThrow(/append-only/);
  });

  it('names the first broken record when a row is edited or deleted behind its back', async () => {
    const db = await open();
    const trail = new AuditTrail(db);
    for (let i = 0; i < 5; i++) await trail.append({ action: 'incident.update', detail: { i } });
    await dropTrigger(db, 'audit_no_update', 'audit');
    await dropTrigger(db, 'audit_no_delete', 'audit');
    await sql`UPDATE audit SET detail = ${'{"i":99}'} WHERE seq = 3`.execute(db.as());
    expect(await trail.verify()).toMatchObject({ ok: false, firstBroken: 3 });
    await sql`UPDATE audit SET detail = ${'{"i":2}'} WHERE seq = 3`.execute(db.as());
    expect((await trail.verify()).ok).toBe(true);
    await sql`DELETE FROM audit WHERE seq = 2`.execute(db.as());
    expect(await trail.verify()).toMatchObject({ ok: false, firstBroken: 3 });
  });
});
