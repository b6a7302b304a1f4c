import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../db/database';
import { MIGRATIONS } from '../db/migrations';
import { loadOrCreateSigningKey } from '../evidence/keys';
import { createLogger } from '../logger';
import { AuditCheckpointer, checkpointDigest, listCheckpoints, parseCheckpointLines, verifyAnchored } from './checkpoints';
import { AuditTrail, GENESIS_HASH, recordHash, type AuditRow } from './trail';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-checkpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = loadOrCreateSigningKey(join(dir, 'install'), null);
const anchorKey = { publicKey: key.publicKey, fingerprint: key.fingerprint };
const log = createLogger('silent');

function fresh(everyRecords = 5, maxAgeMs = 3_600_000) {
  const db = new BetterSqlite3(':memory:');
  migrate(db, MIGRATIONS);
  const trail = new AuditTrail(db);
  const cp = new AuditCheckpointer(db, trail, () => key, { everyRecords, maxAgeMs }, log);
  trail.onAppend(() => void cp.maybeCheckpoint());
  return { db, trail, cp };
}

/** What an intruder with write access does: replace every record with a consistent chain of their own. */
function rewriteChain(db: BetterSqlite3.Database, edit: (action: string, seq: number) => string): void {
  const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as AuditRow[];
  db.exec('DROP TRIGGER IF EXISTS audit_no_delete; DELETE FROM audit');
  const put = db.prepare(
    'INSERT INTO audit (seq, at, actor_id, actor, action, target, detail, ip, prev_hash, hash) VALUES (@seq, @at, @actor_id, @actor, @action, @target, @detail, @ip, @prev_hash, @hash)',
  );
  let prev = GENESIS_HASH;
  for (const r of rows) {
    const forged = { ...r, action: edit(r.action, r.seq), prev_hash: prev };
    forged.hash = recordHash(forged);
    put.run(forged);
    prev = forged.hash;
  }
}

describe('signed audit checkpoints', () => {
  it('signs the head every N records, links each checkpoint to the last, and verifies', async () => {
    const { db, trail } = fresh(5);
    for (let i = 0; i < 12; i++) await trail.append({ action: 'incident.update', detail: { i } });
    const cps = listCheckpoints(db);
    expect(cps.map((c) => [c.id, c.seq])).toEqual([
      [1, 5],
      [2, 10],
    ]);
    expect(cps[1]!.prev).toBe(checkpointDigest(cps[0]!));
    expect(cps[0]!.keyFingerprint).toBe(key.fingerprint);
    expect(verifyAnchored(db, trail, anchorKey)).toMatchObject({ ok: true, records: 12, checkpoints: 2, anchoredSeq: 10 });
  });

  it('signs at least every maxAge while the trail is quiet, and on a forced call only when the head moved', async () => {
    const { db, trail, cp } = fresh(100, 60_000);
    const t0 = Date.parse((await trail.append({ action: 'auth.login' })).at);
    expect(listCheckpoints(db)).toEqual([]);
    expect(cp.maybeCheckpoint(new Date(t0 + 30_000))).toBeNull();
    // A new trail's first checkpoint comes maxAge after its first record; then maxAge after the last checkpoint.
    expect(cp.maybeCheckpoint(new Date(t0 + 61_000))?.seq).toBe(1);
    expect(cp.maybeCheckpoint(new Date(t0 + 100_000))).toBeNull();
    expect(cp.maybeCheckpoint(new Date(t0 + 122_000))?.seq).toBe(1);
    expect(cp.maybeCheckpoint(new Date(t0 + 123_000), true)).toBeNull();
    await trail.append({ action: 'auth.logout' });
    expect(cp.maybeCheckpoint(new Date(t0 + 124_000), true)?.seq).toBe(2);
  });

  it('catches a chain rewritten consistently, naming the records the last good checkpoint no longer covers', async () => {
    const { db, trail } = fresh(5);
    for (let i = 0; i < 12; i++) await trail.append({ action: i === 7 ? 'auth.login_failed' : 'incident.update', actor: 'olly' });
    rewriteChain(db, (a) => (a === 'auth.login_failed' ? 'auth.login' : a));
    expect(trail.verify().ok).toBe(true); // the chain alone is fooled
    expect(verifyAnchored(db, trail, anchorKey)).toMatchObject({
      ok: false,
      firstBroken: 6,
      badCheckpoint: 2,
      anchoredSeq: 5,
      reason: expect.stringMatching(/^record 10 does not match checkpoint 2 .*records 6\.\.10 were rewritten/),
    });
  });

  it('catches a checkpoint edited, forged with another key, or deleted from the middle', async () => {
    const { db, trail } = fresh(2);
    for (let i = 0; i < 6; i++) await trail.append({ action: 'video.view' });
    db.exec('DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete');
    const original = db.prepare('SELECT head_hash FROM audit_checkpoints WHERE id = 2').get() as { head_hash: string };
    db.prepare('UPDATE audit_checkpoints SET head_hash = ? WHERE id = 2').run('f'.repeat(64));
    expect(verifyAnchored(db, trail, anchorKey)).toMatchObject({
      ok: false,
      badCheckpoint: 2,
      reason: expect.stringMatching(/signature does not verify/),
    });
    db.prepare('UPDATE audit_checkpoints SET head_hash = ? WHERE id = 2').run(original.head_hash);
    const other = loadOrCreateSigningKey(join(dir, 'other'), null);
    expect(verifyAnchored(db, trail, { publicKey: other.publicKey, fingerprint: other.fingerprint })).toMatchObject({
      ok: false,
      badCheckpoint: 1,
      reason: expect.stringMatching(/signed by key .* not this installation's/),
    });
    db.prepare('DELETE FROM audit_checkpoints WHERE id = 2').run();
    expect(verifyAnchored(db, trail, anchorKey)).toMatchObject({
      ok: false,
      badCheckpoint: 2,
      reason: expect.stringMatching(/checkpoint 2 is missing/),
    });
    expect(verifyAnchored(db, trail, null)).toMatchObject({ ok: false, reason: expect.stringMatching(/signing key is missing/) });
  });

  it('against an exported anchor: deleted checkpoints, deleted records and a rewrite after deleting every checkpoint', async () => {
    const { db, trail } = fresh(3);
    for (let i = 0; i < 10; i++) await trail.append({ action: 'clip.play', actor: 'rita' });
    const exported = listCheckpoints(db)
      .map((c) => JSON.stringify(c))
      .join('\n');
    const anchor = { checkpoints: parseCheckpointLines(exported, 'notary.jsonl'), source: 'notary.jsonl' };
    expect(verifyAnchored(db, trail, anchorKey, anchor)).toMatchObject({ ok: true, checkpoints: 6, anchoredSeq: 9 });

    db.exec('DROP TRIGGER audit_checkpoints_no_delete');
    db.prepare('DELETE FROM audit_checkpoints WHERE id = 3').run(); // the newest: the database alone cannot tell
    expect(verifyAnchored(db, trail, anchorKey).ok).toBe(true);
    expect(verifyAnchored(db, trail, anchorKey, anchor)).toMatchObject({
      ok: false,
      badCheckpoint: 3,
      reason: expect.stringMatching(/checkpoint 3 \(record 9, .*\) from notary.jsonl is missing from the database/),
    });

    db.prepare('DELETE FROM audit_checkpoints').run();
    rewriteChain(db, (a, seq) => (seq === 2 ? 'clip.export' : a));
    expect(verifyAnchored(db, trail, anchorKey)).toMatchObject({ ok: true, checkpoints: 0 });
    expect(verifyAnchored(db, trail, anchorKey, anchor)).toMatchObject({ ok: false, firstBroken: 1, badCheckpoint: 1 });

    const fresher = fresh(3);
    for (let i = 0; i < 10; i++) await fresher.trail.append({ action: 'clip.play' });
    fresher.db.exec('DROP TRIGGER audit_no_delete');
    fresher.db.prepare('DELETE FROM audit WHERE seq > 7').run();
    const anchor2 = { checkpoints: listCheckpoints(fresher.db), source: 'notary.jsonl' };
    expect(verifyAnchored(fresher.db, fresher.trail, anchorKey, anchor2)).toMatchObject({
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
    const db = new BetterSqlite3(':memory:');
    migrate(db, MIGRATIONS);
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
    trail.onAppend(() => void cp.maybeCheckpoint());
    expect((await trail.append({ action: 'auth.login' })).seq).toBe(1);
    expect(listCheckpoints(db)).toEqual([]);
  });
});
