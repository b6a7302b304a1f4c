import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSO_CALLBACK_PATH } from '../../core/config';
import { startTestIdp, type TestIdp } from '../support/oidc';
import { freePort } from '../support/ports';
import { hasChromium, launchChromium, openPage, screenshot, startServe, tempDir, type RunningServe } from './harness';
import { SsoSignInPage } from './pages/sso-sign-in';

describe.skipIf(!hasChromium)('single sign-on in Chromium (skipped: /usr/bin/chromium is not installed)', () => {
  let browser: Browser;
  let idp: TestIdp;
  let core: RunningServe;

  beforeAll(async () => {
    const port = await freePort();
    const redirectUrl = `http://127.0.0.1:${port}${SSO_CALLBACK_PATH}`;
    idp = await startTestIdp({
      redirectUris: [redirectUrl],
      accounts: [
        { sub: 'cta-7', preferred_username: 'omar.ops', name: 'Omar Ops', groups: ['sentinel-operators'] },
        { sub: 'cta-8', preferred_username: 'visitor', name: 'A Visitor', groups: ['cta-everyone'] },
      ],
    });
    const dir = tempDir();
    const configFile = join(dir, 'sentinel.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        sso: {
          label: 'CTA',
          issuer: idp.issuer,
          clientId: idp.clientId,
          redirectUrl,
          scopes: ['openid', 'profile', 'groups'],
          roles: [{ value: 'sentinel-operators', role: 'operator' }],
        },
      }),
    );
    browser = await launchChromium();
    // The client secret through the environment, as docs/security.md tells operators to.
    core = await startServe({
      args: ['--config', configFile, '--port', String(port)],
      env: { SENTINEL_SSO_CLIENT_SECRET: idp.clientSecret },
    });
  });
  afterAll(async () => {
    await core?.stop();
    await idp?.close();
    await browser?.close();
  });

  it('signs in with the agency account and opens the console with the mapped role', async () => {
    const { page, errors } = await openPage(browser, core.url);
    const sso = new SsoSignInPage(page);
    await expect.poll(() => sso.ssoLink.textContent(), { timeout: 15_000 }).toBe('Sign in with CTA');
    await screenshot(page, 'sso-sign-in-screen');
    await sso.signInAs('omar.ops');
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-status'), { timeout: 30_000 }).toBe('connected');
    await expect.poll(() => page.getByTestId('user-menu').textContent()).toContain('Omar Ops');
    expect(await page.getByTestId('user-menu').textContent()).toContain('operator');
    await screenshot(page, 'sso-signed-in');
    expect(errors).toEqual([]);
  });

  it('refuses an agency account with no Sentinel role on a page that says so', async () => {
    const { page, expectErrors } = await openPage(browser, core.url);
    // The refusal page is served with 403, which Chromium logs as a failed load.
    expectErrors(/403 \(Forbidden\)/);
    const sso = new SsoSignInPage(page);
    await expect.poll(() => sso.ssoLink.count(), { timeout: 15_000 }).toBe(1);
    await sso.signInAs('visitor');
    await expect.poll(() => sso.refusal.textContent(), { timeout: 15_000 }).toContain('Your CTA account has no Sentinel role');
    await screenshot(page, 'sso-refused');
    await page.getByRole('link', { name: 'Back to the Sentinel sign-in' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in to Sentinel' }).count(), { timeout: 15_000 }).toBe(1);
  });
});
