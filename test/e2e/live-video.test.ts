import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { discoverAssetsDir } from '../../core/config';
import { demoStreams, simulatorAvailable, startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { freePort } from '../integration/ingest-helpers';
import { hasChromium, launchChromium, openPage, screenshot, startServe, type RunningServe } from './harness';
import { CamerasPage } from './pages/cameras';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const skip = !hasChromium ? 'needs /usr/bin/chromium' : !assets ? 'needs the assets pack' : simulatorAvailable();

/** The footage's own frame rate (what the simulated camera streams). */
function footageFps(file: string): number {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=r_frame_rate', '-of', 'default=nw=1:nk=1', file],
    { encoding: 'utf8' },
  );
  const [n, d] = r.stdout.trim().split('/').map(Number);
  return (n ?? 0) / (d || 1);
}

/**
 * Live video in the console against `sentinel serve --demo`: the Clark/Lake camera (vtest.avi,
 * 768x576) plays at its native size and frame rate through MSE, and a camera restart is
 * recovered on the page without a reload. The demo core reuses our simulator (started on its
 * demo port first), so the test can drop and restore the camera.
 */
describe.skipIf(skip !== null)(`live video in Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let sim: RunningSim;
  let core: RunningServe;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    sim = await startSimulator({ port, streams: demoStreams(assets!) });
    core = await startServe({ args: ['--demo'], env: { SENTINEL_DEMO_RTSP_PORT: String(port) }, timeoutMs: 120_000 });
    browser = await launchChromium();
  }, 150_000);
  afterAll(async () => {
    await browser?.close();
    await core?.stop();
    await sim?.close();
  });

  it('plays a camera at its native size and frame rate, and recovers from a camera restart without a reload', async () => {
    const fps = footageFps(join(assets!, 'media', 'vtest.avi'));
    expect(fps).toBeGreaterThan(0);
    const { page, errors } = await openPage(browser, core.url, undefined, { token: core.token });
    const cams = new CamerasPage(page);
    const tile = cams.liveTile('Clark/Lake platform (demo)');
    await expect.poll(() => tile.count(), { timeout: 45_000 }).toBe(1);
    await tile.click();
    const video = cams.liveVideo();
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => `${v.videoWidth}x${v.videoHeight}`), { timeout: 20_000 })
      .toBe('768x576');
    const t1 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 5000 }).toBeGreaterThan(t1 + 0.5);

    // Baseline, same page, same seconds: a recorded clip of this camera played as a plain file
    // shows what this (shared, often loaded) machine can present at all right now.
    let clipId = '';
    await expect
      .poll(
        async () => {
          const cams = ((await (await core.api('/api/v1/cameras')).json()) as { cameras: Array<{ id: string; name: string }> }).cameras;
          const id = cams.find((c) => c.name.startsWith('Clark/Lake'))!.id;
          const now = Date.now();
          const r = await core.api(`/api/v1/cameras/${id}/clips`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ from: now - 9000, to: now - 1000, preRollS: 0, postRollS: 0 }),
          });
          if (r.status === 201) clipId = ((await r.json()) as { id: string }).id;
          return r.status;
        },
        { timeout: 40_000, interval: 2000 },
      )
      .toBe(201);
    await page.evaluate((src) => {
      const v = document.createElement('video');
      v.id = 'baseline-video';
      v.muted = true;
      v.loop = true;
      v.src = src;
      v.style.cssText = 'position:fixed;right:0;top:0;width:192px';
      document.body.append(v);
      void v.play();
    }, `/api/v1/clips/${clipId}/video.mp4`);
    const baseline = page.locator('#baseline-video');
    await expect.poll(() => baseline.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 }).toBeGreaterThan(0.5);
    // Frames presented (decoded and not dropped, the media element's own count) over 5 s.
    const countOf = (el: typeof video) => (): Promise<number> =>
      el.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames - v.getVideoPlaybackQuality().droppedVideoFrames);
    const shownCount = countOf(video);
    // Five windows of 4 s, each compared with the plain file in the same seconds; the median
    // ratio decides, as the benchmarks do on this shared machine (one or two slow windows,
    // when another process takes the cores, are noise).
    const rounds: Array<{ shown: number; baselineShown: number; ratio: number }> = [];
    for (let i = 0; i < 5; i++) {
      const [l0, b0] = [await shownCount(), await countOf(baseline)()];
      const w0 = Date.now();
      await new Promise((r) => setTimeout(r, 4000));
      const secs = (Date.now() - w0) / 1000;
      const shown = ((await shownCount()) - l0) / secs;
      const baselineShown = ((await countOf(baseline)()) - b0) / secs;
      rounds.push({ shown, baselineShown, ratio: shown / Math.min(fps, baselineShown) });
    }
    await baseline.evaluate((v: HTMLVideoElement) => v.remove());
    const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[2]!;
    const said = rounds.map((r) => `live ${r.shown.toFixed(1)} / plain file ${r.baselineShown.toFixed(1)}`).join('; ');
    // The live player shows at least 90 % of the stream's rate, bounded by what the machine
    // presents for a plain file at the same moment (on a quiet machine that is the full rate).
    expect(median.ratio, `${said} fps; stream ${fps} fps`).toBeGreaterThanOrEqual(0.9);
    await expect.poll(() => cams.liveStats().textContent(), { timeout: 5000 }).toMatch(/768×576 · [\d.]+ fps · [\d.]+ s behind/);
    await screenshot(page, 'live-video-detail');

    // Camera restart: the page is the same page (marker survives) and video moves again within 5 s.
    await page.evaluate(() => ((window as unknown as { liveMarker: number }).liveMarker = 42));
    const shownFrames = shownCount;
    await sim.stopStream('station-platform');
    await expect.poll(() => video.getAttribute('data-state'), { timeout: 15_000 }).not.toBe('playing');
    // Nothing new is shown while the camera is down: no media reaches the element. (Its frame
    // counter is no measure: the element still plays out what it had buffered ahead of the
    // playhead, up to 1.5 s, at whatever pace a loaded machine allows; CI saw it pause 0.4 s
    // and then present two more.)
    const bufferedEnd = (): Promise<number> =>
      video.evaluate((v: HTMLVideoElement) => (v.buffered.length ? v.buffered.end(v.buffered.length - 1) : 0));
    const still = await bufferedEnd();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bufferedEnd()).toBe(still);
    // The playhead stops at the end of what it has. Chromium's media clock runs on until the
    // renderer notices the stall, so it may report the playhead up to two frames past it (CI saw
    // 1.6 frames); no frame beyond the buffered end exists to be shown.
    expect(await video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeLessThanOrEqual(still + 2 / fps);
    await sim.startStream('station-platform');
    const back = Date.now();
    const n0 = await shownFrames();
    // A new stream session is a new MediaSource, which restarts the element's frame counters.
    await expect
      .poll(
        async () => {
          const c = await shownFrames();
          return c >= n0 + 5 || (c < n0 && c >= 5);
        },
        { timeout: 5000, interval: 100 },
      )
      .toBe(true);
    expect(Date.now() - back).toBeLessThan(5000);
    expect(await video.evaluate((v: HTMLVideoElement) => `${v.videoWidth}x${v.videoHeight}`)).toBe('768x576');
    await expect.poll(() => video.getAttribute('data-state'), { timeout: 3000 }).toBe('playing');
    expect(await page.evaluate(() => (window as unknown as { liveMarker?: number }).liveMarker)).toBe(42);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
