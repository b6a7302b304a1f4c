import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { loadOrCreateSigningKey } from '../evidence/keys';
import { createLogger } from '../logger';
import { AuditCheckpointer, checkpointDigest, listCheckpoints, parseCheckpointLines, verifyAnchored } from './checkpoints';
import type { AuditTables } from './tables';
import { AuditTrail, GENESIS_HASH, recordHash } from './trail';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-checkpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = loadOrCreateSigningKey(join(dir, 'install'), null);
const anchorKey = { publicKey: key.publicKey, fingerprint: key.fingerprint };
const log = createLogger('silent');

async function dropTrigger(db: SqlDb, name: string, table: string): Promise<void> {
  if (db.dialect === 'sqlite') await sql`DROP TRIGGER IF EXISTS ${sql.raw(name)}`.execute(db.as());
  else await sql`DROP TRIGGER IF EXISTS ${sql.raw(name)} ON ${sql.raw(table)}`.execute(db.as());
}

/** What an intruder with write access does: replace every record with a consistent chain of their own. */
async function rewriteChain(db: SqlDb, edit: (action: string, seq: number) => string): Promise<void> {
  const k = db.as<AuditTables>();
  const rows = await k.selectFrom('audit').selectAll().orderBy('seq').execute();
  await dropTrigger(db, 'audit_no_delete', 'audit');
  await k.deleteFrom('audit').execute();
  let prev = GENESIS_HASH;
  for (const r of rows) {
    const forged = { ...r, action: edit(r.action, r.seq), prev_hash: prev };
    forged.hash = recordHash(forged);
    await k.insertInto('audit').values(forged).execute();
    prev = forged.hash;
  }
}

describeOnBothDatabases('signed audit checkpoints', (open) => {
  async function fresh(everyRecords = 5, maxAgeMs = 3_600_000) {
    const db = await open();
    const trail = new AuditTrail(db);
    const cp = new AuditCheckpointer(db, trail, () => key, { everyRecords, maxAgeMs }, log);
    // Awaited by the tests (the core does not wait): each append's checkpoint is in before the next append.
    const running: Promise<unknown>[] = [];
    trail.onAppend((r) => void running.push(cp.afterAppend(r)));
    const settled = async () => void (await Promise.all(running.splice(0)));
    const append = async (e: Parameters<AuditTrail['append']>[0]) => {
      const r = await trail.append(e);
      await settled();
      return r;
    };
    return { db, trail, cp, append };
  }

  it('signs the head every N records, links each checkpoint to the last, and verifies', async () => {
    const { db, trail, append } = await fresh(5);
    for (let i = 0; i < 12; i++) await append({ action: 'incident.update', detail: { i } });
    const cps = await listCheckpoints(db);
    expect(cps.map((c) => [c.id, c.seq])).toEqual([
      [1, 5],
      [2, 10],
    ]);
    expect(cps[1]!.prev).toBe(checkpointDigest(cps[0]!));
    expect(cps[0]!.keyFingerprint).toBe(key.fingerprint);
    expect(await verifyAnchored(db, trail, anchorKey)).toMatchObject({ ok: true, records: 12, checkpoints: 2, anchoredSeq: 10 });
  });

  it('signs at least every maxAge while the trail is quiet, and on a forced call only when the head moved', async () => {
    const { db, cp, append } = await fresh(100, 60_000);
    const t0 = Date.parse((await append({ action: 'auth.login' })).at);
    expect(await listCheckpoints(db)).toEqual([]);
    expect(await cp.maybeCheckpoint(new Date(t0 + 30_000))).toBeNull();
    // A new trail's first checkpoint comes maxAge after its first record; then maxAge after the last checkpoint.
    expect((await cp.maybeCheckpoint(new Date(t0 + 61_000)))?.seq).toBe(1);
    expect(await cp.maybeCheckpoint(new Date(t0 + 100_000))).toBeNull();
    expect((await cp.maybeCheckpoint(new Date(t0 + 122_000)))?.seq).toBe(1);
    expect(await cp.maybeCheckpoint(new Date(t0 + 123_000), true)).toBeNull();
    await append({ action: 'auth.logout' });
    expect((await cp.maybeCheckpoint(new Date(t0 + 124_000), true))?.seq).toBe(2);
  });

  it('an append looks under the lock only when a checkpoint may be due, and never late when another replica checkpointed', async () => {
    const db = await open();
    // Two replicas' trails and checkpointers on one database, appending in turn.
    const replicas = [0, 1].map(() => {
      const trail = new AuditTrail(db);
      const cp = new AuditCheckpointer(db, trail, () => key, { everyRecords: 5, maxAgeMs: 3_600_000 }, log);
      return { trail, cp, looks: vi.spyOn(cp, 'maybeCheckpoint') };
    });
    for (let i = 0; i < 20; i++) {
      const { trail, cp } = replicas[i % 2]!;
      await cp.afterAppend(await trail.append({ action: 'incident.update', detail: { i } }));
    }
    expect((await listCheckpoints(db)).map((c) => c.seq)).toEqual([5, 10, 15, 20]);
    const looks = replicas.reduce((n, r) => n + r.looks.mock.calls.length, 0);
    // Each replica looks once to learn the anchor, then when its (possibly stale) anchor says due:
    // far fewer than the 20 appends, and at least the 4 checkpoints.
    expect(looks).toBeGreaterThanOrEqual(4);
    expect(looks).toBeLessThanOrEqual(10);
    expect(await verifyAnchored(db, replicas[0]!.trail, anchorKey)).toMatchObject({ ok: true, records: 20, checkpoints: 4 });
  });

  it('catches a chain rewritten consistently, naming the records the last good checkpoint no longer covers', async () => {
    const { db, trail, append } = await fresh(5);
    for (let i = 0; i < 12; i++) await append({ action: i === 7 ? 'auth.login_failed' : 'incident.update', actor: 'olly' });
    await rewriteChain(db, (a) => (a === 'auth.login_failed' ? 'auth.login' : a));
    expect((await trail.verify()).ok).toBe(true); // the chain alone is fooled
    expect(await verifyAnchored(db, trail, anchorKey)).toMatchObject({
      ok: false,
      firstBroken: 6,
      badCheckpoint: 2,
      anchoredSeq: 5,
      reason: expect.stringMatching(/^record 10 does not match checkpoint 2 .*records 6\.\.10 were rewritten/),
    });
  });

  it('catches a checkpoint edited, forged with another key, or deleted from the middle', async () => {
    const { db, trail, append } = await fresh(2);
    for (let i = 0; i < 6; i++) await append({ action: 'video.view' });
    await dropTrigger(db, 'audit_checkpoints_no_update', 'audit_checkpoints');
    await dropTrigger(db, 'audit_checkpoints_no_delete', 'audit_checkpoints');
    const cps = db.as<AuditTables>();
    const original = await cps.selectFrom('audit_checkpoints').select('head_hash').where('id', '=', 2).executeTakeFirstOrThrow();
    await cps
      .updateTable('audit_checkpoints')
      .set({ head_hash: 'f'.repeat(64) })
      .where('id', '=', 2)
      .execute();
    expect(await verifyAnchored(db, trail, anchorKey)).toMatchObject({
      ok: false,
      badCheckpoint: 2,
      reason: expect.stringMatching(/signature does not verify/),
    });
    await cps.updateTable('audit_checkpoints').set({ head_hash: original.head_hash }).where('id', '=', 2).execute();
    const other = loadOrCreateSigningKey(join(dir, 'other'), null);
    expect(await verifyAnchored(db, trail, { publicKey: other.publicKey, fingerprint: other.fingerprint })).toMatchObject({
      ok: false,
      badCheckpoint: 1,
      reason: expect.stringMatching(/signed by key .* not this installation's/),
    });
    await cps.deleteFrom('audit_checkpoints').where('id', '=', 2).execute();
    expect(await verifyAnchored(db, trail, anchorKey)).toMatchObject({
      ok: false,
      badCheckpoint: 2,
      reason: expect.stringMatching(/checkpoint 2 is missing/),
    });
    expect(await verifyAnchored(db, trail, null)).toMatchObject({ ok: false, reason: expect.stringMatching(/signing key is missing/) });
  });

  it('against an exported anchor: deleted checkpoints, deleted records and a rewrite after deleting every checkpoint', async () => {
    const { db, trail, append } = await fresh(3);
    for (let i = 0; i < 10; i++) await append({ action: 'clip.play', actor: 'rita' });
    const exported = (await listCheckpoints(db)).map((c) => JSON.stringify(c)).join('\n');
    const anchor = { checkpoints: parseCheckpointLines(exported, 'notary.jsonl'), source: 'notary.jsonl' };
    expect(await verifyAnchored(db, trail, anchorKey, anchor)).toMatchObject({ ok: true, checkpoints: 6, anchoredSeq: 9 });

    await dropTrigger(db, 'audit_checkpoints_no_delete', 'audit_checkpoints');
    await db.as<AuditTables>().deleteFrom('audit_checkpoints').where('id', '=', 3).execute(); // the newest: the database alone cannot tell
    expect((await verifyAnchored(db, trail, anchorKey)).ok).toBe(true);
    expect(await verifyAnchored(db, trail, anchorKey, anchor)).toMatchObject({
      ok: false,
      badCheckpoint: 3,
      reason: expect.stringMatching(/checkpoint 3 \(record 9, .*\) from notary.jsonl is missing from the database/),
    });

    await db.as<AuditTables>().deleteFrom('audit_checkpoints').execute();
    await rewriteChain(db, (a, seq) => (seq === 2 ? 'clip.export' : a));
    expect(await verifyAnchored(db, trail, anchorKey)).toMatchObject({ ok: true, checkpoints: 0 });
    expect(await verifyAnchored(db, trail, anchorKey, anchor)).toMatchObject({ ok: false, firstBroken: 1, badCheckpoint: 1 });

    const fresher = await fresh(3);
    for (let i = 0; i < 10; i++) await fresher.append({ action: 'clip.play' });
    await dropTrigger(fresher.db, 'audit_no_delete', 'audit');
    await fresher.db.as<AuditTables>().deleteFrom('audit').where('seq', '>', 7).execute();
    const anchor2 = { checkpoints: await listCheckpoints(fresher.db), source: 'notary.jsonl' };
    expect(await verifyAnchored(fresher.db, fresher.trail, anchorKey, anchor2)).toMatchObject({
      ok: false,
      firstBroken: 8,
      badCheckpoint: 3,
      reason: expect.stringMatching(/vouches for record 9, but the trail ends at record 7: records 8\.\.9 were deleted/),
    });
  });

  it('names the line of a bad anchor file', async () => {
    expect(() => parseCheckpointLines('{"id":1}\n', 'a.jsonl')).toThrow(/a.jsonl line 1: seq/);
    expect(() => parseCheckpointLines('\nnot json', 'a.jsonl')).toThrow(/a.jsonl line 2: not JSON/);
    expect(() => parseCheckpointLines('\n\n', 'a.jsonl')).toThrow(/holds no checkpoints/);
  });

  it('a key that cannot be loaded leaves the trail recording, unanchored', async () => {
    const db = await open();
    const trail = new AuditTrail(db);
    const cp = new AuditCheckpointer(
      db,
      trail,
      () => {
        throw new Error('key file unreadable');
      },
      { everyRecords: 1, maxAgeMs: 60_000 },
      log,
    );
    expect((await trail.append({ action: 'auth.login' })).seq).toBe(1);
    expect(await cp.maybeCheckpoint()).toBeNull();
    expect(await listCheckpoints(db)).toEqual([]);
  });
});
