import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAndLogin, login } from '../support/auth';
import { REDIS_SERVER, startRedis, type RunningRedis } from '../support/redis';
import { hasChromium, launchChromium, openPage, screenshot, startServe, tempDir, type RunningServe } from './harness';
import { ReplicasPage } from './pages/replicas';

const why = !hasChromium ? '/usr/bin/chromium is not installed' : !REDIS_SERVER ? 'redis-server is not installed' : null;

/**
 * A technician watches the background jobs move: two real `sentinel serve` replicas sharing a
 * data directory and a private redis-server; the technician's console is on B. A holds every
 * job; kill -9 A and, within the lease TTL plus a renewal, the pane shows B running them.
 */
describe.skipIf(why !== null)(`core replicas in the technician view${why ? ` (skipped: ${why})` : ''}`, () => {
  let browser: Browser;
  let redis: RunningRedis;
  let a: RunningServe;
  let b: RunningServe;

  beforeAll(async () => {
    redis = await startRedis();
    const dataDir = tempDir('sentinel-e2e-cluster-');
    const configFile = join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ auth: { mfaRequiredRoles: [] } }));
    const env = { SENTINEL_REDIS_URL: redis.url, SENTINEL_CONFIG: configFile, SENTINEL_ASSETS: '/nonexistent-assets' };
    a = await startServe({ dataDir, env, timeoutMs: 60_000 });
    b = await startServe({ dataDir, env, timeoutMs: 60_000 });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it('shows which replica runs each job, and the takeover after kill -9 of its holder', async () => {
    await createAndLogin(a.url, a.admin!, { username: 'tina-tech', password: 'technician-password-9', role: 'technician' });
    const tech = await login(b.url, 'tina-tech', 'technician-password-9');
    const { page, errors } = await openPage(browser, b.url, undefined, { token: tech.token });
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-status'), { timeout: 20_000 }).toBe('connected');
    const replicas = new ReplicasPage(page);
    await replicas.open();
    const aId = new RegExp(`-${a.proc.pid}-`);
    const bId = new RegExp(`-${b.proc.pid}-[0-9a-f]+ \\(this replica\\)`);
    await expect.poll(async () => (await replicas.job('Escalation timers'))?.holder, { timeout: 15_000 }).toMatch(aId);
    expect((await replicas.job('Recording retention'))?.holder).toMatch(aId);
    expect(await replicas.panel.textContent()).toContain('which runs: no background job');
    await screenshot(page, 'cluster-before');

    a.proc.kill('SIGKILL');
    // TTL 10 s + one renewal (3.3 s); the pane refreshes every 3 s.
    await expect.poll(async () => (await replicas.job('Escalation timers'))?.holder, { timeout: 25_000, interval: 500 }).toMatch(bId);
    expect((await replicas.job('Escalation timers'))?.lease).toMatch(/renewed, \d+ s left/);
    expect(await replicas.panel.textContent()).toContain('Escalation timers');
    await screenshot(page, 'cluster-after');
    expect(errors).toEqual([]);
  }, 90_000);
});
