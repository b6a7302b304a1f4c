import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthResponse } from '../../contract';
import { hasChromium, launchChromium, openPage, screenshot, startServe, takeUnexpectedErrors, type RunningServe } from './harness';
import { ShellPage } from './pages/shell';

// The one honest reason to skip: no browser on this machine (CI installs it in .ci/run).
describe.skipIf(!hasChromium)('console in Chromium (skipped: /usr/bin/chromium is not installed)', () => {
  let browser: Browser;
  let core: RunningServe | null = null;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await core?.stop();
    await browser?.close();
  });

  it('serves the console on a fresh data directory, connects, and logs no browser errors', async () => {
    core = await startServe();
    const health = HealthResponse.parse(await (await fetch(new URL('/api/v1/health', core.url))).json());
    expect(health.status).toBe('ok');

    const { page, errors } = await openPage(browser, core.url, undefined, { token: core.token });
    const shell = new ShellPage(page);
    const link = shell.connection;
    await shell.waitConnected(15_000);
    await expect.poll(() => link.textContent()).toMatch(/Connected · \d+ ms/);
    expect(await page.title()).toContain('Sentinel');
    for (const region of ['Live map', 'Alert queue', 'Cameras']) {
      await expect(shell.region(region).isVisible()).resolves.toBe(true);
    }
    // Keyboard-first: "2" focuses the alert queue, "?" opens the shortcuts.
    await page.keyboard.press('2');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('region-alerts');
    await page.keyboard.press('?');
    await expect(shell.dialog('Keyboard shortcuts').isVisible()).resolves.toBe(true);
    await page.keyboard.press('Escape');
    await expect(shell.dialog().count()).resolves.toBe(0);
    await screenshot(page, 'console-connected');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a lost connection and reconnects by itself when the core comes back', async () => {
    core ??= await startServe();
    const { page, errors, expectErrors } = await openPage(browser, core.url, undefined, { token: core.token });
    const shell = new ShellPage(page);
    const link = shell.connection;
    await shell.waitConnected(15_000);
    const port = new URL(core.url).port;
    const dataDir = core.dataDir;

    const errorsBeforeOutage = errors.length;
    expectErrors(/ERR_CONNECTION_REFUSED|WebSocket connection .* failed|Failed to load resource/);
    core.proc.kill('SIGKILL'); // an abrupt loss, as when the core's machine drops off
    await new Promise((r) => core!.proc.once('exit', r));
    await expect.poll(() => link.getAttribute('data-status'), { timeout: 15_000 }).toBe('reconnecting');
    await expect(shell.disconnectedBanner.isVisible()).resolves.toBe(true);
    await screenshot(page, 'console-disconnected');

    core = await startServe({ dataDir, args: ['--port', port] });
    await expect.poll(() => link.getAttribute('data-status'), { timeout: 20_000 }).toBe('connected');
    await expect(shell.disconnectedBanner.count()).resolves.toBe(0);
    // While the core was down Chromium itself logs the refused reconnection attempts; those,
    // and only those, are expected.
    const unexpected = errors
      .slice(errorsBeforeOutage)
      .filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection .* failed|Failed to load resource/.test(e));
    expect(unexpected).toEqual([]);
    expect(errors.slice(0, errorsBeforeOutage)).toEqual([]);
    await page.close();
  });

  it('starts without the assets pack and says what is missing', async () => {
    const bare = await startServe({ env: { SENTINEL_ASSETS: '/nonexistent/assets' } });
    try {
      const { page, errors } = await openPage(browser, bare.url, undefined, { token: bare.token });
      const shell = new ShellPage(page);
      const missing = shell.assetsMissing;
      await expect.poll(() => missing.textContent(), { timeout: 15_000 }).toMatch(/No assets: models, footage, map data missing/);
      await missing.click();
      const dialog = shell.dialog('Missing assets');
      await expect.poll(() => dialog.textContent()).toContain('/nonexistent/assets');
      await screenshot(page, 'console-assets-missing');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await bare.stop();
    }
  });

  it('the harness catches a browser error the test did not look at, and lets through only those declared expected', async () => {
    core ??= await startServe();
    const { page, errors, expectErrors } = await openPage(browser, core.url, undefined, { token: core.token });
    await new ShellPage(page).waitConnected(15_000);
    expectErrors(/planted: declared/);
    await page.evaluate(() => {
      console.error('planted: nobody checks this');
      console.error('planted: declared');
      setTimeout(() => {
        throw new Error('planted uncaught');
      });
    });
    await expect.poll(() => errors.length, { timeout: 5000 }).toBe(3);
    // What test/e2e/setup.ts would fail this test with (taken here, so that it does not).
    expect(takeUnexpectedErrors()).toEqual(['console.error: planted: nobody checks this', 'pageerror: planted uncaught']);
    await page.close();
  });
});
