import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStatus } from '../../contract';
import { hasChromium, launchChromium, openPage, screenshot, startServe, tempDir, type RunningServe } from './harness';
import { ShellPage } from './pages/shell';
import { SignInPage } from './pages/sign-in';

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
    const { page, errors, expectErrors } = await openPage(browser, core.url);
    // The failed sign-in is a 401 the browser logs as a failed resource load; nothing else.
    expectErrors(/401 \(Unauthorized\)/);
    const signIn = new SignInPage(page);
    const shell = new ShellPage(page);
    await expect.poll(() => signIn.setupHeading.count(), { timeout: 15_000 }).toBe(1);
    await screenshot(page, 'auth-first-run');
    await signIn.setUp('chief', 'control-center-admin-1');
    await shell.waitConnected();
    expect(AuthStatus.parse(await (await fetch(new URL('/api/v1/auth/status', core.url))).json()).setupRequired).toBe(false);
    await expect.poll(() => shell.userMenu.textContent()).toContain('admin');

    await shell.signOut();
    await expect.poll(() => signIn.signInHeading.count()).toBe(1);
    await signIn.signIn('chief', 'not-the-password');
    await expect.poll(() => signIn.error.textContent()).toBe('wrong user name or password');
    await screenshot(page, 'auth-wrong-password');
    await signIn.signIn(null, 'control-center-admin-1');
    await shell.waitConnected();

    // The administrator creates an operator in the console; the operator sees no administration.
    const dialog = await shell.openAdministration();
    await dialog.createUser({ username: 'olivia', password: 'operator-password-1', role: 'operator' });
    await expect.poll(() => dialog.status.textContent()).toBe('Created olivia (operator).');
    await dialog.sendTestAlertToDistrict();
    await expect.poll(() => dialog.status.textContent()).toBe('Test alert sent to district 1.');
    await screenshot(page, 'auth-administration');
    await dialog.close();
    await expect.poll(() => shell.incidents.count(), { timeout: 10_000 }).toBe(1);
    await shell.signOut();
    await signIn.signIn('olivia', 'operator-password-1');
    await expect.poll(() => shell.userMenu.textContent(), { timeout: 20_000 }).toContain('operator');
    expect(await shell.administrationButton().count()).toBe(0);
    await expect.poll(() => shell.incidents.count(), { timeout: 10_000 }).toBe(1);
    expect(errors.filter((e) => !/401 \(Unauthorized\)/.test(e))).toEqual([]);
    await page.close();
  });
});
