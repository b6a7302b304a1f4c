import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverAssetsDir } from '../../core/config';
import { demoConsole, hasChromium, openPage, screenshot } from './harness';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const ready = hasChromium && assets !== null && existsSync(join(assets, 'models', 'yolox_nano.onnx')) && existsSync(join(assets, 'media', 'worker-zone-detection.gif'));

/**
 * Issue 5's console part: `sentinel serve --demo` runs the real pipeline on the demo
 * cameras (RTSP simulator -> ffmpeg -> YOLOX-nano -> tracker -> rules) and the alerts they
 * raise reach the console's queue with their snapshot; crowding shows its occupancy chart.
 */
describe.skipIf(!ready)('alert queue in Chromium (skipped: needs /usr/bin/chromium and the assets pack with yolox_nano.onnx)', () => {
  const env = demoConsole();

  it('shows real alerts from the demo cameras, newest first, with snapshot, chart and keyboard selection', async () => {
    const { page, errors } = await openPage(env.browser, env.core.url, undefined, { token: env.core.token });
    const items = page.getByTestId('alert-item');
    // The operator-cab footage (a worker walking into the zone) and the railcar (four people
    // seated, capacity 4) both raise within seconds of the cameras going live.
    await expect.poll(() => page.locator('[data-testid="alert-item"].kind-barrier').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.locator('[data-testid="alert-item"].kind-crowding').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    const barrier = page.locator('[data-testid="alert-item"].kind-barrier').first();
    expect(await barrier.textContent()).toMatch(/Operator barrier.*Bus 1234 operator cab \(demo\) · Operator area/);

    // Newest first.
    const times = await items.evaluateAll((els) => els.map((e) => e.querySelector('time')?.getAttribute('datetime') ?? ''));
    expect([...times].sort().reverse()).toEqual(times);

    // Selecting the barrier alert shows its snapshot (a decoded JPEG from the core).
    await barrier.click();
    const detail = page.getByTestId('alert-detail');
    await expect.poll(() => detail.textContent()).toMatch(/Operator barrier/);
    await expect.poll(() => detail.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBeGreaterThan(100);
    await screenshot(page, 'alerts-barrier');

    // A crowding alert shows the zone's occupancy chart.
    await page.locator('[data-testid="alert-item"].kind-crowding').first().click();
    await expect.poll(() => detail.locator('svg.alert-chart').count(), { timeout: 20_000 }).toBe(1);
    expect(await detail.locator('svg.alert-chart').getAttribute('aria-label')).toMatch(/capacity \d/);
    await screenshot(page, 'alerts-crowding-chart');

    // Keyboard: the focused item moves with the arrow keys and the detail follows.
    const first = items.first();
    await first.focus();
    const firstId = await first.getAttribute('data-alert-id');
    await page.keyboard.press('ArrowDown');
    const focusedId = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute('data-alert-id') ?? null);
    expect(focusedId).not.toBe(firstId);
    expect(await page.locator(`[data-alert-id="${focusedId}"]`).getAttribute('aria-selected')).toBe('true');

    expect(errors).toEqual([]);
    await page.close();
  });
});
