import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsModels, AuditList, Camera, CameraModel } from '../../contract';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { assets, freePort, skipReason, vtest } from './ingest-helpers';

/**
 * Models swapped while everything runs, against real parts: the RTSP simulator serving
 * vtest.avi, `sentinel serve` with its ffmpeg ingest and the real detectors in worker threads.
 * The core's models directory holds copies of the shipped weights, one of them damaged, so a
 * refusal for a hash mismatch is real too.
 */
const ready = (name: string): boolean => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get(name);
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
};
const why = skipReason ?? (!ready('yolox-nano') || !ready('nanodet-m') ? 'models/yolox_nano.onnx or nanodet_m_416.onnx not found' : null);

describe.skipIf(why !== null)(`hot-swapped models${why ? ` [skipped: ${why}]` : ''}`, () => {
  let sim: RunningSim;
  let core: RunningServe;
  let camera: Camera;
  const dataDir = tempDir('sentinel-swap-');
  const modelsDir = tempDir('sentinel-swap-models-');
  const configFile = join(tempDir('sentinel-swap-config-'), 'sentinel.json');

  const json = (body: unknown) => ({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const read = async (): Promise<Camera> => Camera.parse(await (await core.api(`/api/v1/cameras/${camera.id}`)).json());
  const models = async (): Promise<AnalyticsModels> => AnalyticsModels.parse(await (await core.api('/api/v1/analytics/models')).json());
  /** Waits until the camera's analysis runs on `model` and has analysed `more` frames since. */
  const analysedOn = async (model: string, more = 3): Promise<Camera> => {
    let base: number | null = null;
    const until = Date.now() + 45_000;
    for (;;) {
      const c = await read();
      const a = c.health.analysis;
      if (a && a.model === model) {
        base ??= a.frames;
        if (a.frames >= base + more) return c;
      }
      if (Date.now() > until) throw new Error(`camera never analysed on ${model}: ${JSON.stringify(c.health.analysis)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    if (!assets) return;
    for (const f of ['yolox_nano.onnx', 'nanodet_m_416.onnx']) copyFileSync(join(assets, 'models', f), join(modelsDir, f));
    // The light detector's file is damaged: same name, one byte changed.
    const light = readFileSync(join(assets, 'models', 'light_person_detector_192.onnx'));
    light[light.length - 1]! ^= 0xff;
    writeFileSync(join(modelsDir, 'light_person_detector_192.onnx'), light);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(configFile, JSON.stringify({ inference: { modelsDir, workers: 1 }, ingest: { fps: 4 } }));
    sim = await startSimulator({ host: '127.0.0.1', port: await freePort(), streams: [{ name: 'hall', file: vtest }] });
    core = await startServe({ dataDir, env: { SENTINEL_ASSETS: assets, SENTINEL_CONFIG: configFile } });
    const res = await core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Hall',
        url: sim.url('hall'),
        mount: { kind: 'other', description: 'test hall' },
        analyticsEnabled: true,
        recordingEnabled: false,
      }),
    });
    expect(res.status).toBe(201);
    camera = (await res.json()) as Camera;
    const z = await core.api(`/api/v1/cameras/${camera.id}/zones`, json({ zones: [{ id: 'hall', kind: 'crowding', capacity: 50 }] }));
    expect(z.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await core?.stop();
    await sim?.close();
  });

  it('lists the models with their state, and the running default', async () => {
    await analysedOn('yolox-nano');
    const m = await models();
    expect(m.detector).toEqual({ model: 'yolox-nano', source: 'config', running: 'yolox-nano', problem: null });
    expect(m.fight).toMatchObject({ model: 'builtin', source: 'config', running: 'builtin' });
    const light = m.models.find((x) => x.name === 'light-person');
    expect(light).toMatchObject({ task: 'detect', state: 'unavailable' });
    expect(light?.message).toContain('expected 4bf5f704');
    expect(m.models.find((x) => x.name === 'person-reid-0288')).toMatchObject({ task: 'embed' });
  }, 60_000);

  it('swaps the default detector without restarting the ingest, and the analysis goes on', async () => {
    const before = (await read()).health;
    const r = await core.api('/api/v1/analytics/models/detector', json({ model: 'nanodet-m' }));
    expect(r.status).toBe(200);
    expect(AnalyticsModels.parse(await r.json()).detector).toEqual({
      model: 'nanodet-m',
      source: 'console',
      running: 'nanodet-m',
      problem: null,
    });
    const after = await analysedOn('nanodet-m');
    expect(after.health.reconnects).toBe(before.reconnects);
    expect(after.health.state).toBe('live');
    expect(after.health.analysis!.frames).toBeGreaterThan(before.analysis!.frames);
  }, 60_000);

  it('refuses a damaged model, a model of the wrong task and an unknown one, naming why; the running one stays', async () => {
    const refuse = async (path: string, model: string, message: RegExp) => {
      const r = await core.api(path, json({ model }));
      expect(r.status).toBe(400);
      const e = ((await r.json()) as { error: { message: string; field?: string } }).error;
      expect(e.field).toBe('model');
      expect(e.message).toMatch(message);
    };
    await refuse(
      '/api/v1/analytics/models/detector',
      'light-person',
      /light_person_detector_192\.onnx has sha256 [0-9a-f]{64}, expected 4bf5f704/,
    );
    await refuse('/api/v1/analytics/models/detector', 'person-reid-0288', /is a embed model; this slot needs task detect/);
    await refuse('/api/v1/analytics/models/detector', 'yolo-huge', /unknown model "yolo-huge"; available: .*yolox-nano/);
    await refuse('/api/v1/analytics/models/fight', 'yolox-nano', /is a detect model; this slot needs task classify-clip/);
    await refuse(`/api/v1/cameras/${camera.id}/model`, 'light-person', /has sha256/);
    expect((await models()).detector.running).toBe('nanodet-m');
    await analysedOn('nanodet-m', 2);
  }, 60_000);

  it('gives one camera its own detector, shown in its health, and back to the default', async () => {
    let r = await core.api(`/api/v1/cameras/${camera.id}/model`, json({ model: 'yolox-nano' }));
    expect(r.status).toBe(200);
    expect(CameraModel.parse(await r.json())).toMatchObject({ cameraId: camera.id, model: 'yolox-nano', effective: 'yolox-nano' });
    await analysedOn('yolox-nano');
    const got = CameraModel.parse(await (await core.api(`/api/v1/cameras/${camera.id}/model`)).json());
    expect(got).toEqual({ cameraId: camera.id, model: 'yolox-nano', effective: 'yolox-nano', running: 'yolox-nano' });
    expect((await core.api('/api/v1/cameras/nope/model')).status).toBe(404);
    r = await core.api(`/api/v1/cameras/${camera.id}/model`, json({ model: 'x'.repeat(101) }));
    expect(r.status).toBe(400);
  }, 60_000);

  it('audits every change and every refusal with who made it', async () => {
    const trail = AuditList.parse(await (await core.api('/api/v1/audit')).json());
    const mine = trail.records.filter((x) => x.action.startsWith('analytics.model.'));
    expect(mine.map((x) => [x.action, (x.detail as { to?: string }).to, 'refused' in (x.detail as object)])).toEqual(
      expect.arrayContaining([
        ['analytics.model.detector', 'nanodet-m', false],
        ['analytics.model.detector', 'light-person', true],
        ['analytics.model.camera', 'yolox-nano', false],
      ]),
    );
    expect(mine.every((x) => x.actor !== null && x.actorId !== null)).toBe(true);
  });

  it('keeps the choices across a restart', async () => {
    await core.stop();
    core = await startServe({ dataDir, env: { SENTINEL_ASSETS: assets ?? '', SENTINEL_CONFIG: configFile } });
    const m = await models();
    expect(m.detector).toMatchObject({ model: 'nanodet-m', source: 'console' });
    expect(CameraModel.parse(await (await core.api(`/api/v1/cameras/${camera.id}/model`)).json()).model).toBe('yolox-nano');
    await analysedOn('yolox-nano');
    const back = await core.api(`/api/v1/cameras/${camera.id}/model`, json({ model: null }));
    expect(CameraModel.parse(await back.json())).toMatchObject({ model: null, effective: 'nanodet-m' });
    await analysedOn('nanodet-m');
  }, 120_000);
});
