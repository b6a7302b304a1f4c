import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Alert, AlertList, Camera, CameraZones, OccupancySeries } from '../../contract';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { connected } from '../support/auth';
import { startServe, type RunningServe } from '../support/serve';
import { assets, freePort, skipReason, waitFor } from './ingest-helpers';
import { WORKER_FLOOR_PATCH } from '../../core/analytics/demo-zones';

/**
 * The live analytics feature against real parts: the RTSP simulator serving the shared
 * footage as a camera, the real `sentinel serve` (ffmpeg ingest, YOLOX-nano in worker
 * threads, the run's database), REST and socket.io as a client uses them.
 */
const worker = assets ? join(assets, 'media', 'worker-zone-detection.gif') : '';
const modelReady = (() => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get('yolox-nano');
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
})();
const why =
  skipReason ??
  (!existsSync(worker) ? 'media/worker-zone-detection.gif not found' : !modelReady ? 'models/yolox_nano.onnx not found' : null);

describe.skipIf(why !== null)(`live analytics on an RTSP camera${why ? ` [skipped: ${why}]` : ''}`, () => {
  let sim: RunningSim;
  let core: RunningServe;
  let camera: Camera;

  beforeAll(async () => {
    const port = await freePort();
    sim = await startSimulator({ host: '127.0.0.1', port, streams: [{ name: 'cab', file: worker }] });
    core = await startServe({ env: { SENTINEL_ASSETS: assets ?? '' } });
    const res = await core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Bus 1234 cab',
        url: sim.url('cab'),
        mount: { kind: 'operator_cab', vehicleId: '1234' },
        analyticsEnabled: true,
        recordingEnabled: false,
      }),
    });
    expect(res.status).toBe(201);
    camera = (await res.json()) as Camera;
  }, 90_000);

  afterAll(async () => {
    await core?.stop();
    await sim?.close();
  });

  it('rejects bad zones with the message naming the zone and key, and keeps running', async () => {
    const put = (body: unknown) =>
      core.api(`/api/v1/cameras/${camera.id}/zones`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const r1 = await put({
      zones: [
        {
          id: 'cab',
          kind: 'operator',
          polygon: [
            [0.1, 0.1],
            [0.9, 0.9],
            [0.9, 0.1],
            [0.1, 0.9],
          ],
        },
      ],
    });
    expect(r1.status).toBe(400);
    expect(((await r1.json()) as { error: { message: string } }).error.message).toBe(
      'body: zones[0] ("cab").polygon: polygon crosses itself (edge 1 crosses edge 3)',
    );
    const r2 = await put({ zones: [{ id: 'p', kind: 'crowding', capacity: -1 }] });
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { error: { message: string } }).error.message).toContain('capacity must be a whole number above 0');
    const r3 = await core.api('/api/v1/cameras/nope/zones', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ zones: [] }),
    });
    expect(r3.status).toBe(404);
    const list = CameraZones.parse(await (await core.api(`/api/v1/cameras/${camera.id}/zones`)).json());
    expect(list.zones).toEqual([]);
  });

  it('raises a persisted barrier alert with a snapshot when the worker walks into the zone, pushed on the socket', async () => {
    const socket = core.admin!.socket();
    const raised: Alert[] = [];
    socket.on('alert:raised', (a) => raised.push(a));
    await connected(socket);
    try {
      const zones = {
        zones: [
          {
            id: 'operator',
            name: 'Operator area',
            kind: 'operator',
            polygon: WORKER_FLOOR_PATCH,
            rules: { cooldownS: 600 },
          },
        ],
      };
      const put = await core.api(`/api/v1/cameras/${camera.id}/zones`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(zones),
      });
      expect(put.status).toBe(200);
      expect(CameraZones.parse(await put.json()).zones.map((z) => z.id)).toEqual(['operator']);

      // The 4.7 s clip loops; the worker stands in the zone for about 2.4 s of each loop.
      const alert = await waitFor('a barrier alert on the socket', () => raised.find((a) => a.cameraId === camera.id), 45_000, 100);
      expect(alert).toMatchObject({
        kind: 'barrier',
        cameraId: camera.id,
        cameraName: 'Bus 1234 cab',
        zoneId: 'operator',
        zoneName: 'Operator area',
        endedAt: null,
      });
      expect(alert.trackIds.length).toBeGreaterThan(0);
      expect(alert.snapshotUrl).toBe(`/api/v1/alerts/${alert.id}/snapshot.jpg`);

      const list = AlertList.parse(await (await core.api(`/api/v1/alerts?cameraId=${camera.id}`)).json());
      expect(list.alerts.map((e) => e.alert.id)).toContain(alert.id);
      const one = Alert.parse(await (await core.api(`/api/v1/alerts/${alert.id}`)).json());
      expect(one.id).toBe(alert.id);
      const snap = await core.api(alert.snapshotUrl!);
      expect(snap.status).toBe(200);
      expect(snap.headers.get('content-type')).toBe('image/jpeg');
      const jpeg = Buffer.from(await snap.arrayBuffer());
      expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));

      // The long cooldown: the worker re-enters on every loop, but no second alert comes.
      await new Promise((r) => setTimeout(r, 6000));
      expect(raised.filter((a) => a.cameraId === camera.id && a.kind === 'barrier')).toHaveLength(1);

      const occ = OccupancySeries.parse(await (await core.api(`/api/v1/cameras/${camera.id}/zones/operator/occupancy?minutes=5`)).json());
      expect(occ.points.length).toBeGreaterThan(3);
      expect(Math.max(...occ.points.map((p) => p.count))).toBe(1);
    } finally {
      socket.close();
    }
  }, 90_000);

  it("shows what analytics does with the camera's frames in its health: rates, detector runs, skips", async () => {
    const read = async (): Promise<Camera> => Camera.parse(await (await core.api(`/api/v1/cameras/${camera.id}`)).json());
    let c = await read();
    for (
      const until = Date.now() + 30_000;
      !(c.health.analysis && c.health.analysis.detectorRuns > 0 && c.health.analysis.fps > 0) && Date.now() < until;
      c = await read()
    ) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const a = c.health.analysis;
    if (!a) throw new Error(`no analysis figures in the camera's health: ${JSON.stringify(c.health)}`);
    expect(a).toMatchObject({ gating: true, model: 'yolox-nano' });
    // Every frame through the rules was either detected or gated (held detections).
    expect(a.frames).toBeGreaterThanOrEqual(a.detectorRuns);
    expect(a.detectorFps).toBeLessThanOrEqual(a.fps + 0.5);
    expect(a.skippedBusy).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('a motion mask drawn over the whole picture stops the running camera waking its detector, and health shows it', async () => {
    const read = async () => Camera.parse(await (await core.api(`/api/v1/cameras/${camera.id}`)).json()).health.analysis!;
    const whole = [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
    ];
    // The camera is already analysed (the operator zone above): the mask reaches its running gate.
    const put = await core.api(`/api/v1/cameras/${camera.id}/zones`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        zones: [
          { id: 'operator', kind: 'operator', polygon: WORKER_FLOOR_PATCH, rules: { cooldownS: 600 } },
          { id: 'all', name: 'Whole picture', kind: 'motion-mask', polygon: whole },
        ],
      }),
    });
    expect(put.status).toBe(200);
    // Past the 1.5 s the gate keeps detecting after the last motion it saw.
    await new Promise((r) => setTimeout(r, 3000));
    const a0 = await read();
    await new Promise((r) => setTimeout(r, 6000));
    const a1 = await read();
    // The worker keeps walking (the clip loops) and every frame still goes through the rules...
    expect(a1.frames - a0.frames).toBeGreaterThanOrEqual(15);
    // ...but only keep-alives (one per 5 s) run the detector.
    expect(a1.detectorRuns - a0.detectorRuns).toBeLessThanOrEqual(2);
    expect(a1.skippedNoMotion - a0.skippedNoMotion).toBeGreaterThanOrEqual(13);
    expect(a1.motion).toBe(false);
  }, 60_000);

  it('answers 404 for unknown alerts and zones, and 400 for a bad query', async () => {
    expect((await core.api('/api/v1/alerts/nope')).status).toBe(404);
    expect((await core.api('/api/v1/alerts/nope/snapshot.jpg')).status).toBe(404);
    expect((await core.api(`/api/v1/cameras/${camera.id}/zones/nope/occupancy`)).status).toBe(404);
    const bad = await core.api('/api/v1/alerts?limit=0');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^query: /);
  });

  it('refuses the routes without a session', async () => {
    const r = await fetch(new URL('/api/v1/alerts', core.url));
    expect(r.status).toBe(401);
  });
});
