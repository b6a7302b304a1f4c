import { describe, expect, it } from 'vitest';
import { discoverAssetsDir } from '../../core/config';
import { demoConsole, hasChromium, openPage, screenshot } from './harness';
import { CamerasPage } from './pages/cameras';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();

/**
 * `sentinel serve --demo` shows live tiles for the demo cameras.
 * The demo cameras are the real GStreamer RTSP simulator serving the assets' footage; the
 * tiles are the core's real snapshots. Also checks that a camera's password never reaches
 * the page.
 */
describe.skipIf(!hasChromium || !assets)('camera tiles in Chromium (skipped: needs /usr/bin/chromium and the assets pack)', () => {
  const env = demoConsole();

  it('shows every demo camera live with a real picture; a tile opens the camera detail', async () => {
    // A camera with credentials, registered through the API like a technician would.
    const secret = 'Pl4tform@pw:%x';
    const res = await env.core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Locked camera',
        url: 'rtsp://127.0.0.1:9/unreachable',
        username: 'tech',
        password: secret,
        analyticsEnabled: false,
      }),
    });
    expect(res.status).toBe(201);

    const { page, errors } = await openPage(env.browser, env.core.url, undefined, { token: env.core.token });
    const cams = new CamerasPage(page);
    const tiles = cams.tiles;
    await expect.poll(() => tiles.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(5);
    const demoNames = [
      'Clark/Lake platform (demo)',
      'Jackson Blue Line entrance (demo)',
      'Bus 1234 operator cab (demo)',
      'Railcar 5001 interior (demo)',
    ];
    for (const name of demoNames) {
      const tile = cams.liveTile(name);
      await expect.poll(() => tile.count(), { timeout: 45_000 }).toBe(1);
      // A decoded picture, not a broken image: live video on screen (or the snapshot until it plays).
      await expect.poll(() => cams.pictureWidth(tile), { timeout: 20_000 }).toBeGreaterThan(100);
    }
    const locked = cams.tile('Locked camera');
    await expect.poll(() => locked.getAttribute('aria-label'), { timeout: 30_000 }).not.toMatch(/Live$/);
    await screenshot(page, 'cameras-demo-tiles');

    await cams.liveTile('Clark/Lake platform (demo)').click();
    const detail = cams.detail;
    await expect.poll(() => detail.isVisible()).toBe(true);
    await expect.poll(() => detail.textContent()).toMatch(/Clark\/Lake platform/);
    // How far back this camera's recording goes, from the core's recording index.
    await expect.poll(() => cams.recordingSince.textContent(), { timeout: 30_000 }).toMatch(/kept since \d/);
    await screenshot(page, 'cameras-detail');

    // The password is nowhere in the page (DOM or anything the page fetched into it).
    expect(await page.content()).not.toContain(secret);
    expect(await page.content()).not.toContain(encodeURIComponent(secret));
    expect(errors).toEqual([]);
    await page.close();
  });
});
