import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAndLogin, totpCodeFor } from '../support/auth';
import { hasChromium, launchChromium, openPage, screenshot, startServe, type RunningServe } from './harness';
import { AlertQueuePage } from './pages/alerts';
import { LiaisonPage } from './pages/liaison';
import { ShellPage } from './pages/shell';
import { SignInPage } from './pages/sign-in';

// An operator and a police liaison, two browser contexts on one core.
describe.skipIf(!hasChromium)('operator and liaison in Chromium (skipped: /usr/bin/chromium is not installed)', () => {
  let browser: Browser;
  let core: RunningServe;

  beforeAll(async () => {
    browser = await launchChromium();
    core = await startServe();
  });
  afterAll(async () => {
    await core?.stop();
    await browser?.close();
  });

  it('both see the same alert; the liaison acknowledges; the operator sees the acknowledgement', async () => {
    const admin = core.admin!;
    const operator = await createAndLogin(core.url, admin, { username: 'olivia', password: 'operator-password-1', role: 'operator' });
    await createAndLogin(core.url, admin, {
      username: 'officer.lee',
      password: 'liaison-password-1',
      role: 'liaison',
      scope: { districts: ['1'] },
    });

    const op = await openPage(browser, core.url, undefined, { token: operator.token });
    await new ShellPage(op.page).waitConnected();

    // The liaison signs in through the console's own sign-in screen, in a plain browser context.
    const li = await openPage(browser, core.url, { width: 1280, height: 800 });
    // The first sign-in step answers 401 (a code is needed), which the browser logs; checked below.
    li.expectErrors(/401 \(Unauthorized\)/);
    const signIn = new SignInPage(li.page);
    await signIn.signIn('officer.lee', 'liaison-password-1');
    // Liaisons must use a second factor (the default policy); createAndLogin enrolled this one.
    await signIn.secondFactor(totpCodeFor('officer.lee')!);
    await new ShellPage(li.page).waitConnected();
    const liaison = new LiaisonPage(li.page);
    await expect.poll(() => liaison.scopeLabel('Police liaison · District 1').count()).toBe(1);

    const other = await admin.api('/api/v1/test-alert', {
      method: 'POST',
      body: JSON.stringify({ district: '2', cameraId: 'cam-far', cameraName: 'Far away' }),
    });
    expect(other.status).toBe(201);
    const res = await admin.api('/api/v1/test-alert', {
      method: 'POST',
      body: JSON.stringify({ kind: 'fight', district: '1', cameraId: 'cam-loop', cameraName: 'Washington platform 2' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };

    const card = liaison.card(id);
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => card.textContent()).toContain('Possible fight · Washington platform 2');
    // District 2's alert never reaches this liaison.
    expect(await liaison.scopeLabel('Far away').count()).toBe(0);

    const incident = new AlertQueuePage(op.page).incidents.filter({ hasText: 'Washington platform 2' });
    await expect.poll(() => incident.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => incident.getAttribute('data-state')).toBe('new');
    await screenshot(op.page, 'incident-operator-new');

    // The same camera raises again while the incident is open: still one card, which says so.
    const again = await admin.api('/api/v1/test-alert', {
      method: 'POST',
      body: JSON.stringify({ kind: 'fight', district: '1', cameraId: 'cam-loop', cameraName: 'Washington platform 2' }),
    });
    expect(again.status).toBe(201);
    const { id: id2 } = (await again.json()) as { id: string };
    await expect.poll(() => liaison.card(id2).getAttribute('data-alert-id'), { timeout: 10_000 }).toBe(id2);
    await expect.poll(() => liaison.page.getByTestId('liaison-alert').filter({ hasText: 'Washington platform 2' }).count()).toBe(1);
    await expect.poll(() => card.getByTestId('incident-alert-count').textContent()).toMatch(/^2 alerts since /);

    // One acknowledgement on the card acknowledges both of its alerts.
    await liaison.acknowledge(id);
    await expect.poll(() => liaison.acks(id).textContent(), { timeout: 10_000 }).toContain('Acknowledged by officer.lee (liaison)');
    // The button turns to "Acknowledged" only once the core confirmed each alert's acknowledgement.
    await expect.poll(() => card.getByRole('button', { name: /Acknowledged/ }).isDisabled(), { timeout: 10_000 }).toBe(true);
    await screenshot(li.page, 'liaison-acknowledged');

    await expect
      .poll(() => incident.getByTestId('incident-acks').textContent(), { timeout: 10_000 })
      .toContain('Acknowledged by officer.lee (liaison)');
    await expect.poll(() => incident.getAttribute('data-state')).toBe('acknowledged');
    await expect.poll(() => incident.textContent()).toMatch(/acknowledged in [\d.]+ s/);
    await screenshot(op.page, 'incident-operator-acknowledged');

    // The operator works the queue from the keyboard: focus the queue, D = dispatched.
    await op.page.keyboard.press('2');
    await op.page.keyboard.press('d');
    await expect.poll(() => incident.getAttribute('data-state'), { timeout: 10_000 }).toBe('dispatched');

    expect(op.errors).toEqual([]);
    // The sign-in that asked for the code is a 401 the browser logs as a failed load; nothing else.
    expect(li.errors.filter((e) => !/401 \(Unauthorized\)/.test(e))).toEqual([]);
    await op.page.close();
    await li.page.close();
  });
});
