import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Camera } from '../../contract';
import { discoverAssetsDir } from '../../core/config';
import { createAndLogin, type SignedIn } from '../support/auth';
import { rewriteZip } from '../support/zip';
import { hasChromium, launchChromium, openPage, runSentinel, screenshot, startServe, type RunningServe } from './harness';
import { ReviewPage } from './pages/review';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The reviewer's path in Chromium: an incident on a demo camera (real RTSP simulator,
 * real recorder, real analytics), the clip replayed with the stored detections drawn over
 * it, a verdict, a signed evidence export that `sentinel evidence verify` accepts, and the
 * same package with one altered byte refused.
 */
describe.skipIf(!hasChromium || !assets)(
  'reviewer replay and evidence export in Chromium (skipped: needs /usr/bin/chromium and the assets pack)',
  () => {
    let browser: Browser;
    let core: RunningServe;
    let reviewer: SignedIn;

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'review-e2e-'));
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({ recording: { segmentSeconds: 2, preRollS: 4, postRollS: 1 }, ingest: { demoRtspPort: 18656 } }),
      );
      core = await startServe({ args: ['--demo', '--config', join(dir, 'config.json')] });
      reviewer = await createAndLogin(core.url, core.admin!, { username: 'rhea', password: 'reviewer-password-2', role: 'reviewer' });
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await core?.stop();
    });

    it('replays the incident clip with detections drawn over it, records a verdict and exports verifiable evidence', async () => {
      const cams = Camera.array().parse(((await (await core.api('/api/v1/cameras')).json()) as { cameras: unknown[] }).cameras);
      // The station entrance footage has people walking through it all the time.
      const cam = cams.find((c) => c.name.startsWith('Clark/Lake'))!;
      await sleep(8000); // recorded segments and analysed frames to replay
      const sent = await core.api('/api/v1/test-alert', {
        method: 'POST',
        body: JSON.stringify({ kind: 'crowding', cameraId: cam.id, cameraName: cam.name, district: '1', lines: ['Blue'] }),
      });
      expect(sent.status).toBe(201);

      const { page, errors } = await openPage(browser, core.url, undefined, { token: reviewer.token });
      const review = new ReviewPage(page);
      await review.open();
      const item = review.item(cam.name);
      await expect.poll(() => item.count(), { timeout: 20_000 }).toBe(1);
      await item.click();
      await review.cutClip();
      const video = review.video;
      await expect.poll(() => video.count(), { timeout: 30_000 }).toBe(1);
      await expect
        .poll(() => video.evaluate((v) => (v as unknown as { readyState: number }).readyState), { timeout: 20_000 })
        .toBeGreaterThanOrEqual(2);

      // Step through the clip until the overlay has drawn boxes for the people in view.
      const canvas = review.overlay;
      const player = review.player;
      await player.focus();
      let boxes = 0;
      for (let i = 0; i < 40 && boxes === 0; i++) {
        await page.keyboard.press('.');
        await sleep(100);
        boxes = Number((await canvas.getAttribute('data-boxes')) ?? '0');
      }
      expect(boxes).toBeGreaterThan(0);
      await expect.poll(() => review.clock.textContent()).toMatch(/\d{2}:\d{2}:\d{2}/);
      await screenshot(page, 'review-replay-overlay');

      await review.judge('True alarm', 'two people fighting over a seat');
      await expect.poll(() => review.verdict.textContent()).toMatch(/True alarm by rhea/);

      await review.exportEvidence();
      await expect.poll(() => review.exportState.getAttribute('data-state'), { timeout: 30_000 }).toBe('ready');
      await screenshot(page, 'review-exported');
      const download = page.waitForEvent('download');
      await review.downloadButton().click();
      const file = join(mkdtempSync(join(tmpdir(), 'dl-')), 'evidence.zip');
      await (await download).saveAs(file);
      expect(readFileSync(file).subarray(0, 2).toString()).toBe('PK');

      const key = await runSentinel(['evidence', 'key', '--data-dir', core.dataDir]);
      const pem = join(tmpdir(), `installation-${process.pid}.pem`);
      writeFileSync(pem, key.stdout.slice(key.stdout.indexOf('-----BEGIN')));
      const ok = await runSentinel(['evidence', 'verify', file, '--key', pem]);
      expect(ok.code, ok.stderr).toBe(0);
      const tampered = file.replace('.zip', '-tampered.zip');
      await rewriteZip(file, tampered, (es) =>
        es.map((e) => (e.name === 'detections.json' ? { ...e, data: Buffer.concat([e.data, Buffer.from(' ')]) } : e)),
      );
      const bad = await runSentinel(['evidence', 'verify', tampered, '--key', pem]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/detections\.json was altered/);

      // A public copy: the first person of the clip kept as the subject, everyone else blurred.
      await page.getByTestId('public-copy-toggle').check();
      const firstPerson = page.getByTestId('clip-people').locator('input[type=checkbox]').first();
      await firstPerson.check();
      await expect.poll(() => page.getByTestId('public-copy-subjects').textContent()).toMatch(/^Visible: #\d+$/);
      await page.getByTestId('export-evidence').click();
      await expect
        .poll(() => page.getByTestId('public-copy-state').getAttribute('data-state'), { timeout: 120_000, interval: 500 })
        .toBe('ready');
      await expect.poll(() => page.getByTestId('public-copy-state').textContent()).toMatch(/person boxes blurred, subjects #\d+ visible/);
      await screenshot(page, 'review-public-copy');
      const pubDownload = page.waitForEvent('download');
      await page.getByTestId('download-public-copy').click();
      const pubFile = join(mkdtempSync(join(tmpdir(), 'dl-')), 'public.zip');
      await (await pubDownload).saveAs(pubFile);
      const pubOk = await runSentinel(['evidence', 'verify', pubFile, '--key', pem]);
      expect(pubOk.code, pubOk.stderr).toBe(0);
      expect(pubOk.stdout).toMatch(/a redacted copy of the package with SHA-256 [0-9a-f]{64}/);
      expect(errors).toEqual([]);
      await page.close();
      // Four CLI runs (tsx start-up each), a recorded clip and a re-encoded copy: longer than the e2e default.
    }, 420_000);
  },
);
