import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Camera, NodeCreated, NodesStatus } from '../../contract';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { REID_MODEL } from '../../analytics/inference/reid';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { putStaffDoorZone, startNode, stopNode, type RunningNode } from '../support/nodes';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { assets, freePort, skipReason, waitFor } from './ingest-helpers';

/**
 * What camera health tells a technician about re-identification and about the core's own live
 * session, with real parts: the RTSP simulator, `sentinel serve` with analytics nodes and
 * analytics.reid on, and two real `sentinel analytics-node` processes, one with the re-ID
 * model and one whose assets lack it (its re-ID fails to load and its camera's health says why).
 */
const worker = assets ? join(assets, 'media', 'worker-zone-detection.gif') : '';
const ready = (name: string): boolean => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get(name);
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
};
const why =
  skipReason ??
  (!existsSync(worker)
    ? 'media/worker-zone-detection.gif not found'
    : !ready('yolox-nano')
      ? 'models/yolox_nano.onnx not found'
      : !ready(REID_MODEL)
        ? `the ${REID_MODEL} model is not in the assets`
        : null);

describe.skipIf(why !== null)(`camera health: re-ID and the core's viewer session${why ? ` [skipped: ${why}]` : ''}`, () => {
  let sim: RunningSim;
  let core: RunningServe;
  const nodes: RunningNode[] = [];
  /** Camera ids by the node that holds it. */
  const cameraOf: Record<string, string> = {};

  const camera = async (id: string): Promise<Camera> => Camera.parse(await (await core.api(`/api/v1/cameras/${id}`)).json());

  beforeAll(async () => {
    const port = await freePort();
    sim = await startSimulator({
      host: '127.0.0.1',
      port,
      streams: [
        { name: 'east', file: worker },
        { name: 'west', file: worker },
      ],
    });
    const dataDir = tempDir('sentinel-camera-health-');
    const configFile = join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ auth: { mfaRequiredRoles: [] }, analytics: { reid: { enabled: true } } }));
    core = await startServe({
      dataDir,
      env: { SENTINEL_ASSETS: assets ?? '', SENTINEL_ANALYTICS_NODES: '1', SENTINEL_CONFIG: configFile },
    });
    const tokens: Record<string, string> = {};
    for (const name of ['with-reid', 'without-model']) {
      const res = await core.api('/api/v1/nodes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, capacity: 1 }),
      });
      expect(res.status).toBe(201);
      tokens[name] = NodeCreated.parse(await res.json()).token;
    }
    // The first node has every model; the second only the person detector, so its re-ID cannot load.
    const partial = join(dataDir, 'partial-assets');
    mkdirSync(join(partial, 'models'), { recursive: true });
    symlinkSync(join(assets!, 'models', 'yolox_nano.onnx'), join(partial, 'models', 'yolox_nano.onnx'));
    const env = { SENTINEL_CONFIG: configFile };
    nodes.push(await startNode(core.url, tokens['with-reid']!, join(dataDir, 'node-1'), assets, env));
    const first = await addCamera('east');
    cameraOf['with-reid'] = first;
    await waitFor('the first camera on the first node', async () => (await holder(first)) === 'with-reid', 30_000, 250);
    nodes.push(await startNode(core.url, tokens['without-model']!, join(dataDir, 'node-2'), partial, env));
    const second = await addCamera('west');
    cameraOf['without-model'] = second;
    await waitFor('the second camera on the second node', async () => (await holder(second)) === 'without-model', 30_000, 250);
  }, 180_000);

  afterAll(async () => {
    for (const n of nodes) await stopNode(n);
    await core?.stop();
    await sim?.close();
  });

  async function addCamera(stream: string): Promise<string> {
    const res = await core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Lake ${stream}`, url: sim.url(stream), analyticsEnabled: true, recordingEnabled: false }),
    });
    expect(res.status).toBe(201);
    const cam = Camera.parse(await res.json());
    expect(await putStaffDoorZone(core, cam.id)).toBe(200);
    return cam.id;
  }

  async function holder(cameraId: string): Promise<string | null> {
    const s = NodesStatus.parse(await (await core.api('/api/v1/nodes')).json());
    return s.placements.find((p) => p.cameraId === cameraId && Date.parse(p.expiresAt) > Date.now())?.nodeName ?? null;
  }

  it("reports each camera's re-ID from the node that analyses it: on with its model and counts, or off and why", async () => {
    const on = await waitFor(
      're-ID figures of the first camera',
      async () => {
        const a = (await camera(cameraOf['with-reid']!)).health.analysis;
        return a?.reid && a.frames > 20 ? a.reid : null;
      },
      60_000,
      250,
    );
    expect(on).toMatchObject({ enabled: true, model: REID_MODEL, error: null });
    expect(on.reassociated).toBeGreaterThanOrEqual(0);
    expect(on.refused).toBeGreaterThanOrEqual(0);
    // The worker walks in and out of view: the tracker asked for crops to be embedded.
    await waitFor(
      'embeddings on the first camera',
      async () => ((await camera(cameraOf['with-reid']!)).health.analysis?.reid?.embeddings ?? 0) > 0,
      60_000,
      250,
    );

    const off = await waitFor(
      're-ID figures of the second camera',
      async () => (await camera(cameraOf['without-model']!)).health.analysis?.reid ?? null,
      60_000,
      250,
    );
    expect(off).toMatchObject({ enabled: false, model: null, reassociated: 0, embeddings: 0 });
    expect(off.error).toMatch(/person-reid|reidentification/i);
  }, 150_000);

  it("shows the core's own RTSP session for a node-held camera: none open, then live with its viewer, then closing and none again", async () => {
    const id = cameraOf['with-reid']!;
    const stream = 'east';
    const sessions = async (): Promise<number> => (await sim.list()).find((x) => x.name === stream)?.sessions ?? -1;
    const base = await sessions();
    const before = await camera(id);
    // The node's ingest is live; the core itself holds nothing on the camera.
    expect(before.health.state).toBe('live');
    expect(before.health.live).toMatchObject({ state: 'idle', session: 'viewers', consumers: 0, closesAt: null });

    const url = `${core.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/cameras/${id}/live`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${core.token}` } });
    let binaries = 0;
    ws.on('message', (_d, isBinary) => {
      if (isBinary) binaries++;
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    try {
      await waitFor('fragments at the viewer', () => binaries >= 3, 30_000, 50);
      const live = await waitFor(
        "the core's session live with figures",
        async () => {
          const l = (await camera(id)).health.live;
          return l?.state === 'live' && l.fps > 0 ? l : null;
        },
        15_000,
        250,
      );
      expect(live).toMatchObject({
        session: 'viewers',
        consumers: 1,
        closesAt: null,
        lastError: null,
        codec: expect.stringMatching(/^avc1/),
      });
      expect(live.kbps).toBeGreaterThan(0);
      // It is the core's own RTSP session on the camera, beside the node's.
      expect(await sessions()).toBe(base + 1);
    } finally {
      ws.close();
    }
    const closing = await waitFor(
      'the session lingering after its last viewer',
      async () => {
        const l = (await camera(id)).health.live;
        return l?.closesAt ? l : null;
      },
      5_000,
      100,
    );
    expect(closing).toMatchObject({ session: 'viewers', consumers: 0 });
    expect(Date.parse(closing.closesAt!)).toBeGreaterThan(Date.now());
    await waitFor('no session open again', async () => (await camera(id)).health.live?.state === 'idle', 15_000, 250);
    await waitFor('the core hung up on the camera', async () => (await sessions()) === base, 10_000, 250);
  }, 90_000);
});
