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
    await expect.poll(() => page.getByTestId('map').getAttribute('data-ready'), { timeout: 60_000 }).toBe('true');

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

    const card = page.getByTestId('rider-text').first();
    await expect.poll(() => card.getByTestId('rider-text-place').textContent(), { timeout: 20_000 }).toMatch(/Belmont/);
    expect(await card.textContent()).toContain('•••• 0123');
    expect(await card.textContent()).not.toContain('7735550123');

    // On the map: a rider-report point at Belmont (41.9398, -87.6533).
    await expect
      .poll(
        () =>
          page.evaluate(() => {
            type H = {
              map: {
                getSource(id: string):
                  | {
                      serialize(): {
                        data: { features: Array<{ properties: { kind?: string }; geometry: { coordinates: [number, number] } }> };
                      };
                    }
                  | undefined;
              };
            };
            const h = (globalThis as unknown as { sentinelMap?: H }).sentinelMap;
            const f = h?.map
              .getSource('alerts')
              ?.serialize()
              .data.features.find((x) => x.properties.kind === 'rider-report');
            return f ? f.geometry.coordinates.map((n) => Math.round(n * 100) / 100) : null;
          }),
        { timeout: 20_000 },
      )
      .toEqual([-87.65, 41.94]);
    await screenshot(page, 'sms-belmont');

    await card.getByLabel('Reply to the rider').fill('We see you. Move to the front car if you can.');
    await card.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => sent.length, { timeout: 20_000 }).toBe(1);
    expect(Object.fromEntries(sent[0]!)).toEqual({
      To: '+17735550123',
      From: '+13125550100',
      Body: 'We see you. Move to the front car if you can.',
    });
    await expect.poll(() => card.getByTestId('rider-message').last().textContent(), { timeout: 10_000 }).toContain('Move to the front car');
    expect(errors).toEqual([]);
  });
});
