import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraList, CameraZones } from '../../contract';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { freePort, skipReason, vtest } from '../integration/ingest-helpers';
import { createAndLogin, type SignedIn } from '../support/auth';
import { hasChromium, launchChromium, openPage, screenshot, startServe, type RunningServe } from './harness';
import { ShellPage } from './pages/shell';
import { TechnicianPage } from './pages/technician';

const why = !hasChromium ? '/usr/bin/chromium is not installed' : skipReason;

/**
 * The technician's path in Chromium against the real `sentinel serve` and the real RTSP
 * simulator: register a camera through the form (the probe reads the simulator's stream),
 * draw a zone over its live picture and find it again after a reload, and import a CSV with
 * a bad row (the per-row report, nothing imported).
 */
describe.skipIf(why !== null)(`technician screens in Chromium${why ? ` (skipped: ${why})` : ''}`, () => {
  let browser: Browser;
  let core: RunningServe;
  let sim: RunningSim;
  let tech: SignedIn;

  beforeAll(async () => {
    sim = await startSimulator({ port: await freePort(), streams: [{ name: 'platform', file: vtest }] });
    // A loaded CI machine (other suites' ffmpeg and ONNX) can be slow to start a core.
    core = await startServe({ timeoutMs: 60_000 });
    tech = await createAndLogin(core.url, core.admin!, { username: 'terry-tech', password: 'technician-password-2', role: 'technician' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await core?.stop();
    await sim?.close();
  });

  const cameras = async () => CameraList.parse(await (await tech.api('/api/v1/cameras')).json()).cameras;

  it('registers a camera through the form (probe succeeds), draws a zone, and the zone survives a reload', async () => {
    const { page, errors, expectErrors } = await openPage(browser, core.url, undefined, { token: tech.token });
    // The one expected failure: Chromium logs the failed probe's 503 answer (checked at the end).
    expectErrors(/503 \(Service Unavailable\)/);
    const shell = new ShellPage(page);
    const tp = new TechnicianPage(page);
    await shell.waitConnected(15_000);
    // The workspace switch: F2 moves from Operations to the Video wall, then to Cameras.
    await page.keyboard.press('F2');
    await expect.poll(() => shell.tab('Video wall').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('F2');
    await expect.poll(() => tp.workspace.isVisible()).toBe(true);
    expect(await shell.tab('Cameras').getAttribute('aria-selected')).toBe('true');
    await screenshot(page, 'technician-empty');

    await tp.addCamera();
    const form = tp.form;
    await tp.field('Name').fill('Clark/Lake platform 1');
    // Live validation: a wrong scheme is named as it is typed, before anything is sent.
    await tp.field('RTSP URL').fill('http://127.0.0.1/cam');
    await expect.poll(() => tp.urlError.textContent()).toContain('scheme "http:" is not supported');
    // The probe names the exact failure of a valid URL nobody answers on.
    await tp.field('RTSP URL').fill(`rtsp://127.0.0.1:${await freePort()}/cam`);
    await expect.poll(() => tp.probe.getAttribute('data-state'), { timeout: 20_000 }).toBe('failed');
    expect(await tp.probe.textContent()).toMatch(/connection refused by 127\.0\.0\.1:\d+/);
    await screenshot(page, 'technician-probe-failed');
    await tp.field('RTSP URL').fill(sim.url('platform'));
    const probe = tp.probe;
    await expect.poll(() => probe.getAttribute('data-state'), { timeout: 20_000 }).toBe('ok');
    expect(await probe.textContent()).toMatch(/H264 · 768×576 · [\d.]+ fps/);

    // Mount: type to search the assets' station list and pick Clark/Lake.
    await tp.field('Station').fill('clark');
    await page
      .getByRole('option', { name: /^Clark\/Lake/ })
      .first()
      .click();
    await expect.poll(() => tp.pickedStation.textContent()).toMatch(/^Clark\/Lake \(\d+\)/);
    await tp.field('Platform').fill('1');
    await form.getByRole('checkbox', { name: /Analytics/ }).uncheck();
    await screenshot(page, 'technician-add-camera');
    await form.getByRole('button', { name: 'Register camera' }).click();

    // Saved: it is in the list and the core has it, with the station mount and analytics off.
    const row = tp.row('Clark/Lake platform 1');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    const saved = (await cameras()).find((c) => c.name === 'Clark/Lake platform 1');
    expect(saved?.mount).toMatchObject({ kind: 'station', platform: '1' });
    expect(saved?.analyticsEnabled).toBe(false);
    await expect.poll(async () => (await row.getByTestId('health-badge').textContent()) ?? '', { timeout: 30_000 }).toMatch(/^Live/);

    // The zone editor opens after registering; wait for the live picture.
    const editor = tp.editor;
    await expect.poll(() => editor.isVisible()).toBe(true);
    const picture = editor.getByRole('img', { name: /Live picture of Clark\/Lake platform 1/ });
    await expect.poll(() => picture.count(), { timeout: 30_000 }).toBe(1);
    // The snapshot is the analysis frame (scaled down), with the stream's 4:3 shape.
    await expect
      .poll(
        () =>
          picture.evaluate((img) => {
            const i = img as unknown as { naturalWidth: number; naturalHeight: number };
            return i.naturalWidth > 100 ? i.naturalWidth / i.naturalHeight : 0;
          }),
        { timeout: 20_000 },
      )
      .toBeCloseTo(768 / 576, 2);

    // The first corner again closes the polygon.
    await tp.drawZone([
      [0.2, 0.55],
      [0.7, 0.55],
      [0.8, 0.9],
      [0.1, 0.9],
      [0.2, 0.55],
    ]);
    const item = tp.zones;
    await expect.poll(() => item.count()).toBe(1);
    // A new zone is a crowding zone: the editor says it needs a capacity, and Save waits.
    await expect.poll(() => tp.zoneProblem.textContent()).toContain('needs a capacity');
    expect(await tp.saveZonesButton().isDisabled()).toBe(true);
    await screenshot(page, 'technician-zone-problem');
    await item.getByLabel('Name', { exact: true }).fill('Platform edge');
    await item.getByLabel('Capacity').fill('12');
    await expect.poll(() => tp.zoneProblem.count()).toBe(0);
    await tp.saveZonesButton().click();
    await expect.poll(() => tp.zonesSaved.textContent()).toBe('Saved 1 zone');
    await screenshot(page, 'technician-zone-saved');

    const stored = CameraZones.parse(await (await tech.api(`/api/v1/cameras/${saved!.id}/zones`)).json());
    expect(stored.zones).toHaveLength(1);
    const z = stored.zones[0]!;
    expect(z).toMatchObject({ name: 'Platform edge', kind: 'crowding', capacity: 12 });
    const expected = [
      [0.2, 0.55],
      [0.7, 0.55],
      [0.8, 0.9],
      [0.1, 0.9],
    ];
    expect(z.polygon).toHaveLength(4);
    z.polygon!.forEach((p, i) => {
      expect(p[0]).toBeCloseTo(expected[i]![0]!, 1);
      expect(p[1]).toBeCloseTo(expected[i]![1]!, 1);
    });

    // Reload: the workspace comes back, and so does the zone.
    await page.reload();
    await expect.poll(() => tp.workspace.isVisible(), { timeout: 15_000 }).toBe(true);
    await tp.row('Clark/Lake platform 1').click();
    await shell.tab('Zones').click();
    await expect.poll(() => tp.zones.count(), { timeout: 10_000 }).toBe(1);
    expect(await tp.zones.getByLabel('Name').inputValue()).toBe('Platform edge');
    expect(await tp.zones.getByLabel('Capacity').inputValue()).toBe('12');
    expect(await page.locator('[data-zone-id="zone-1"] polygon').count()).toBe(1);

    // The same zone as the bus operator's area: its rule options, and the operator's seat drawn as an excluded area.
    await page.getByTestId('zone-item').getByLabel('Kind').selectOption('operator');
    await page.getByTestId('zone-rule-dwellMs').fill('2000');
    await page.getByTestId('zone-rule-onlyWhileMoving').check();
    await page.getByTestId('zone-draw-exclude').click();
    const box2 = (await page.getByTestId('zone-stage').boundingBox())!;
    const at2 = (x: number, y: number) => page.mouse.click(box2.x + x * box2.width, box2.y + y * box2.height);
    await at2(0.6, 0.7);
    await at2(0.7, 0.7);
    await at2(0.7, 0.85);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('zone-exclude-shape').count()).toBe(1);
    await editor.getByRole('button', { name: 'Save zones' }).click();
    await expect.poll(() => page.getByTestId('zones-saved').textContent()).toBe('Saved 1 zone');
    await screenshot(page, 'technician-zone-operator-exclusion');
    const op = CameraZones.parse(await (await tech.api(`/api/v1/cameras/${saved!.id}/zones`)).json()).zones[0]!;
    expect(op).toMatchObject({ kind: 'operator', rules: { dwellMs: 2000, onlyWhileMoving: true } });
    expect(op.exclude).toHaveLength(1);
    expect(op.exclude![0]![0]![0]).toBeCloseTo(0.6, 1);

    // A clock on the wall, drawn as a motion mask: it needs no capacity and takes no rule options.
    await tp.drawZone([
      [0.05, 0.05],
      [0.2, 0.05],
      [0.2, 0.2],
      [0.05, 0.05],
    ]);
    await expect.poll(() => tp.zones.count()).toBe(2);
    const clock = tp.zones.nth(1);
    await clock.getByLabel('Name', { exact: true }).fill('Station clock');
    await clock.getByLabel('Kind').selectOption('motion-mask');
    expect(await clock.locator('[data-testid^="zone-rule-"]').count()).toBe(0);
    expect(await clock.getByLabel('Capacity').count()).toBe(0);
    await expect.poll(() => tp.zoneProblem.count()).toBe(0);
    await tp.saveZonesButton().click();
    await expect.poll(() => tp.zonesSaved.textContent()).toBe('Saved 2 zones');
    await screenshot(page, 'technician-zone-motion-mask');
    const both = CameraZones.parse(await (await tech.api(`/api/v1/cameras/${saved!.id}/zones`)).json()).zones;
    expect(both[1]).toMatchObject({ name: 'Station clock', kind: 'motion-mask' });
    expect(both[1]!.polygon).toHaveLength(3);

    // Edit: the stored settings come back (never a password), the probe runs again, a change saves.
    await shell.tab('Settings').click();
    const edit = tp.form;
    expect(await edit.getByLabel('Name', { exact: true }).inputValue()).toBe('Clark/Lake platform 1');
    expect(await edit.getByLabel('Password').inputValue()).toBe('');
    await expect.poll(() => tp.probe.getAttribute('data-state'), { timeout: 20_000 }).toBe('ok');
    await edit.getByRole('checkbox', { name: /Recording/ }).uncheck();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => edit.getByRole('status').textContent(), { timeout: 10_000 }).toBe('Changes saved');
    expect((await cameras()).find((c) => c.id === saved!.id)?.recordingEnabled).toBe(false);
    await screenshot(page, 'technician-edit-camera');

    // Delete takes two clicks; the camera leaves the list and the core.
    await edit.getByRole('button', { name: 'Delete camera' }).click();
    await edit.getByRole('button', { name: 'Really delete Clark/Lake platform 1?' }).click();
    await expect.poll(() => tp.row('Clark/Lake platform 1').count(), { timeout: 10_000 }).toBe(0);
    expect((await cameras()).some((c) => c.id === saved!.id)).toBe(false);
    // Back to Operations (F2): the map, created hidden after the reload, has its full size.
    await page.keyboard.press('F2');
    await expect.poll(() => shell.region('Live map').isVisible()).toBe(true);
    await expect
      .poll(() => page.locator('.maplibregl-canvas').evaluate((c) => (c as unknown as { clientWidth: number }).clientWidth), {
        timeout: 10_000,
      })
      .toBeGreaterThan(500);
    // Only that one.
    expect(errors).toEqual(['console.error: Failed to load resource: the server responded with a status of 503 (Service Unavailable)']);
    await page.close();
  });

  it('shows the per-row report for a CSV with a bad row and imports nothing; a good CSV imports', async () => {
    const before = (await cameras()).length;
    const { page, errors } = await openPage(browser, core.url, undefined, { token: tech.token });
    const shell = new ShellPage(page);
    const tp = new TechnicianPage(page);
    await shell.waitConnected(15_000);
    await shell.tab('Cameras').click();
    await tp.openImport();
    const bad = [
      'name,url,mount,vehicle_id,analytics',
      `Bus 8123 front,${sim.url('platform')},bus,8123,no`,
      'Bus 8124 front,rtsp://10.0.0.5:99999/x,bus,8124,no',
      `Bus 8123 front,${sim.url('platform')},bus,8125,no`,
    ].join('\n');
    await tp.importCsv(bad);
    const report = tp.importReport;
    await expect.poll(() => report.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await report.textContent()).toContain('Nothing was imported');
    const rows = await report.locator('tbody tr').allTextContents();
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^3url.*URL is not a valid URL/),
        expect.stringMatching(/^4name"Bus 8123 front" is also on line 2$/),
      ]),
    );
    await screenshot(page, 'technician-csv-report');
    expect((await cameras()).length).toBe(before);

    await tp.importCsv(
      [
        'name,url,mount,vehicle_id,analytics,recording',
        `Bus 8123 front,${sim.url('platform')},bus,8123,no,no`,
        `Bus 8124 front,${sim.url('platform')},bus,8124,no,no`,
      ].join('\n'),
    );
    await expect.poll(() => tp.importDone.textContent(), { timeout: 10_000 }).toBe('Imported 2 cameras: Bus 8123 front, Bus 8124 front');
    await expect.poll(() => tp.rows.count()).toBe(before + 2);

    // Filters: bus mounts only, then by vehicle id.
    await tp.filter({ mount: 'bus' });
    await expect.poll(() => tp.rows.count()).toBe(2);
    await tp.filter({ vehicleOrLine: '8124' });
    await expect.poll(() => tp.rows.allTextContents()).toEqual([expect.stringContaining('Bus 8124 front')]);
    await screenshot(page, 'technician-filtered');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('hides the Cameras workspace from an operator', async () => {
    const op = await createAndLogin(core.url, core.admin!, { username: 'olga-op', password: 'operator-password-2', role: 'operator' });
    const { page, errors } = await openPage(browser, core.url, undefined, { token: op.token });
    const shell = new ShellPage(page);
    await shell.waitConnected(15_000);
    expect(await shell.tab('Cameras').count()).toBe(0);
    await page.keyboard.press('F2');
    expect(await new TechnicianPage(page).workspace.count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
  it("shows an analysed camera's analysis line (rates, skips) live in the camera list", async () => {
    const res = await tech.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Bus 8200 analysed',
        url: sim.url('platform'),
        mount: { kind: 'bus', vehicleId: '8200' },
        analyticsEnabled: true,
        recordingEnabled: false,
      }),
    });
    expect(res.status).toBe(201);
    const cam = (await res.json()) as { id: string };
    const put = await tech.api(`/api/v1/cameras/${cam.id}/zones`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ zones: [{ id: 'all', kind: 'crowding', capacity: 20 }] }),
    });
    expect(put.status).toBe(200);
    const { page, errors } = await openPage(browser, core.url, undefined, { token: tech.token });
    const shell = new ShellPage(page);
    await shell.waitConnected(15_000);
    await shell.tab('Cameras').click();
    const row = new TechnicianPage(page).row('Bus 8200 analysed');
    // The analytics feature picks the camera up within its 3 s refresh, then health pushes carry the figures.
    await expect
      .poll(
        async () => ((await row.getByTestId('analysis-health').count()) ? await row.getByTestId('analysis-health').textContent() : ''),
        { timeout: 60_000 },
      )
      .toMatch(/^analysed [1-9][\d.]* fps · detector [\d.]+\/s · (motion|still) · skipped \d+ still, \d+ busy$/);
    // Beside the rates: the detector it runs, and re-ID (off in this core's config, so it says so and nothing more).
    expect(await row.getByTestId('analysis-model').textContent()).toMatch(/^[\w.-]+ · re-ID off$/);
    // The core runs this camera itself: no line about a viewers' session of its own.
    expect(await row.getByTestId('viewer-session').count()).toBe(0);
    await screenshot(page, 'technician-analysis-health');
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
