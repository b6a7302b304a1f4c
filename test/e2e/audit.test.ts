import BetterSqlite3 from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditCheckpoint } from '../../contract';
import { GENESIS_HASH, recordHash, type AuditRow } from '../../core/audit/trail';
import { createAndLogin, type SignedIn } from '../support/auth';
import { hasChromium, launchChromium, openPage, screenshot, startServe, tempDir, type RunningServe } from './harness';
import { AuditPage } from './pages/audit';

/**
 * The audit viewer in Chromium, against a real core: a reviewer filters by user, action and
 * time, pages back, verifies the trail (chain and signed checkpoints), downloads the
 * checkpoints; then the SQLite file is rewritten consistently behind the core's back and
 * Verify names where.
 */
describe.skipIf(!hasChromium)('audit viewer in Chromium (skipped: needs /usr/bin/chromium)', () => {
  let browser: Browser;
  let core: RunningServe;
  let reviewer: SignedIn;
  const dir = tempDir('audit-e2e-');

  beforeAll(async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ audit: { checkpointEveryRecords: 10 } }));
    core = await startServe({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'config.json')] });
    await createAndLogin(core.url, core.admin!, { username: 'olly', password: 'operator-password-1', role: 'operator' });
    for (let i = 0; i < 2; i++) {
      const r = await fetch(new URL('/api/v1/auth/login', core.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'olly', password: 'wrong-password' }),
      });
      expect(r.status).toBe(401);
    }
    reviewer = await createAndLogin(core.url, core.admin!, { username: 'rita', password: 'reviewer-password-1', role: 'reviewer' });
    // Enough records for more than one page (each read of the trail is audited).
    for (let i = 0; i < 60; i++) expect((await core.api('/api/v1/audit?limit=1')).status).toBe(200);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await core?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('filters by user, action and time, pages, verifies and exports the checkpoints', async () => {
    const { page, errors } = await openPage(browser, core.url, undefined, { token: reviewer.token });
    const audit = new AuditPage(page);
    await audit.open();
    await expect.poll(() => audit.rows.count(), { timeout: 20_000 }).toBe(50);
    const newest = await audit.seqs();
    expect(newest).toEqual([...newest].sort((a, b) => b - a));
    await expect.poll(() => audit.count.textContent()).toMatch(/^1–50 of \d+/);

    await audit.older();
    await expect.poll(async () => (await audit.seqs())[0]).toBe(newest.at(-1)! - 1);
    await expect.poll(() => audit.count.textContent()).toMatch(/^51–/);
    await audit.newer();
    await expect.poll(async () => (await audit.seqs())[0]).toBeGreaterThanOrEqual(newest[0]!);

    await audit.filter({ user: 'olly', action: 'auth.login_failed' });
    await expect
      .poll(() => audit.actorsAndActions())
      .toEqual([
        ['olly', 'auth.login_failed'],
        ['olly', 'auth.login_failed'],
      ]);
    // A prefix lists a family; a time range in the future lists nothing.
    await audit.filter({ user: 'rita', action: 'auth.' });
    await expect.poll(async () => (await audit.actorsAndActions()).map(([u, a]) => `${u} ${a}`)).toEqual(['rita auth.login']);
    await audit.filter({ user: '', action: '', from: '2099-01-01T00:00' });
    await expect.poll(() => audit.count.textContent()).toBe('No records match');
    await audit.clear();
    await expect.poll(() => audit.rows.count()).toBe(50);

    await audit.verify();
    await expect.poll(() => audit.verifyResult.getAttribute('data-ok'), { timeout: 20_000 }).toBe('true');
    expect(await audit.verifyResult.textContent()).toMatch(/Trail intact\. \d+ records chain correctly; \d+ signed checkpoints match/);
    await screenshot(page, 'audit-viewer-verified');

    await page.getByTestId('audit-export').click();
    const link = page.getByTestId('audit-export-link');
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    const cps = lines.map((l) => AuditCheckpoint.parse(JSON.parse(l)));
    expect(cps.length).toBeGreaterThanOrEqual(6);
    expect(cps.map((c) => c.id)).toEqual(cps.map((_, i) => i + 1));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('Verify names the first record a checkpoint no longer vouches for after the chain is rewritten', async () => {
    // The intruder rewrites olly's failed sign-ins as successes, every hash recomputed, times kept.
    const db = new BetterSqlite3(join(core.dataDir, 'sentinel.db'));
    const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as AuditRow[];
    db.exec('DROP TRIGGER audit_no_delete');
    db.transaction(() => {
      db.exec('DELETE FROM audit');
      const put = db.prepare(
        'INSERT INTO audit (seq, at, actor_id, actor, action, target, detail, ip, prev_hash, hash) VALUES (@seq, @at, @actor_id, @actor, @action, @target, @detail, @ip, @prev_hash, @hash)',
      );
      let prev = GENESIS_HASH;
      for (const r of rows) {
        const forged = { ...r, action: r.action === 'auth.login_failed' ? 'auth.login' : r.action, prev_hash: prev };
        forged.hash = recordHash(forged);
        put.run(forged);
        prev = forged.hash;
      }
    })();
    db.close();

    const { page, errors } = await openPage(browser, core.url, undefined, { token: reviewer.token });
    const audit = new AuditPage(page);
    await audit.open();
    await audit.verify();
    await expect.poll(() => audit.verifyResult.getAttribute('data-ok'), { timeout: 20_000 }).toBe('false');
    expect(await audit.verifyResult.textContent()).toMatch(
      /^Verification failed at record 1 \(checkpoint 1\): record 10 does not match checkpoint 1 .*records 1\.\.10 were rewritten/,
    );
    await screenshot(page, 'audit-viewer-rewritten');
    expect(errors).toEqual([]);
    await page.close();
  });
});
