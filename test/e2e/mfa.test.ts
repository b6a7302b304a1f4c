import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../../core/auth/totp';
import { hasChromium, launchChromium, openPage, screenshot, startServe, type RunningServe } from './harness';
import { AccountDialogPage, EnrolmentPage, SignInPage } from './pages/mfa';

/**
 * Two-step sign-in in Chromium against a real core with the default MFA policy (admin and
 * liaison must enrol): first run, forced enrolment (the test is the phone: it computes the
 * code from the key the screen shows), sign-out, sign-in with a code, sign-in with a
 * recovery code, and the account dialog's status and sessions.
 */
const PASSWORD = 'control-center-admin-1';
const codeOf = (secret: string): string => totp(base32Decode(secret), Date.now());

describe.skipIf(!hasChromium)('two-step sign-in in Chromium (skipped: /usr/bin/chromium is not installed)', () => {
  let browser: Browser;
  let core: RunningServe;

  beforeAll(async () => {
    browser = await launchChromium();
    core = await startServe({ auth: false });
  });
  afterAll(async () => {
    await core?.stop();
    await browser?.close();
  });

  it('first run enrols the administrator, then signs in with a code and with a recovery code', async () => {
    const { page, errors, expectErrors } = await openPage(browser, core.url);
    // Wrong codes and refused steps are 400/401/403 answers the browser logs; checked at the end.
    expectErrors(/40[13] \((Unauthorized|Forbidden)\)|400 \(Bad Request\)/);
    await expect.poll(() => page.getByRole('heading', { name: 'Set up Sentinel' }).count(), { timeout: 15_000 }).toBe(1);
    await page.getByLabel('Administrator user name').fill('chief');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create administrator' }).click();

    // The policy takes the administrator to enrolment, and the core refuses the rest meanwhile.
    const enrol = new EnrolmentPage(page);
    await expect.poll(() => enrol.heading().count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => enrol.secret()).toMatch(/^[A-Z2-7]{32}$/);
    const refused = await page.evaluate(async () => (await fetch('/api/v1/cameras')).status);
    expect(refused).toBe(403);
    expect(await page.getByTestId('connection-state').count()).toBe(0);
    // The QR code is an image the CSP allows (a data: URL): it decoded to real pixels.
    await expect.poll(() => enrol.qr().evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'mfa-enrolment');
    const secret = await enrol.secret();
    await enrol.enable('000000');
    await expect.poll(() => page.getByTestId('mfa-error').textContent()).toContain('does not match');
    await enrol.enable(codeOf(secret));
    await expect.poll(() => enrol.recoveryCodes().count(), { timeout: 10_000 }).toBe(10);
    const recovery = await enrol.recoveryCodes().allTextContents();
    expect(recovery.every((c) => /^[a-z2-9]{5}-[a-z2-9]{5}$/.test(c))).toBe(true);
    await screenshot(page, 'mfa-recovery-codes');
    await enrol.savedCodes();
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-status'), { timeout: 20_000 }).toBe('connected');

    // Sign out, and back in with the password and a code from the "phone".
    const signIn = new SignInPage(page);
    await page.getByTestId('user-menu').getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => signIn.heading().count()).toBe(1);
    await signIn.signIn('chief', PASSWORD);
    await expect.poll(() => signIn.codeField().count()).toBe(1);
    expect(await signIn.error().textContent()).toContain('authenticator');
    await signIn.enterCode(codeOf(secret));
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-status'), { timeout: 20_000 }).toBe('connected');

    // Lost phone: a recovery code works once in place of the code.
    await page.getByTestId('user-menu').getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => signIn.heading().count()).toBe(1);
    await signIn.signIn('chief', PASSWORD);
    await expect.poll(() => signIn.codeField().count()).toBe(1);
    await signIn.enterRecoveryCode(recovery[0]!.toUpperCase());
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-status'), { timeout: 20_000 }).toBe('connected');

    // The account dialog: factor on with nine codes left, and this session in the list.
    const account = new AccountDialogPage(page);
    await account.open();
    await expect.poll(() => account.mfaStatus().textContent()).toContain('9 recovery codes left');
    await expect.poll(() => account.sessions().filter({ hasText: 'this one' }).count()).toBe(1);
    expect(await account.sessions().first().textContent()).toContain('Chrome');
    await screenshot(page, 'mfa-account');
    await account.close();

    // The same recovery code does not work twice.
    await page.getByTestId('user-menu').getByRole('button', { name: 'Sign out' }).click();
    await signIn.signIn('chief', PASSWORD);
    await expect.poll(() => signIn.codeField().count()).toBe(1);
    await signIn.enterRecoveryCode(recovery[0]!);
    await expect.poll(() => signIn.error().textContent()).toContain('already used');

    // Only the refusals the flow provokes (the 403 probe, a code asked for, a spent code) reach the browser log.
    expect(errors.filter((e) => !/40[13] \((Unauthorized|Forbidden)\)|400 \(Bad Request\)/.test(e))).toEqual([]);
    await page.close();
  });
});
