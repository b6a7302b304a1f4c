import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../contract';
import { Camera, NodeCreated, NodesStatus } from '../../contract';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { connected, createAndLogin, login, type SignedIn } from '../support/auth';
import { balancer, liaisonClient, portOf, type Client } from '../support/cluster';
import { putStaffDoorZone, startNode, stopNode, type RunningNode } from '../support/nodes';
import { REDIS_SERVER, startRedis, type RunningRedis } from '../support/redis';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { assets, freePort, skipReason, waitFor } from './ingest-helpers';

/**
 * The whole layout of docs/scale.md on one machine: two real `sentinel serve` replicas sharing
 * one database (the data directory's SQLite file, or one Postgres database) and a private
 * redis-server, two real `sentinel analytics-node` processes (ffmpeg, YOLOX-nano, the rules)
 * reaching the core through a load balancer, the RTSP simulator serving the shared footage,
 * and liaisons' socket.io clients on either replica.
 */
const worker = assets ? join(assets, 'media', 'worker-zone-detection.gif') : '';
const modelReady = (() => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get('yolox-nano');
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
})();
const why =
  skipReason ??
  (!REDIS_SERVER
    ? 'redis-server not installed'
    : !existsSync(worker)
      ? 'media/worker-zone-detection.gif not found'
      : !modelReady
        ? 'models/yolox_nano.onnx not found'
        : null);

describe.skipIf(why !== null)(`two core replicas and two analytics nodes${why ? ` [skipped: ${why}]` : ''}`, () => {
  let sim: RunningSim;
  let redis: RunningRedis;
  let a: RunningServe;
  let b: RunningServe;
  let lb: { url: string; close(): void };
  let cameraId = '';
  const tokens: Record<string, string> = {};
  const nodes: RunningNode[] = [];
  const clients: Client[] = [];
  let onA: SignedIn;
  let onB: SignedIn;

  const status = async (r: RunningServe): Promise<NodesStatus> => NodesStatus.parse(await (await r.api('/api/v1/nodes')).json());
  const holder = async (r: RunningServe): Promise<string | null> =>
    (await status(r)).placements.find((p) => p.cameraId === cameraId && Date.parse(p.expiresAt) > Date.now())?.nodeName ?? null;
  const fromNode = (c: ReturnType<typeof liaisonClient>, node: string): Alert | undefined =>
    c.alerts().find((x) => x.cameraId === cameraId && x.detail.node === node);

  beforeAll(async () => {
    sim = await startSimulator({ host: '127.0.0.1', port: await freePort(), streams: [{ name: 'east', file: worker }] });
    redis = await startRedis();
    const dataDir = tempDir('sentinel-cluster-nodes-');
    const configFile = join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ auth: { mfaRequiredRoles: [] }, recording: { segmentSeconds: 2 } }));
    const env = {
      SENTINEL_ASSETS: assets ?? '',
      SENTINEL_ANALYTICS_NODES: '1',
      SENTINEL_CONFIG: configFile,
      SENTINEL_REDIS_URL: redis.url,
    };
    a = await startServe({ dataDir, env, timeoutMs: 60_000 });
    b = await startServe({ dataDir, env, timeoutMs: 60_000 });
    // The nodes and one liaison reach the core as production ones do, through the balancer:
    // A while it lives, then B.
    lb = await balancer(() => [portOf(a.url), portOf(b.url)]);
    const liaison = { username: 'liaison-1', password: 'liaison-password-1', role: 'liaison' as const, scope: { districts: ['1'] } };
    onA = await createAndLogin(a.url, a.admin!, liaison);
    onB = await login(b.url, liaison.username, liaison.password);
    // Station 41660 (Lake, Red line) is in police district 1. The worker enters the staff-door
    // area once per 4.7 s loop; no cooldown, so every loop raises an alert.
    const res = await a.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Lake east',
        url: sim.url('east'),
        mount: { kind: 'station', stationId: '41660' },
        analyticsEnabled: true,
        recordingEnabled: false,
      }),
    });
    expect(res.status).toBe(201);
    cameraId = Camera.parse(await res.json()).id;
    expect(await putStaffDoorZone(a, cameraId)).toBe(200);
    for (const name of ['node-1', 'node-2']) {
      const r = await a.api('/api/v1/nodes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, capacity: 2 }),
      });
      expect(r.status).toBe(201);
      tokens[name] = NodeCreated.parse(await r.json()).token;
    }
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const n of nodes) await stopNode(n);
    lb?.close();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
    await sim?.close();
  });

  it('an alert raised through node 1 reaches a liaison on replica B; kill -9 of replica A loses nothing; kill -9 of node 1 moves its camera to node 2 within 15 s', async () => {
    const liaisonB = liaisonClient(b.url, onB.token);
    const liaisonLb = liaisonClient(lb.url, onA.token);
    clients.push(liaisonB.s, liaisonLb.s);
    await connected(liaisonB.s);
    await connected(liaisonLb.s);

    // Node 1 reaches A (the balancer's first choice) and takes the camera.
    nodes.push(await startNode(lb.url, tokens['node-1']!, tempDir('sentinel-cn-node1-'), assets));
    await waitFor('node 1 holding the camera', async () => ((await holder(b)) === 'node-1' ? true : null), 30_000, 250);
    const first = await waitFor('an alert from node 1 at the liaison on B', () => fromNode(liaisonB, 'node-1'), 60_000, 100);
    expect(first).toMatchObject({ kind: 'barrier', zoneId: 'operator', cameraName: 'Lake east' });
    await waitFor('the same alert at the liaison on A', () => liaisonLb.alerts().find((x) => x.id === first.id), 10_000, 100);

    // kill -9 of A: the node and the liaison reconnect through the balancer to B. The node keeps
    // its camera (its lease is in the shared database, renewed through B). Whether the worker's
    // open alert repeats depends on tracking (on a quiet machine it stays one alert), so the
    // test makes the next one certain: a new zone, saved through B, reaches the node through B,
    // and the alert it raises there reaches both liaisons, the one that moved replica included.
    a.proc.kill('SIGKILL');
    await waitFor('the liaison on A reconnected to B', () => (liaisonLb.s.connected ? true : null), 20_000, 100);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await holder(b)).toBe('node-1');
    expect(await putStaffDoorZone(b, cameraId, 'door-after-failover')).toBe(200);
    const inNewZone = (c: ReturnType<typeof liaisonClient>): Alert | undefined =>
      c.alerts().find((x) => x.zoneId === 'door-after-failover' && x.detail.node === 'node-1');
    const afterA = await waitFor(
      'an alert from node 1 in the zone saved through B, at both liaisons',
      () => (inNewZone(liaisonB) ? inNewZone(liaisonLb) : undefined),
      60_000,
      100,
    );
    expect(liaisonLb.raised.get(afterA.id)).toBe(1);
    expect(await holder(b)).toBe('node-1');

    // Node 2 joins (through the balancer, now to B); kill -9 of node 1 moves the camera to it.
    nodes.push(await startNode(lb.url, tokens['node-2']!, tempDir('sentinel-cn-node2-'), assets));
    const killedAt = Date.now();
    nodes[0]!.proc.kill('SIGKILL');
    const liveOn2 = await waitFor(
      'the camera live on node 2',
      async () => {
        if ((await holder(b)) !== 'node-2') return null;
        const cam = Camera.parse(await (await b.api(`/api/v1/cameras/${cameraId}`)).json());
        return cam.health.state === 'live' && (cam.health.analysis?.fps ?? 0) > 0 ? Date.now() : null;
      },
      30_000,
      100,
    );
    process.stdout.write(`replicas + nodes: camera live on node 2 ${liveOn2 - killedAt} ms after kill -9 of node 1\n`);
    expect(liveOn2 - killedAt).toBeLessThan(15_000);
    await waitFor(
      'an alert from node 2 at both liaisons',
      () => fromNode(liaisonB, 'node-2') && fromNode(liaisonLb, 'node-2'),
      60_000,
      100,
    );
    // Nothing arrived twice at the liaison whose replica died.
    for (const [id, n] of liaisonLb.raised) expect({ id, n }).toEqual({ id, n: 1 });
  }, 240_000);
});
