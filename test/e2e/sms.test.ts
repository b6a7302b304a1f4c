import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverAssetsDir } from '../../core/config';
import { createAndLogin } from '../support/auth';
import { hasChromium, launchChromium, openPage, screenshot, startServe, tempDir, type RunningServe } from './harness';
import { MapPage } from './pages/map';
import { RiderTextsPage } from './pages/sms';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const TOKEN = 'e2e-twilio-auth-token-0123456789';
const SID = 'ACe2e0000000000000000000000000000';

describe.skipIf(!hasChromium || !assets)('rider text in Chromium (skipped: needs /usr/bin/chromium and the assets pack)', () => {
  let core: RunningServe;
  let browser: Browser;
  let provider: Server;
  const sent: URLSearchParams[] = [];

  beforeAll(async () => {
    // A real local HTTP server in the place of Twilio's REST API.
    provider = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        sent.push(new URLSearchParams(body));
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `SMe2e${sent.length}` }));
      });
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    const dir = tempDir('sentinel-sms-e2e-');
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        sms: {
          publicUrl: 'https://sentinel.example.org/api/v1/sms/inbound',
          accountSid: SID,
          apiBaseUrl: `http://127.0.0.1:${(provider.address() as AddressInfo).port}`,
        },
      }),
    );
    core = await startServe({
      args: ['--config', config],
      env: { SENTINEL_SMS_AUTH_TOKEN: TOKEN, SENTINEL_ASSETS: assets! },
      timeoutMs: 90_000,
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await core?.stop();
    await new Promise<void>((r) => provider?.close(() => r()));
  });

  it('an operator receives a text, sees it on the map at Belmont, answers, and the answer reaches the provider', async () => {
    const op = await createAndLogin(core.url, core.admin!, { username: 'op', password: 'operator-password-1', role: 'operator' });
    const { page, errors } = await openPage(browser, core.url, undefined, { token: op.token });
    const map = new MapPage(page);
    const texts = new RiderTextsPage(page);
    await map.waitReady(60_000);

    // The rider texts; the provider calls the webhook, signed as Twilio signs.
    const params = {
      From: '+17735550123',
      To: '+13125550100',
      Body: 'man with a knife on the belmnot red line platform',
      MessageSid: 'SMe2e00000000000000000000000000001',
      NumMedia: '0',
    };
    const res = await fetch(new URL('/api/v1/sms/inbound', core.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, 'https://sentinel.example.org/api/v1/sms/inbound', params),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(res.status).toBe(200);

    const card = texts.cards.first();
    await expect.poll(() => texts.place(card).textContent(), { timeout: 20_000 }).toMatch(/Belmont/);
    expect(await card.textContent()).toContain('•••• 0123');
    expect(await card.textContent()).not.toContain('7735550123');

    // On the map: a rider-report point at Belmont (41.9398, -87.6533).
    await expect.poll(() => map.alertPoint('rider-report'), { timeout: 20_000 }).toEqual([-87.65, 41.94]);
    await screenshot(page, 'sms-belmont');

    await texts.reply(card, 'We see you. Move to the front car if you can.');
    await expect.poll(() => sent.length, { timeout: 20_000 }).toBe(1);
    expect(Object.fromEntries(sent[0]!)).toEqual({
      To: '+17735550123',
      From: '+13125550100',
      Body: 'We see you. Move to the front car if you can.',
    });
    await expect.poll(() => texts.messages(card).last().textContent(), { timeout: 10_000 }).toContain('Move to the front car');
    expect(errors).toEqual([]);
  });
});
