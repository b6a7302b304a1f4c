import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverAssetsDir } from '../../core/config';
import { TEST_ADMIN } from '../support/auth';
import { demoConsole, hasChromium, openPage, screenshot } from './harness';
import { AlertQueuePage } from './pages/alerts';
import { MapPage, type RenderedFeature } from './pages/map';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const ready =
  hasChromium &&
  assets !== null &&
  existsSync(join(assets, 'models', 'yolox_nano.onnx')) &&
  existsSync(join(assets, 'media', 'worker-zone-detection.gif'));

const BUS_CAMERA = 'Bus 1234 operator cab (demo)';
const BUS = 'bus:1234';

/**
 * The console side of the alert loop: `sentinel serve --demo` runs the real pipeline on the
 * demo cameras (RTSP simulator -> ffmpeg -> YOLOX-nano -> tracker -> rules); the alerts it
 * raises reach the queue with their snapshot, appear on the map where they happen (riding on
 * the bus for the bus camera), and are worked from the queue by keyboard.
 */
describe.skipIf(!ready)('alert queue in Chromium (skipped: needs /usr/bin/chromium and the assets pack with yolox_nano.onnx)', () => {
  const env = demoConsole();

  it('shows real alerts from the demo cameras, newest first, with snapshot, chart and keyboard selection', async () => {
    const { page, errors } = await openPage(env.browser, env.core.url, undefined, { token: env.core.token });
    const queue = new AlertQueuePage(page);
    // The operator-cab footage (a worker walking into the zone) and the railcar (four people
    // seated, capacity 4) both raise within seconds of the cameras going live.
    await expect.poll(() => queue.ofKind('barrier').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => queue.ofKind('crowding').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    const barrier = queue.ofKind('barrier').first();
    expect(await barrier.textContent()).toMatch(/Operator barrier.*Bus 1234 operator cab \(demo\) · Operator area/);

    // Newest first.
    const times = await queue.times();
    expect([...times].sort().reverse()).toEqual(times);

    // Selecting the barrier alert shows its snapshot (a decoded JPEG from the core).
    await barrier.click();
    await expect.poll(() => queue.detail.textContent()).toMatch(/Operator barrier/);
    await expect
      .poll(() => queue.detail.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), {
        timeout: 10_000,
      })
      .toBeGreaterThan(100);
    await screenshot(page, 'alerts-barrier');

    // A crowding alert shows the zone's occupancy chart.
    await queue.ofKind('crowding').first().click();
    await expect.poll(() => queue.detail.locator('svg.alert-chart').count(), { timeout: 20_000 }).toBe(1);
    expect(await queue.detail.locator('svg.alert-chart').getAttribute('aria-label')).toMatch(/capacity \d/);
    await screenshot(page, 'alerts-crowding-chart');

    // Keyboard: the focused item moves with the arrow keys and the detail follows.
    const first = queue.items.first();
    await first.focus();
    const firstId = await first.getAttribute('data-alert-id');
    await page.keyboard.press('ArrowDown');
    const focusedId = await queue.focusedAlertId();
    expect(focusedId).not.toBe(firstId);
    expect(await queue.item(focusedId!).getAttribute('aria-selected')).toBe('true');

    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the bus camera’s alert on the bus, moving with it; the vehicle panel lists it; A acknowledges and C clips it from the queue', async () => {
    const { page, errors } = await openPage(env.browser, env.core.url, undefined, { token: env.core.token });
    const map = new MapPage(page);
    const queue = new AlertQueuePage(page);
    await map.waitReady();
    await expect.poll(() => queue.ofCamera(BUS_CAMERA).count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);

    // Look at the bus from close by (the alert marker is drawn at any zoom; close up the
    // rendered position is precise to a few metres).
    await expect.poll(() => map.vehicle(BUS), { timeout: 20_000 }).not.toBeNull();
    const start = (await map.vehicle(BUS))!;
    await map.jumpTo([start.lon, start.lat], 14.5);
    const marker = async (): Promise<RenderedFeature | undefined> =>
      (await map.rendered(['alerts'])).find((f) => f.properties.vehicleId === BUS);
    // On the map, where the bus is now (the fleet's live position, not where it was raised).
    const atBus = async (): Promise<number> => {
      const [m, v] = await Promise.all([marker(), map.vehicle(BUS)]);
      return m && v ? Math.hypot(m.lon - v.lon, m.lat - v.lat) : Infinity;
    };
    await expect.poll(atBus, { timeout: 20_000 }).toBeLessThan(0.0002);
    const first = (await marker())!;
    expect(first.properties).toMatchObject({ cameraId: expect.any(String), severity: 'high', kind: 'barrier' });

    // The bus moves on: the marker goes with it, and the bus's recent trail is drawn.
    const moved = async (): Promise<boolean> => {
      const m = await marker();
      return m !== undefined && Math.hypot(m.lon - first.lon, m.lat - first.lat) > 0.00005 && (await atBus()) < 0.0002;
    };
    await expect.poll(moved, { timeout: 60_000, interval: 1000 }).toBe(true);
    await expect
      .poll(
        () =>
          page.evaluate(
            () =>
              (
                globalThis as unknown as { sentinelMap: { map: { queryRenderedFeatures(o: { layers: string[] }): unknown[] } } }
              ).sentinelMap.map.queryRenderedFeatures({ layers: ['alert-trails'] }).length,
          ),
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);

    // Clicking the marker opens the bus's panel: its camera and the open alert are listed.
    const now = (await marker())!;
    await page.mouse.click(now.x, now.y);
    await expect.poll(() => map.details.getAttribute('data-vehicle-id'), { timeout: 10_000 }).toBe(BUS);
    await expect.poll(() => map.vehicleCameras.allTextContents()).toEqual([expect.stringContaining(BUS_CAMERA)]);
    await expect
      .poll(async () => (await map.vehicleAlerts.allTextContents()).some((t) => t.startsWith(`Operator barrier · ${BUS_CAMERA}`)), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(await map.details.getByTestId('vehicle-alerts-unknown').count()).toBe(0);
    // ...and selects its alert in the queue (and its incident, once the core has made one).
    const alertId = String(now.properties.alertId);
    await expect.poll(() => queue.item(alertId).getAttribute('aria-selected')).toBe('true');
    if (typeof now.properties.incidentId === 'string')
      await expect.poll(() => queue.incident(String(now.properties.incidentId)).getAttribute('class')).toMatch(/\bselected\b/);
    await map.settled();
    await screenshot(page, 'alerts-on-map-bus');

    // Keyboard, in the alert queue: E asks before telling the police; Esc cancels and the
    // focus goes back to the alert.
    await queue.press(alertId, 'e');
    await expect.poll(() => queue.confirmDialog.isVisible()).toBe(true);
    // One dialog: the key acted on the alert queue only, not on the incident queue beside it.
    expect(await queue.confirmDialog.count()).toBe(1);
    await screenshot(page, 'alerts-escalate-confirm');
    expect(await queue.confirmDialog.textContent()).toContain(BUS_CAMERA);
    await page.keyboard.press('Escape');
    await expect.poll(() => queue.confirmDialog.count()).toBe(0);
    expect(await queue.focusedAlertId()).toBe(alertId);
    expect(await queue.item(alertId).getByTestId('alert-state').textContent()).not.toContain('escalated');

    // A acknowledges the focused alert (the core answers, the queue shows who).
    expect(await queue.item(alertId).getAttribute('data-acked')).toBe('false');
    await page.keyboard.press('a');
    await expect.poll(() => queue.item(alertId).getAttribute('data-acked'), { timeout: 10_000 }).toBe('true');
    expect(await queue.item(alertId).getByTestId('alert-state').textContent()).toContain(`acknowledged (${TEST_ADMIN.username})`);
    await screenshot(page, 'alerts-acknowledged');

    // C cuts a clip of the alert from the recording (the real recorder and ffmpeg).
    await queue.press(alertId, 'c');
    await expect
      .poll(() => queue.detail.getByTestId('alert-outcome').textContent(), { timeout: 60_000 })
      .toMatch(/^(Clip cut: [\d.]+ s|No clip: .+)/);
    expect(await queue.detail.getByTestId('alert-outcome').textContent()).toMatch(/^Clip cut: [\d.]+ s/);

    expect(errors).toEqual([]);
    await page.close();
  });
});
