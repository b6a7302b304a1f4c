import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStatus } from '../../contract';
import { hasChromium, launchChromium, openPage, screenshot, startServe, tempDir, type RunningServe } from './harness';

describe.skipIf(!hasChromium)('sign-in in Chromium (skipped: /usr/bin/chromium is not installed)', () => {
  let browser: Browser;
  let core: RunningServe;

  beforeAll(async () => {
    browser = await launchChromium();
    // No admin seeded: the real first-run path. No MFA policy here (said explicitly in the
    // config): this is about sign-in and roles; mfa.test.ts enrols under the default policy.
    const config = join(tempDir('sentinel-auth-e2e-'), 'sentinel.json');
    writeFileSync(config, JSON.stringify({ auth: { mfaRequiredRoles: [] } }));
    core = await startServe({ auth: false, args: ['--config', config] });
  });
  afterAll(async () => {
    await core?.stop();
    await browser?.close();
  });

  it('first run creates the administrator in the console; sign-out, a wrong password, then sign-in', async () => {
    const { page, errors } = await openPage(browser, core.url);
    await expect.poll(() => page.getByRole('heading', { name: 'Set up Sentinel' }).count(), { timeout: 15_000 }).toBe(1);
    await screenshot(page, 'auth-first-run');
    await page.getByLabel('Administrator user name').fill('chief');
    await page.getByLabel('Password', { exact: true }).fill('control-center-admin-1');
    await page.getByLabel('Password again').fill('control-center-admin-1');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-status'), { timeout: 20_000 }).toBe('connected');
    expect(AuthStatus.parse(await (await fetch(new URL('/api/v1/auth/status', core.url))).json()).setupRequired).toBe(false);
    await expect.poll(() => page.getByTestId('user-menu').textContent()).toContain('admin');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in to Sentinel' }).count()).toBe(1);
    await page.getByLabel('User name').fill('chief');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('login-error').textContent()).toBe('wrong user name or password');
    await screenshot(page, 'auth-wrong-password');
    await page.getByLabel('Password').fill('control-center-admin-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-status'), { timeout: 20_000 }).toBe('connected');

    // The administrator creates an operator in the console; the operator sees no administration.
    await page.getByRole('button', { name: 'Administration' }).click();
    const dialog = page.getByRole('dialog', { name: 'Administration' });
    await dialog.getByLabel('New user name').fill('olivia');
    await dialog.getByLabel('New user password').fill('operator-password-1');
    await dialog.getByLabel('Role').selectOption('operator');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await expect.poll(() => dialog.getByRole('status').textContent()).toBe('Created olivia (operator).');
    await dialog.getByRole('button', { name: 'Send to district' }).click();
    await expect.poll(() => dialog.getByRole('status').textContent()).toBe('Test alert sent to district 1.');
    await screenshot(page, 'auth-administration');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => page.getByTestId('incident').count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('User name').fill('olivia');
    await page.getByLabel('Password').fill('operator-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('user-menu').textContent(), { timeout: 20_000 }).toContain('operator');
    expect(await page.getByRole('button', { name: 'Administration' }).count()).toBe(0);
    await expect.poll(() => page.getByTestId('incident').count(), { timeout: 10_000 }).toBe(1);
    // The failed sign-in is a 401 the browser logs as a failed resource load; nothing else.
    expect(errors.filter((e) => !/401 \(Unauthorized\)/.test(e))).toEqual([]);
    await page.close();
  });
});
