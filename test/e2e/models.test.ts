import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsModels, Camera } from '../../contract';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { assets, freePort, skipReason, vtest } from '../integration/ingest-helpers';
import { createAndLogin, type SignedIn } from '../support/auth';
import { hasChromium, launchChromium, openPage, screenshot, startServe, tempDir, type RunningServe } from './harness';
import { ModelsPage } from './pages/models';
import { ShellPage } from './pages/shell';

const FILES = { 'yolox-nano': 'yolox_nano.onnx', 'light-person': 'light_person_detector_192.onnx', 'nanodet-m': 'nanodet_m_416.onnx' };
const ready = (name: string): boolean => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get(name);
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
};
const why = !hasChromium
  ? '/usr/bin/chromium is not installed'
  : (skipReason ?? (Object.keys(FILES).every(ready) ? null : `models ${Object.values(FILES).join(', ')} not all in the assets`));

/**
 * A technician changes models in Chromium against the real `sentinel serve` (ffmpeg ingest
 * from the real RTSP simulator, the real detectors in worker threads): a camera's own
 * detector switched to the light person detector takes effect in its analysis health, and a
 * model whose weights went bad on disk is refused with the reason while the old one keeps
 * running. The core's models directory holds copies of the shipped weights; the nanodet copy
 * is damaged after the core has listed it, keeping its size and time stamp (what bit rot
 * looks like), so only the fresh hash taken before a swap can tell.
 */
describe.skipIf(why !== null)(`Models pane in Chromium${why ? ` (skipped: ${why})` : ''}`, () => {
  let browser: Browser;
  let core: RunningServe;
  let sim: RunningSim;
  let tech: SignedIn;
  let camera: Camera;
  const modelsDir = tempDir('sentinel-e2e-models-');
  const configFile = join(tempDir('sentinel-e2e-models-config-'), 'sentinel.json');
  const stamp = 1_700_000_000; // whole seconds: a time stamp that survives being set again exactly

  const read = async (): Promise<Camera> => Camera.parse(await (await tech.api(`/api/v1/cameras/${camera.id}`)).json());

  beforeAll(async () => {
    mkdirSync(modelsDir, { recursive: true });
    for (const f of Object.values(FILES)) {
      copyFileSync(join(assets!, 'models', f), join(modelsDir, f));
      utimesSync(join(modelsDir, f), stamp, stamp);
    }
    writeFileSync(configFile, JSON.stringify({ inference: { modelsDir, workers: 1 }, ingest: { fps: 4 } }));
    sim = await startSimulator({ host: '127.0.0.1', port: await freePort(), streams: [{ name: 'hall', file: vtest }] });
    core = await startServe({ timeoutMs: 60_000, env: { SENTINEL_ASSETS: assets!, SENTINEL_CONFIG: configFile } });
    tech = await createAndLogin(core.url, core.admin!, { username: 'tina-tech', password: 'technician-password-3', role: 'technician' });
    const res = await core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Quiet mezzanine',
        url: sim.url('hall'),
        mount: { kind: 'other', description: 'mezzanine' },
        analyticsEnabled: true,
        recordingEnabled: false,
      }),
    });
    expect(res.status).toBe(201);
    camera = Camera.parse(await res.json());
    const z = await core.api(`/api/v1/cameras/${camera.id}/zones`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ zones: [{ id: 'mezz', kind: 'crowding', capacity: 40 }] }),
    });
    expect(z.status).toBe(200);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await core?.stop();
    await sim?.close();
  });

  it("switches a camera's detector to the light one, refuses a damaged model with the reason, and the old one keeps running", async () => {
    const { page, expectErrors } = await openPage(browser, core.url, undefined, { token: tech.token });
    // The one expected failure: Chromium logs the refusal's 400 answer.
    expectErrors(/400 \(Bad Request\)/);
    const shell = new ShellPage(page);
    const models = new ModelsPage(page);
    await shell.waitConnected(15_000);

    // The pane: the running default, and every model on this core with its state.
    await models.open();
    await expect.poll(() => models.detector.running.textContent(), { timeout: 30_000 }).toBe('Running now: yolox-nano');
    for (const name of Object.keys(FILES)) await expect.poll(() => models.entry(name).textContent()).toContain('verified');
    expect(await models.entry('person-reid-0288').textContent()).toContain('embed');
    // Only detectors are offered for the detector slot.
    expect((await models.detector.options()).map((o) => o.value).sort()).toEqual(['light-person', 'nanodet-m', 'yolox-nano']);
    await screenshot(page, 'models-pane');

    // The camera's own detector: the light one, for a quiet camera.
    await models.openCamera('Quiet mezzanine');
    await expect.poll(() => models.cameraAnalysis.textContent(), { timeout: 45_000 }).toMatch(/^yolox-nano · analysed/);
    expect(await models.cameraSlot.select.inputValue()).toBe('');
    await models.cameraSlot.choose('light-person');
    await expect.poll(() => models.cameraSlot.done.textContent(), { timeout: 30_000 }).toContain('light-person');
    // Takes effect: the camera's analysis health names the light detector, and frames keep coming.
    await expect.poll(() => models.cameraAnalysis.textContent(), { timeout: 30_000 }).toMatch(/^light-person · analysed/);
    const onLight = (await read()).health.analysis!;
    expect(onLight.model).toBe('light-person');
    await expect.poll(async () => (await read()).health.analysis!.frames, { timeout: 20_000 }).toBeGreaterThan(onLight.frames + 2);
    await screenshot(page, 'models-camera-light');

    // The nanodet weights go bad on disk, size and time stamp unchanged: still listed as verified...
    const bad = join(modelsDir, FILES['nanodet-m']);
    const bytes = readFileSync(bad);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(bad, bytes);
    utimesSync(bad, stamp, stamp);
    // ...but trying it re-hashes the file, and the core refuses it with the reason.
    await models.cameraSlot.choose('nanodet-m');
    await expect
      .poll(() => models.cameraSlot.error.textContent(), { timeout: 30_000 })
      .toMatch(/nanodet_m_416\.onnx has sha256 [0-9a-f]{64}/);
    const refusal = (await models.cameraSlot.error.textContent()) ?? '';
    expect(refusal).toMatch(/^Refused: .*expected [0-9a-f]{64}.*The running model keeps working\.$/);
    await screenshot(page, 'models-camera-refused');
    // The old model keeps running: the camera is still analysed on the light detector.
    expect(await models.cameraSlot.running.textContent()).toBe('Running now: light-person');
    const after = (await read()).health.analysis!;
    expect(after.model).toBe('light-person');
    await expect.poll(async () => (await read()).health.analysis!.frames, { timeout: 20_000 }).toBeGreaterThan(after.frames + 2);

    // The Models pane now knows too: nanodet cannot be picked for the default detector, and
    // the list says why; the default stays. The list also shows which camera runs the light one.
    await models.open();
    await expect.poll(() => models.entry('light-person').textContent()).toContain('analysing 1 camera: Quiet mezzanine');
    await expect.poll(() => models.entry('nanodet-m').textContent()).toMatch(/nanodet_m_416\.onnx has sha256 [0-9a-f]{64}, expected/);
    expect((await models.detector.options()).find((o) => o.value === 'nanodet-m')).toMatchObject({
      disabled: true,
      label: 'nanodet-m (unavailable)',
    });
    expect(await models.detector.running.textContent()).toBe('Running now: yolox-nano');
    const state = AnalyticsModels.parse(await (await tech.api('/api/v1/analytics/models')).json());
    expect(state.detector).toMatchObject({ model: 'yolox-nano', running: 'yolox-nano' });
    await screenshot(page, 'models-pane-after-refusal');
  }, 180_000);
});
