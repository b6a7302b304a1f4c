import BetterSqlite3 from 'better-sqlite3';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditCheckpoint, AuditCheckpointList, AuditVerify } from '../../contract';
import { GENESIS_HASH, recordHash, type AuditRow } from '../../core/audit/trail';
import { login } from '../support/auth';
import { runSentinel, startServe, tempDir, type RunningServe } from '../support/serve';

/**
 * What an intruder with write access to the SQLite file does to hide one failed sign-in: drop
 * the append-only trigger and write a whole new chain, every hash recomputed, times kept.
 */
function rewriteChain(file: string, opts: { deleteCheckpoints?: boolean } = {}): number {
  const db = new BetterSqlite3(file);
  try {
    const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as AuditRow[];
    const victim = rows.find((r) => r.action === 'auth.login_failed')!.seq;
    db.exec('DROP TRIGGER audit_no_delete; DELETE FROM audit');
    if (opts.deleteCheckpoints) db.exec('DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints');
    const put = db.prepare(
      'INSERT INTO audit (seq, at, actor_id, actor, action, target, detail, ip, prev_hash, hash) VALUES (@seq, @at, @actor_id, @actor, @action, @target, @detail, @ip, @prev_hash, @hash)',
    );
    let prev = GENESIS_HASH;
    for (const r of rows) {
      const forged = { ...r, action: r.seq === victim ? 'auth.login' : r.action, prev_hash: prev };
      forged.hash = recordHash(forged);
      put.run(forged);
      prev = forged.hash;
    }
    return victim;
  } finally {
    db.close();
  }
}

// A real `sentinel serve` writes the checkpoints; the real CLI exports and verifies them against
// a real SQLite file edited behind its back.
describe('signed audit checkpoints', () => {
  const root = tempDir('sentinel-anchor-');
  const dataDir = join(root, 'data');
  const notary = join(root, 'notary.jsonl');
  let core: RunningServe | null = null;
  afterAll(async () => {
    await core?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('the core signs the head every N records and at shutdown; the API verifies against them', async () => {
    const config = join(root, 'sentinel.json');
    writeFileSync(config, JSON.stringify({ audit: { checkpointEveryRecords: 5 } }));
    core = await startServe({ dataDir, args: ['--config', config] });
    const failed = await fetch(new URL('/api/v1/auth/login', core.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'test-admin', password: 'wrong-password' }),
    });
    expect(failed.status).toBe(401);
    for (let i = 0; i < 12; i++) expect((await core.api('/api/v1/audit?limit=1')).status).toBe(200);
    const list = AuditCheckpointList.parse(await (await core.api('/api/v1/audit/checkpoints')).json());
    expect(list.checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(list.checkpoints.every((c, i) => c.id === i + 1 && c.keyFingerprint === list.keyFingerprint)).toBe(true);
    expect(list.checkpoints.map((c) => c.seq).every((s) => s % 5 === 0)).toBe(true);
    const v = AuditVerify.parse(await (await core.api('/api/v1/audit/verify')).json());
    expect(v).toMatchObject({ ok: true, firstBroken: null, badCheckpoint: null, keyFingerprint: list.keyFingerprint });
    // Listing the checkpoints is audited too, and may have been the record that made the next one due.
    expect(v.anchoredSeq).toBeGreaterThanOrEqual(list.checkpoints.at(-1)!.seq);
    // Another sign-in so the head is past the last checkpoint; stopping the core anchors it.
    await login(core.url, 'test-admin', 'test-admin-password-not-for-production');
    expect(await core.stop()).toBe(0);
    core = null;

    const exported = await runSentinel(['audit', 'checkpoints', 'export', '--data-dir', dataDir, '--out', notary]);
    expect(exported.code).toBe(0);
    const lines = readFileSync(notary, 'utf8').trim().split('\n');
    const last = AuditCheckpoint.parse(JSON.parse(lines.at(-1)!));
    const db = new BetterSqlite3(join(dataDir, 'sentinel.db'), { readonly: true });
    const head = db.prepare("SELECT seq FROM audit WHERE action <> 'audit.checkpoints_export' ORDER BY seq DESC LIMIT 1").get() as {
      seq: number;
    };
    db.close();
    expect(last.seq).toBe(head.seq);
    expect(exported.stderr).toContain(`${lines.length} checkpoints written to ${notary}`);

    const ok = await runSentinel(['audit', 'verify', '--data-dir', dataDir, '--anchor', notary]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(AuditVerify.parse(JSON.parse(ok.stdout))).toMatchObject({ ok: true, checkpoints: lines.length * 2, anchoredSeq: last.seq });
  });

  it('a chain rewritten consistently fails verification at the first checkpoint it no longer matches', async () => {
    const copy = join(root, 'rewritten');
    cpSync(dataDir, copy, { recursive: true });
    const victim = rewriteChain(join(copy, 'sentinel.db'));
    const r = await runSentinel(['audit', 'verify', '--data-dir', copy]);
    expect(r.code).toBe(1);
    // The failed sign-in is the first record after the admin's seeding: the first checkpoint (record 5) catches it.
    expect(victim).toBeLessThanOrEqual(5);
    expect(r.stderr.trim()).toMatch(
      /^sentinel: audit trail fails verification at record 1: record 5 does not match checkpoint 1 \(signed .*\): records 1\.\.5 were rewritten after they were checkpointed$/,
    );
  });

  it('deleting every checkpoint as well fools the database alone, not the exported anchor', async () => {
    const copy = join(root, 'no-checkpoints');
    cpSync(dataDir, copy, { recursive: true });
    rewriteChain(join(copy, 'sentinel.db'), { deleteCheckpoints: true });
    const alone = await runSentinel(['audit', 'verify', '--data-dir', copy]);
    expect(alone.code).toBe(0);
    expect(AuditVerify.parse(JSON.parse(alone.stdout))).toMatchObject({ ok: true, checkpoints: 0, anchoredSeq: null });
    const anchored = await runSentinel(['audit', 'verify', '--data-dir', copy, '--anchor', notary]);
    expect(anchored.code).toBe(1);
    expect(anchored.stderr.trim()).toMatch(/^sentinel: audit trail fails verification at record 1: record 5 does not match checkpoint 1 /);
  });

  it('deleting the newest checkpoints (chain untouched) is caught against the anchor, and a bad anchor file is named', async () => {
    const copy = join(root, 'tail-deleted');
    cpSync(dataDir, copy, { recursive: true });
    const db = new BetterSqlite3(join(copy, 'sentinel.db'));
    const newest = (db.prepare('SELECT MAX(id) AS id FROM audit_checkpoints').get() as { id: number }).id;
    db.exec('DROP TRIGGER audit_checkpoints_no_delete');
    db.prepare('DELETE FROM audit_checkpoints WHERE id = ?').run(newest);
    db.close();
    expect((await runSentinel(['audit', 'verify', '--data-dir', copy])).code).toBe(0);
    const r = await runSentinel(['audit', 'verify', '--data-dir', copy, '--anchor', notary]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `at checkpoint ${newest}: checkpoint ${newest} \\(record \\d+, signed .*\\) from .*notary.jsonl is missing from the database \\(deleted\\)`,
      ),
    );

    const bad = join(root, 'bad.jsonl');
    writeFileSync(bad, `${readFileSync(notary, 'utf8')}{"id":"x"}\n`);
    const refused = await runSentinel(['audit', 'verify', '--data-dir', copy, '--anchor', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bad.jsonl line \d+: id: /);
    const missing = await runSentinel(['audit', 'verify', '--data-dir', copy, '--anchor', join(root, 'nope.jsonl')]);
    expect(missing.stderr).toMatch(/cannot read the anchor file .*nope.jsonl: ENOENT/);
  });
});
