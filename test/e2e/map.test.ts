import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverAssetsDir } from '../../core/config';
import { demoConsole, hasChromium, openPage, screenshot, startServe } from './harness';
import { MapPage } from './pages/map';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();

describe.skipIf(!hasChromium || !assets)('live transit map in Chromium (skipped: needs /usr/bin/chromium and the assets pack)', () => {
  const env = demoConsole();

  it('shows the demo fleet over the Chicago basemap; clicking a vehicle shows its details', async () => {
    const { page, errors } = await openPage(env.browser, env.core.url, undefined, { token: env.core.token });
    const map = new MapPage(page);
    await map.waitReady();
    await expect.poll(() => map.feedStatus.getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    expect(await map.feedStatus.textContent()).toMatch(/Demo fleet: 1[5-9]\d\d vehicles/);

    // City view: trains one by one, buses in clusters.
    await expect.poll(async () => (await map.rendered(['trains'], true)).length, { timeout: 30_000 }).toBeGreaterThan(20);
    await expect.poll(async () => (await map.rendered(['bus-clusters'], true)).length, { timeout: 10_000 }).toBeGreaterThan(5);
    await map.settled();
    await screenshot(page, 'map-city');

    // Zoom into the Loop: individual buses appear.
    await map.jumpTo([-87.6298, 41.8815], 14.2);
    await expect.poll(async () => (await map.rendered(['buses'], true)).length, { timeout: 20_000 }).toBeGreaterThan(3);
    const buses = await map.rendered(['buses'], true);
    // A bus away from the centre, so that following it visibly moves the map.
    const centre = await map.centre();
    const target = [...buses].sort((a, b) => Math.hypot(b.x - centre.x, b.y - centre.y) - Math.hypot(a.x - centre.x, a.y - centre.y))[0]!;
    expect(Math.hypot(target.x - centre.x, target.y - centre.y)).toBeGreaterThan(100);
    await page.mouse.click(target.x, target.y);
    const details = map.details;
    await expect.poll(() => details.isVisible(), { timeout: 10_000 }).toBe(true);
    const clicked = await details.getAttribute('data-vehicle-id');
    expect(clicked).toMatch(/^bus:\d+$/);
    // The clicked vehicle is one of those rendered under the cursor's neighbourhood.
    expect(buses.map((b) => b.id)).toContain(clicked);
    expect(await map.vehicleField('title').textContent()).toMatch(/^Bus \d+ · route \S+/);
    expect(await map.vehicleField('destination').textContent()).toMatch(/bound$/);
    expect(await map.vehicleField('delay').textContent()).toMatch(/^(On time|Delayed)$/);
    await expect(details.textContent()).resolves.toMatch(/CPD district \d+/);
    await map.settled();
    await screenshot(page, 'map-vehicle-details');

    // Follow: the map centres on the bus as it moves.
    await map.followButton.click();
    await expect.poll(() => map.followButton.getAttribute('aria-pressed')).toBe('true');
    // The map recentres on the bus (it was off-centre when clicked) and stays with it.
    await expect.poll(() => map.offsetFrom(clicked!), { timeout: 10_000 }).toBeLessThan(0.0005);

    // Filter to one rail line: only its trains stay on the map. Stop following first: a
    // follow still on would pull the view back to the bus, away from the rail lines.
    await map.followButton.click();
    await expect.poll(() => map.followButton.getAttribute('aria-pressed')).toBe('false');
    await map.jumpTo([-87.68, 41.84], 10.3);
    await map.filterLine('Red');
    await expect.poll(() => map.renderedValues('trains', 'route'), { timeout: 10_000 }).toBe('Red');

    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a feed outage in the status bar while the demo fleet stays live', async () => {
    // A Train Tracker address where nothing listens (a port just freed): every poll is refused,
    // the way a real outage looks from here.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-outage-'));
    const config = join(dir, 'sentinel.json');
    writeFileSync(
      config,
      JSON.stringify({
        feeds: { trainTracker: { apiKey: 'test-key-not-shown', baseUrl: `http://127.0.0.1:${deadPort}/api/1.0`, intervalS: 5 } },
      }),
    );
    const outage = await startServe({ args: ['--demo', '--config', config] });
    try {
      const { page, errors } = await openPage(env.browser, outage.url, undefined, { token: outage.token });
      const tt = page.locator('[data-testid="feed-status"][data-feed="train-tracker"]');
      await expect.poll(() => tt.getAttribute('data-state'), { timeout: 30_000 }).toBe('outage');
      expect(await tt.textContent()).toMatch(/^Train Tracker: outage \(\d+ failed calls: .+\); showing last positions$/);
      expect(await tt.textContent()).not.toContain('test-key-not-shown');
      expect(await page.locator('[data-testid="feed-status"][data-feed="demo"]').getAttribute('data-state')).toBe('live');
      await screenshot(page, 'map-feed-outage');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await outage.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies vehicle updates as diffs: a rendered train moves without a full redraw', async () => {
    const { page, errors } = await openPage(env.browser, env.core.url, undefined, { token: env.core.token });
    const map = new MapPage(page);
    await map.waitReady();
    await expect.poll(async () => (await map.rendered(['trains'], true)).length, { timeout: 30_000 }).toBeGreaterThan(20);
    // Count updateData and setData calls on the vehicle sources from here on.
    await map.countSourceCalls(['buses', 'trains']);
    const before = new Map((await map.rendered(['trains'], true)).map((r) => [r.id, r]));
    // Wait until more than five trains have moved (the demo fleet reports every few seconds)...
    const moved = async (): Promise<number> =>
      (await map.rendered(['trains'], true)).filter((r) => {
        const b = before.get(r.id);
        return b && (Math.abs(b.x - r.x) > 0.5 || Math.abs(b.y - r.y) > 0.5);
      }).length;
    // ...and more than five diffs were applied (the fleet sends one per report group).
    await expect
      .poll(async () => (await moved()) > 5 && (await map.sourceCalls()).updateData > 5, { timeout: 30_000, interval: 1000 })
      .toBe(true);
    expect((await map.sourceCalls()).setData).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
