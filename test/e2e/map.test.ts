import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { discoverAssetsDir } from '../../core/config';
import { demoConsole, hasChromium, openPage, screenshot, startServe } from './harness';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();

/** A rendered vehicle the test can click: its id and where it is on the page. */
interface Rendered {
  id: string;
  x: number;
  y: number;
}

// Runs in the page: the map's handle (window.sentinelMap) is how the test finds rendered
// features, as an operator's eye would, without reaching into React.
async function renderedVehicles(page: Page, layers: string[]): Promise<Rendered[]> {
  return page.evaluate((layerIds) => {
    type Handle = {
      map: {
        queryRenderedFeatures(opts: { layers: string[] }): Array<{ properties: Record<string, unknown>; geometry: { type: string; coordinates: [number, number] } }>;
        project(ll: [number, number]): { x: number; y: number };
        getCanvas(): { getBoundingClientRect(): { left: number; top: number; width: number; height: number } };
      };
    };
    const h = (globalThis as unknown as { sentinelMap?: Handle }).sentinelMap;
    if (!h) return [];
    const rect = h.map.getCanvas().getBoundingClientRect();
    return h.map
      .queryRenderedFeatures({ layers: layerIds })
      .filter((f) => f.geometry.type === 'Point')
      .map((f) => {
        const p = h.map.project(f.geometry.coordinates);
        return { id: String(f.properties.id), x: rect.left + p.x, y: rect.top + p.y };
      })
      .filter((r) => r.x > rect.left + 320 && r.x < rect.left + rect.width - 60 && r.y > rect.top + 60 && r.y < rect.top + rect.height - 30);
  }, layers);
}

describe.skipIf(!hasChromium || !assets)('live transit map in Chromium (skipped: needs /usr/bin/chromium and the assets pack)', () => {
  const env = demoConsole();

  it('shows the demo fleet over the Chicago basemap; clicking a vehicle shows its details', async () => {
    const { page, errors } = await openPage(env.browser, env.core.url, undefined, { token: env.core.token });
    await expect.poll(() => page.getByTestId('map').getAttribute('data-ready'), { timeout: 30_000 }).toBe('true');
    await expect.poll(() => page.getByTestId('feed-status').first().getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    expect(await page.getByTestId('feed-status').first().textContent()).toMatch(/Demo fleet: 1[5-9]\d\d vehicles/);

    // City view: trains one by one, buses in clusters.
    await expect.poll(async () => (await renderedVehicles(page, ['trains'])).length, { timeout: 30_000 }).toBeGreaterThan(20);
    await expect.poll(async () => (await renderedVehicles(page, ['bus-clusters'])).length, { timeout: 10_000 }).toBeGreaterThan(5);
    await page.waitForTimeout(1500);
    await screenshot(page, 'map-city');

    // Zoom into the Loop: individual buses appear.
    await page.evaluate(() => {
      const h = (globalThis as unknown as { sentinelMap: { map: { jumpTo(o: { center: [number, number]; zoom: number }): void } } }).sentinelMap;
      h.map.jumpTo({ center: [-87.6298, 41.8815], zoom: 14.2 });
    });
    await expect.poll(async () => (await renderedVehicles(page, ['buses'])).length, { timeout: 20_000 }).toBeGreaterThan(3);
    const buses = await renderedVehicles(page, ['buses']);
    // A bus away from the centre, so that following it visibly moves the map.
    const centre = await page.evaluate(() => {
      const h = (globalThis as unknown as { sentinelMap: { map: { getCanvas(): { getBoundingClientRect(): { left: number; top: number; width: number; height: number } } } } }).sentinelMap;
      const r = h.map.getCanvas().getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    const target = [...buses].sort((a, b) => Math.hypot(b.x - centre.x, b.y - centre.y) - Math.hypot(a.x - centre.x, a.y - centre.y))[0]!;
    expect(Math.hypot(target.x - centre.x, target.y - centre.y)).toBeGreaterThan(100);
    await page.mouse.click(target.x, target.y);
    const details = page.getByTestId('vehicle-details');
    await expect.poll(() => details.isVisible(), { timeout: 10_000 }).toBe(true);
    const clicked = await details.getAttribute('data-vehicle-id');
    expect(clicked).toMatch(/^bus:\d+$/);
    // The clicked vehicle is one of those rendered under the cursor's neighbourhood.
    expect(buses.map((b) => b.id)).toContain(clicked);
    expect(await page.getByTestId('vehicle-title').textContent()).toMatch(/^Bus \d+ · route \S+/);
    expect(await page.getByTestId('vehicle-destination').textContent()).toMatch(/bound$/);
    expect(await page.getByTestId('vehicle-delay').textContent()).toMatch(/^(On time|Delayed)$/);
    await expect(details.textContent()).resolves.toMatch(/CPD district \d+/);
    await page.waitForTimeout(500);
    await screenshot(page, 'map-vehicle-details');

    // Follow: the map centres on the bus as it moves.
    await page.getByTestId('follow-vehicle').click();
    await expect.poll(() => page.getByTestId('follow-vehicle').getAttribute('aria-pressed')).toBe('true');
    const offset = (id: string) =>
      page.evaluate((vid) => {
        type H = { map: { getCenter(): { lng: number; lat: number } }; fleet: { vehicles: Map<string, { lat: number; lon: number }> } };
        const h = (globalThis as unknown as { sentinelMap: H }).sentinelMap;
        const c = h.map.getCenter();
        const v = h.fleet.vehicles.get(vid);
        return v ? Math.hypot(c.lng - v.lon, c.lat - v.lat) : Infinity;
      }, id);
    // The map recentres on the bus (it was off-centre when clicked) and stays with it.
    await expect.poll(() => offset(clicked!), { timeout: 10_000 }).toBeLessThan(0.0005);

    // Filter to one rail line: only its trains stay on the map. Stop following first: a
    // follow still on would pull the view back to the bus, away from the rail lines.
    await page.getByTestId('follow-vehicle').click();
    await expect.poll(() => page.getByTestId('follow-vehicle').getAttribute('aria-pressed')).toBe('false');
    await page.evaluate(() => {
      const h = (globalThis as unknown as { sentinelMap: { map: { jumpTo(o: { center: [number, number]; zoom: number }): void } } }).sentinelMap;
      h.map.jumpTo({ center: [-87.68, 41.84], zoom: 10.3 });
    });
    await page.getByTestId('filter-line').selectOption('Red');
    await expect
      .poll(
        async () =>
          page.evaluate(() => {
            const h = (globalThis as unknown as { sentinelMap: { map: { queryRenderedFeatures(o: { layers: string[] }): Array<{ properties: { route: string } }> } } }).sentinelMap;
            return [...new Set(h.map.queryRenderedFeatures({ layers: ['trains'] }).map((f) => f.properties.route))].join(',');
          }),
        { timeout: 10_000 },
      )
      .toBe('Red');

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
    writeFileSync(config, JSON.stringify({ feeds: { trainTracker: { apiKey: 'test-key-not-shown', baseUrl: `http://127.0.0.1:${deadPort}/api/1.0`, intervalS: 5 } } }));
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
    await expect.poll(() => page.getByTestId('map').getAttribute('data-ready'), { timeout: 30_000 }).toBe('true');
    await expect.poll(async () => (await renderedVehicles(page, ['trains'])).length, { timeout: 30_000 }).toBeGreaterThan(20);
    // Count updateData and setData calls on the vehicle sources from here on.
    await page.evaluate(() => {
      type Src = { updateData: (...a: unknown[]) => unknown; setData: (...a: unknown[]) => unknown };
      const h = (globalThis as unknown as { sentinelMap: { map: { getSource(id: string): Src } } }).sentinelMap;
      const counts = { updateData: 0, setData: 0 };
      (globalThis as unknown as { __counts: typeof counts }).__counts = counts;
      for (const id of ['buses', 'trains']) {
        const s = h.map.getSource(id);
        const u = s.updateData.bind(s);
        const d = s.setData.bind(s);
        s.updateData = (...a: unknown[]) => ((counts.updateData += 1), u(...a));
        s.setData = (...a: unknown[]) => ((counts.setData += 1), d(...a));
      }
    });
    const before = new Map((await renderedVehicles(page, ['trains'])).map((r) => [r.id, r]));
    await page.waitForTimeout(12_000); // one full report interval of the demo fleet
    const after = await renderedVehicles(page, ['trains']);
    const moved = after.filter((r) => {
      const b = before.get(r.id);
      return b && (Math.abs(b.x - r.x) > 0.5 || Math.abs(b.y - r.y) > 0.5);
    });
    expect(moved.length).toBeGreaterThan(5);
    const counts = await page.evaluate(() => (globalThis as unknown as { __counts: { updateData: number; setData: number } }).__counts);
    expect(counts.updateData).toBeGreaterThan(5);
    expect(counts.setData).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
