import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { discoverAssetsDir } from '../../core/config';
import { simulatorAvailable } from '../../tools/rtsp-sim/sim';
import { freePort } from '../integration/ingest-helpers';
import { hasChromium, launchChromium, openPage, screenshot, startServe, tempDir, type RunningServe } from './harness';
import { PlaybackPage, WallPage } from './pages/wall';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const skip = !hasChromium ? 'needs /usr/bin/chromium' : !assets ? 'needs the assets pack' : simulatorAvailable();

/**
 * The video wall and playback in Chromium against `sentinel serve --demo` (2 s recording
 * segments so there is something to scrub through quickly): a wall layout and a dragged
 * arrangement survive a reload, the spotlight tile switches to the camera of a new alert, and
 * the camera panel scrubs back into the recording, plays it, and returns to live.
 */
describe.skipIf(skip !== null)(`video wall and playback in Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let core: RunningServe;
  let browser: Browser;
  const cams = async (): Promise<Array<{ id: string; name: string; health: { state: string } }>> =>
    ((await (await core.api('/api/v1/cameras')).json()) as { cameras: Array<{ id: string; name: string; health: { state: string } }> })
      .cameras;

  beforeAll(async () => {
    const config = join(tempDir('sentinel-wall-'), 'config.json');
    writeFileSync(config, JSON.stringify({ recording: { segmentSeconds: 2 } }));
    core = await startServe({
      args: ['--demo', '--config', config],
      env: { SENTINEL_DEMO_RTSP_PORT: String(await freePort()) },
      timeoutMs: 120_000,
    });
    browser = await launchChromium();
  }, 150_000);
  afterAll(async () => {
    await browser?.close();
    await core?.stop();
  });

  it('keeps the layout and the dragged order across a reload, and spotlights the newest unacknowledged alert', async () => {
    await expect.poll(async () => (await cams()).filter((c) => c.health.state === 'live').length, { timeout: 60_000 }).toBeGreaterThan(1);
    const { page, errors } = await openPage(browser, core.url, undefined, { token: core.token });
    const wall = new WallPage(page);
    await wall.open();
    await wall.setSpotlight(false);
    await wall.chooseLayout(9);
    await expect.poll(() => wall.tiles.count(), { timeout: 10_000 }).toBe(9);
    await expect.poll(async () => (await wall.order()).filter(Boolean).length, { timeout: 20_000 }).toBeGreaterThan(1);
    const before = await wall.order();
    await wall.drag(0, 1);
    await expect.poll(() => wall.order(), { timeout: 5000 }).toEqual([before[1], before[0], ...before.slice(2)]);
    await expect.poll(() => wall.saved.textContent(), { timeout: 10_000 }).toBe('Saved to your account');
    // Saved on the core: the same wall after a reload (and in any other window of this user).
    await expect
      .poll(async () => ((await (await core.api('/api/v1/me/wall')).json()) as { layout: number; tiles: string[] }).tiles.slice(0, 2), {
        timeout: 10_000,
      })
      .toEqual([before[1], before[0]]);
    await page.reload();
    await wall.open();
    await expect.poll(() => wall.layout(), { timeout: 10_000 }).toBe('9');
    await expect.poll(() => wall.order(), { timeout: 20_000 }).toEqual([before[1], before[0], ...before.slice(2)]);
    // Tiles on screen play live video.
    await expect
      .poll(() => page.locator('[data-testid="wall-tile"] [data-testid="live-video"]').count(), { timeout: 30_000 })
      .toBeGreaterThan(1);

    // The spotlight follows the newest alert nobody has acknowledged.
    await wall.setSpotlight(true);
    await expect.poll(() => wall.spotlight.count()).toBe(1);
    const list = await cams();
    const send = async (cameraId: string, cameraName: string): Promise<string> => {
      const r = await core.api('/api/v1/test-alert', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'fight', cameraId, cameraName, district: '1' }),
      });
      expect(r.status).toBe(201);
      return ((await r.json()) as { id: string }).id;
    };
    const [a, b] = [list[0]!, list[1]!];
    await send(a.id, a.name);
    await expect.poll(() => wall.spotlight.getAttribute('data-camera-id'), { timeout: 15_000 }).toBe(a.id);
    await send(b.id, b.name);
    await expect.poll(() => wall.spotlight.getAttribute('data-camera-id'), { timeout: 15_000 }).toBe(b.id);
    await expect.poll(() => wall.spotlight.textContent()).toContain('Fight');
    await screenshot(page, 'video-wall');
    expect(errors).toEqual([]);
    // Nine players decoding on a 2-core machine: close them before the next test.
    await page.close();
  }, 180_000);

  it('scrubs back through the recording, plays it from there, and returns to live', async () => {
    const cam = (await cams()).find((c) => c.name.startsWith('Clark/Lake'))!;
    // Some recording to go back into: a moment ~18 s before the newest recorded frame, inside a
    // span (a loaded machine may have cut the recording with a reconnect).
    const pick = async (): Promise<number | null> => {
      const r = (await (await core.api(`/api/v1/cameras/${cam.id}/recording`)).json()) as { spans: Array<{ from: string; to: string }> };
      const end = r.spans.length ? Date.parse(r.spans.at(-1)!.to) : 0;
      const span = r.spans.filter((x) => Date.parse(x.from) <= end - 18_000 && Date.parse(x.to) - Date.parse(x.from) >= 4000).at(-1);
      if (!span) return null;
      return Math.min(Math.max(end - 18_000, Date.parse(span.from) + 1000), Date.parse(span.to) - 3000);
    };
    await expect.poll(pick, { timeout: 90_000, interval: 1000 }).not.toBeNull();
    const target = (await pick())!;
    const { page, errors } = await openPage(browser, core.url, undefined, { token: core.token });
    const tile = page.getByRole('button', { name: /^Clark\/Lake platform \(demo\): Live/ });
    await expect.poll(() => tile.count(), { timeout: 45_000 }).toBe(1);
    await tile.click();
    const pb = new PlaybackPage(page);
    await pb.bar.waitFor({ timeout: 20_000 });
    expect(await pb.mode()).toBe('live');
    const scrubbedAt = Date.now();
    await pb.scrubTo(target);
    await expect.poll(() => pb.mode(), { timeout: 10_000 }).toBe('playback');
    await expect.poll(() => pb.video.getAttribute('data-state'), { timeout: 20_000 }).toBe('playing');
    // On screen: the recorded moment asked for (within a second or two), moving forward.
    await expect.poll(() => pb.shownAt(), { timeout: 10_000 }).not.toBeNull();
    const first = (await pb.shownAt())!;
    // From the keyframe at or before the moment (1 s GOP), and not further on than it has been playing.
    expect(first).toBeGreaterThan(target - 1500);
    expect(first).toBeLessThan(target + (Date.now() - scrubbedAt) + 500);
    await expect.poll(async () => (await pb.shownAt())!, { timeout: 10_000 }).toBeGreaterThan(first + 1000);
    const t1 = await pb.video.evaluate((v: HTMLVideoElement) => v.currentTime);
    await expect.poll(() => pb.video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 5000 }).toBeGreaterThan(t1 + 0.5);
    expect(await pb.bar.getByTestId('playback-mode').textContent()).toMatch(/^REPLAY \d\d:\d\d:\d\d$/);
    await screenshot(page, 'playback');
    await pb.backToLive();
    await expect.poll(() => pb.mode(), { timeout: 10_000 }).toBe('live');
    await expect.poll(() => pb.video.getAttribute('data-state'), { timeout: 20_000 }).toBe('playing');
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
