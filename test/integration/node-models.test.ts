import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsModels, Camera, NodeCreated, NodesStatus, nodeFightLine, type NodeFightState, type NodeModelState } from '../../contract';
import { MANIFEST_DIR } from '../../analytics/inference';
import { writeTinyClipClassifier, writeTinyTemporalClipClassifier } from '../../analytics/rules/tiny-clip-model';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { putStaffDoorZone, startNode, stopNode, type RunningNode } from '../support/nodes';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { assets, freePort, skipReason, waitFor } from './ingest-helpers';

/**
 * An analytics node follows the fight classifier chosen in the console: a real `sentinel
 * serve` with `analytics.nodes` on and a real `sentinel analytics-node`, each with its own
 * models directory. No licensed ONNX fight model exists, so both get the generated tiny clip
 * classifiers (analytics/rules/tiny-clip-model.ts) through a manifest directory of their own
 * (inference.manifestDir: the shipped manifests plus those two). The node's copy of
 * `tiny-temporal-fight` is damaged: the core accepts the choice, the node refuses it, keeps
 * the one it ran and says why, and the models view and the nodes view show it.
 */
const worker = assets ? join(assets, 'media', 'worker-zone-detection.gif') : '';
const yolox = assets ? join(assets, 'models', 'yolox_nano.onnx') : '';
const cameraWhy = skipReason ?? (!existsSync(worker) || !existsSync(yolox) ? 'worker footage or yolox_nano.onnx not found' : null);

describe('analytics nodes follow the fight classifier chosen in the console', () => {
  let core: RunningServe;
  let node: RunningNode | undefined;
  let sim: RunningSim | undefined;
  let token = '';
  let cameraId: string | null = null;
  const root = tempDir('sentinel-node-models-');
  const manifestDir = join(root, 'manifests');
  const coreModels = join(root, 'core-models');
  const nodeModels = join(root, 'node-models');
  const nodeConfig = join(root, 'node.json');

  const json = (body: unknown) => ({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const models = async (): Promise<AnalyticsModels> => AnalyticsModels.parse(await (await core.api('/api/v1/analytics/models')).json());
  const choose = async (model: string): Promise<AnalyticsModels> => {
    const r = await core.api('/api/v1/analytics/models/fight', json({ model }));
    expect(r.status).toBe(200);
    return AnalyticsModels.parse(await r.json());
  };
  /** Waits until node-1's report in the models view satisfies `ok`. */
  const reported = (what: string, ok: (n: NodeModelState) => boolean): Promise<NodeModelState> =>
    waitFor(
      what,
      async () => {
        const n = (await models()).fight.nodes?.find((x) => x.nodeName === 'node-1');
        return n && ok(n) ? n : null;
      },
      30_000,
      200,
    );
  const nodeView = async (): Promise<NodeFightState | null> => {
    const s = NodesStatus.parse(await (await core.api('/api/v1/nodes')).json());
    return s.nodes.find((n) => n.name === 'node-1')?.fight ?? null;
  };
  const camera = async (): Promise<Camera> => Camera.parse(await (await core.api(`/api/v1/cameras/${cameraId}`)).json());
  const start = async (): Promise<RunningNode> =>
    startNode(core.url, token, tempDir('sentinel-node-models-node-'), assets, { SENTINEL_CONFIG: nodeConfig });

  beforeAll(async () => {
    for (const d of [manifestDir, coreModels, nodeModels]) mkdirSync(d, { recursive: true });
    for (const f of readdirSync(MANIFEST_DIR).filter((n) => n.endsWith('.json'))) copyFileSync(join(MANIFEST_DIR, f), join(manifestDir, f));
    for (const { manifest, path } of [writeTinyClipClassifier(coreModels), writeTinyTemporalClipClassifier(coreModels)]) {
      writeFileSync(join(manifestDir, `${manifest.name}.json`), JSON.stringify(manifest));
      const file = readFileSync(path);
      // The node's copy of the temporal model is damaged: one byte changed.
      if (manifest.name === 'tiny-temporal-fight') file[file.length - 1]! ^= 0xff;
      writeFileSync(join(nodeModels, manifest.file), file);
    }
    if (cameraWhy === null) copyFileSync(yolox, join(nodeModels, 'yolox_nano.onnx'));
    const inference = { manifestDir, workers: 1 };
    const coreConfig = join(root, 'core.json');
    writeFileSync(
      coreConfig,
      JSON.stringify({ auth: { mfaRequiredRoles: [] }, analytics: { nodes: true }, inference: { ...inference, modelsDir: coreModels } }),
    );
    writeFileSync(nodeConfig, JSON.stringify({ inference: { ...inference, modelsDir: nodeModels }, ingest: { fps: 4 } }));
    core = await startServe({ env: { SENTINEL_ASSETS: assets ?? '', SENTINEL_CONFIG: coreConfig } });
    if (cameraWhy === null) {
      sim = await startSimulator({ host: '127.0.0.1', port: await freePort(), streams: [{ name: 'door', file: worker }] });
      const res = await core.api('/api/v1/cameras', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Staff door',
          url: sim.url('door'),
          mount: { kind: 'other', description: 'test door' },
          analyticsEnabled: true,
          recordingEnabled: false,
        }),
      });
      expect(res.status).toBe(201);
      cameraId = Camera.parse(await res.json()).id;
      expect(await putStaffDoorZone(core, cameraId)).toBe(200);
    }
    const res = await core.api('/api/v1/nodes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'node-1', capacity: 2 }),
    });
    expect(res.status).toBe(201);
    token = NodeCreated.parse(await res.json()).token;
    node = await start();
  }, 120_000);

  afterAll(async () => {
    await stopNode(node);
    await core?.stop();
    await sim?.close();
  });

  it('a node runs the built-in classifier until told otherwise, and says so', async () => {
    const n = await reported('node-1 reporting', () => true);
    expect(n).toMatchObject({ model: 'builtin', running: 'builtin', problem: null });
    expect(await nodeView()).toEqual({ model: 'builtin', running: 'builtin', problem: null });
    const m = await models();
    expect(m.fight).toMatchObject({ model: 'builtin', source: 'config' });
    expect(m.models.map((x) => x.name)).toEqual(expect.arrayContaining(['tiny-fight', 'tiny-temporal-fight', 'yolox-nano']));
  }, 60_000);

  it('takes a clip classifier chosen in the console over, without restarting its camera', async () => {
    let before: Camera | null = null;
    if (cameraId !== null) {
      before = await waitFor(
        'the camera analysed on node-1',
        async () => {
          const c = await camera();
          return (c.health.analysis?.frames ?? 0) > 3 ? c : null;
        },
        60_000,
        200,
      );
    }
    const m = await choose('tiny-fight');
    expect(m.fight).toMatchObject({ model: 'tiny-fight', source: 'console' });
    const n = await reported('node-1 running tiny-fight', (x) => x.running === 'tiny-fight');
    expect(n).toEqual({ nodeId: expect.any(String), nodeName: 'node-1', model: 'tiny-fight', running: 'tiny-fight', problem: null });
    expect(nodeFightLine(n, 'tiny-fight')).toBe('runs tiny-fight');
    expect(await nodeView()).toEqual({ model: 'tiny-fight', running: 'tiny-fight', problem: null });
    if (before) {
      const frames = before.health.analysis!.frames;
      const after = await waitFor(
        'the analysis going on after the swap',
        async () => {
          const c = await camera();
          return (c.health.analysis?.frames ?? 0) > frames + 3 ? c : null;
        },
        30_000,
        200,
      );
      // The same ingest (no reconnect) and the same runner: its frame count went on from where it was.
      expect(after.health.reconnects).toBe(before.health.reconnects);
      expect(after.health.state).toBe('live');
    }
  }, 120_000);

  it('a node started later opens the classifier in force at its first heartbeat', async () => {
    await stopNode(node);
    node = await start();
    await reported('the new node-1 running tiny-fight', (x) => x.running === 'tiny-fight');
  }, 90_000);

  it('refuses a model that does not verify on the node, keeps the one it ran and says why', async () => {
    // The core's copy is sound, so the console accepts it; the node's is not.
    const m = await choose('tiny-temporal-fight');
    expect(m.fight).toMatchObject({ model: 'tiny-temporal-fight', running: 'tiny-temporal-fight', problem: null });
    const n = await reported('node-1 refusing tiny-temporal-fight', (x) => x.model === 'tiny-temporal-fight' && x.problem !== null);
    expect(n).toMatchObject({ model: 'tiny-temporal-fight', running: 'tiny-fight' });
    expect(n.problem).toMatch(/tiny_temporal_clip\.onnx has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
    expect(nodeFightLine(n, 'tiny-temporal-fight')).toMatch(/^runs tiny-fight: tiny-temporal-fight refused: .*has sha256/);
    expect(await nodeView()).toEqual({ model: 'tiny-temporal-fight', running: 'tiny-fight', problem: n.problem });
  }, 60_000);

  it('goes back to the built-in classifier', async () => {
    await choose('builtin');
    const n = await reported('node-1 back on the built-in classifier', (x) => x.running === 'builtin');
    expect(n).toMatchObject({ model: 'builtin', running: 'builtin', problem: null });
    expect(nodeFightLine(n, 'builtin')).toBe('runs the built-in classifier');
    if (cameraWhy !== null) console.warn(`[node-models] camera part skipped: ${cameraWhy}`);
  }, 60_000);
});
