import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Alert, Camera, LiveMessage, NodeCreated, NodesStatus, RecordingSpans } from '../../contract';
import { parseMoof } from '../../analytics/ingest/fmp4';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { connected, createAndLogin, type SignedIn } from '../support/auth';
import { putStaffDoorZone, startNode, stopNode, type RunningNode } from '../support/nodes';
import { num, rows, serveSql } from '../support/rows';
import { runSentinel, startServe, tempDir, type RunningServe } from '../support/serve';
import { assets, freePort, skipReason, waitFor } from './ingest-helpers';

/**
 * Analytics nodes against real parts: the RTSP simulator serving the shared footage as two
 * cameras, a real `sentinel serve` with `analytics.nodes` on (it ingests nothing itself), two
 * real `sentinel analytics-node` processes (ffmpeg ingest, YOLOX-nano, the rules) talking to
 * it over socket.io with their tokens, and a liaison's socket.io client.
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

interface Viewer {
  ws: WebSocket;
  messages: LiveMessage[];
  binaries: Buffer[];
}

/** A live viewer on the core, as the console's player connects (bearer instead of the cookie). */
function watch(core: RunningServe, cameraId: string, token: string): Promise<Viewer> {
  const url = `${core.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/cameras/${cameraId}/live`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const v: Viewer = { ws, messages: [], binaries: [] };
  ws.on('message', (data, isBinary) => {
    if (isBinary) v.binaries.push(data as Buffer);
    else v.messages.push(LiveMessage.parse(JSON.parse(String(data))));
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(v));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe.skipIf(why !== null)(`analytics nodes take cameras over${why ? ` [skipped: ${why}]` : ''}`, () => {
  let sim: RunningSim;
  let core: RunningServe;
  let liaison: SignedIn;
  const nodes: RunningNode[] = [];
  const tokens: Record<string, string> = {};
  const cameraIds: string[] = [];
  const received: Alert[] = [];
  /** Alerts the liaison saw end (id -> endedAt). */
  const cleared = new Map<string, string>();

  const status = async (): Promise<NodesStatus> => NodesStatus.parse(await (await core.api('/api/v1/nodes')).json());
  const holderOf = (s: NodesStatus, cameraId: string, now = Date.now()): string | null => {
    const p = s.placements.find((x) => x.cameraId === cameraId && Date.parse(x.expiresAt) > now);
    return p?.nodeName ?? null;
  };

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
    const dataDir = tempDir('sentinel-nodes-');
    const configFile = join(dataDir, 'config.json');
    // Short segments so the nodes' recordings show up in the core's index within the test.
    writeFileSync(configFile, JSON.stringify({ auth: { mfaRequiredRoles: [] }, recording: { segmentSeconds: 2 } }));
    core = await startServe({
      dataDir,
      env: { SENTINEL_ASSETS: assets ?? '', SENTINEL_ANALYTICS_NODES: '1', SENTINEL_CONFIG: configFile },
    });
    // Station 41660 (Lake, Red line) is in police district 1.
    liaison = await createAndLogin(core.url, core.admin!, {
      username: 'liaison-1',
      password: 'liaison-password-1',
      role: 'liaison',
      scope: { districts: ['1'] },
    });
    for (const name of ['east', 'west']) {
      const res = await core.api('/api/v1/cameras', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `Lake ${name}`,
          url: sim.url(name),
          mount: { kind: 'station', stationId: '41660' },
          analyticsEnabled: true,
          recordingEnabled: true,
        }),
      });
      expect(res.status).toBe(201);
      const cam = Camera.parse(await res.json());
      cameraIds.push(cam.id);
      expect(await putStaffDoorZone(core, cam.id)).toBe(200);
    }
    for (const name of ['node-1', 'node-2', 'node-3']) {
      const res = await core.api('/api/v1/nodes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, capacity: 2 }),
      });
      expect(res.status).toBe(201);
      tokens[name] = NodeCreated.parse(await res.json()).token;
    }
  }, 120_000);

  afterAll(async () => {
    for (const n of nodes) await stopNode(n);
    await core?.stop();
    await sim?.close();
  });

  it('keeps only the token hash, audits the issue, and refuses a bad token with a clear error', async () => {
    const db = await serveSql(core);
    try {
      const dump = JSON.stringify(await rows(db, sql`SELECT * FROM analytics_nodes`));
      expect(dump).not.toContain(tokens['node-1']);
      expect(dump).toContain('node-1');
      expect(await num(db, sql<{ n: number }>`SELECT count(*) AS n FROM audit WHERE action = 'node.create'`)).toBe(3);
    } finally {
      await db.close();
    }
    const r = await runSentinel(['analytics-node', '--core', core.url, '--data-dir', tempDir('sentinel-node-bad-')], {
      env: { SENTINEL_NODE_TOKEN: 'sn_node_not-a-real-token', SENTINEL_ASSETS: assets ?? '' },
      timeoutMs: 30_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `sentinel: the core at ${core.url} refused this node: unauthorized: unknown or revoked analytics node token`,
    );
    // A technician may look but not issue tokens.
    const tech = await createAndLogin(core.url, core.admin!, { username: 'tech-1', password: 'tech-password-1', role: 'technician' });
    expect((await tech.api('/api/v1/nodes')).status).toBe(200);
    expect((await tech.api('/api/v1/nodes', { method: 'POST', body: JSON.stringify({ name: 'rogue' }) })).status).toBe(403);
  });

  it('a node resends what the core has not acknowledged (once, even twice over), and a revoked node stops', async () => {
    const socket = liaison.socket();
    const mine: Alert[] = [];
    socket.on('alert:raised', (a) => mine.push(Alert.parse(a)));
    await connected(socket);
    try {
      // What a node killed before the core answered leaves in its outbox file.
      const dir = tempDir('sentinel-node3-');
      const alertId = randomUUID();
      const pending = [
        {
          type: 'alert',
          body: {
            id: alertId,
            kind: 'barrier',
            cameraId: cameraIds[0],
            zoneId: 'operator',
            zoneName: 'Staff door',
            score: 0.9,
            startedAt: new Date().toISOString(),
            trackIds: [7],
            detail: { dwellMs: 1600 },
            snapshot: null,
          },
        },
      ];
      const seed = (): void => {
        mkdirSync(join(dir, 'node'), { recursive: true });
        writeFileSync(join(dir, 'node', 'outbox.json'), JSON.stringify(pending));
      };
      seed();
      let n3 = await startNode(core.url, tokens['node-3']!, dir, assets);
      await waitFor('the resent alert at the liaison', () => mine.find((a) => a.id === alertId), 20_000, 100);
      expect(mine.find((a) => a.id === alertId)).toMatchObject({ cameraId: cameraIds[0], detail: { node: 'node-3', dwellMs: 1600 } });
      await waitFor('the outbox emptied', () => readFileSync(join(dir, 'node', 'outbox.json'), 'utf8') === '[]', 10_000, 100);
      // An orderly stop frees its cameras at once.
      await stopNode(n3);
      // Well within the 6 s lease time: freed by its goodbye, not by expiry.
      await waitFor('node 3 freeing its cameras', async () => holderOf(await status(), cameraIds[0]!) !== 'node-3', 3000, 100);
      // The same alert again (its acknowledgement was lost, say): the core keeps the one it has.
      seed();
      n3 = await startNode(core.url, tokens['node-3']!, dir, assets);
      await waitFor('the outbox emptied again', () => readFileSync(join(dir, 'node', 'outbox.json'), 'utf8') === '[]', 10_000, 100);
      await new Promise((r) => setTimeout(r, 500));
      expect(mine.filter((a) => a.id === alertId)).toHaveLength(1);
      const db = await serveSql(core);
      try {
        expect(await num(db, sql<{ n: number }>`SELECT count(*) AS n FROM alerts WHERE id = ${alertId}`)).toBe(1);
      } finally {
        await db.close();
      }

      // Revoked while running: it stops its cameras and exits, and the revocation is audited.
      const id = (await status()).nodes.find((n) => n.name === 'node-3')!.id;
      const exited = new Promise<number | null>((r) => n3.proc.once('exit', (code) => r(code)));
      expect((await core.api(`/api/v1/nodes/${id}`, { method: 'DELETE' })).status).toBe(200);
      expect(await exited).toBe(3);
      expect(n3.stderr()).toContain('this analytics node was revoked by an administrator');
      const after = await status();
      expect(after.nodes.find((n) => n.name === 'node-3')).toMatchObject({ live: false, cameras: [] });
      expect(after.nodes.find((n) => n.name === 'node-3')!.revokedAt).not.toBeNull();
    } finally {
      socket.close();
    }
  }, 120_000);

  it('an alert raised on node 1 reaches the liaison; kill -9 node 1: its cameras are live on node 2 within 15 s, and no alert is lost', async () => {
    const socket = liaison.socket();
    socket.on('alert:raised', (a) => received.push(Alert.parse(a)));
    socket.on('alert:updated', (a) => {
      const alert = Alert.parse(a);
      if (alert.endedAt) cleared.set(alert.id, alert.endedAt);
    });
    await connected(socket);
    try {
      nodes.push(await startNode(core.url, tokens['node-1']!, tempDir('sentinel-node1-'), assets));
      nodes.push(await startNode(core.url, tokens['node-2']!, tempDir('sentinel-node2-'), assets));
      // Node 1 came first and took both; node 2's arrival spreads them, one each.
      const s = await waitFor(
        'one camera on each node',
        async () => {
          const s = await status();
          const h = cameraIds.map((id) => holderOf(s, id));
          return h.includes('node-1') && h.includes('node-2') ? s : null;
        },
        30_000,
        250,
      );
      const onNode1 = cameraIds.find((id) => holderOf(s, id) === 'node-1')!;
      expect(s.nodes.find((n) => n.name === 'node-1')).toMatchObject({ live: true, capacity: 2, cameras: [onNode1] });

      const first = await waitFor(
        'an alert from node 1 at the liaison',
        () => received.find((a) => a.cameraId === onNode1 && a.detail.node === 'node-1'),
        60_000,
        100,
      );
      expect(first).toMatchObject({ kind: 'barrier', cameraName: expect.stringMatching(/^Lake /), zoneId: 'operator' });
      expect(first.snapshotUrl).toBe(`/api/v1/alerts/${first.id}/snapshot.jpg`);
      expect((await liaison.api(first.snapshotUrl!)).headers.get('content-type')).toBe('image/jpeg');

      // Kill node 1 the moment it logs its next alert event, a raise or a clear (its outbox has
      // it; the core may not yet). Whether one comes depends on the machine: on a quiet one the
      // worker can stay tracked through the loop, so the open alert neither clears nor repeats.
      // Then node 1 is killed after 20 s with nothing pending, and "nothing lost" rests on the
      // outbox test above (a pending alert resent, once), which does not depend on timing.
      const node1 = nodes[0]!;
      const seen = node1.stderr().length;
      const nextEvent = (): { id: string; cleared: boolean } | null => {
        for (const line of node1.stderr().slice(seen).split('\n')) {
          const isClear = line.includes('"alert cleared"');
          if (!isClear && !line.includes('"alert raised"')) continue;
          const l = JSON.parse(line) as { alertId?: string };
          if (l.alertId) return { id: l.alertId, cleared: isClear };
        }
        return null;
      };
      const next = await waitFor('node 1 raising or clearing an alert', nextEvent, 20_000, 5).catch(() => null);
      node1.proc.kill('SIGKILL');
      const killedAt = Date.now();

      const liveOn2 = await waitFor(
        'the camera live on node 2',
        async () => {
          const st = await status();
          if (holderOf(st, onNode1) !== 'node-2') return null;
          const cam = Camera.parse(await (await core.api(`/api/v1/cameras/${onNode1}`)).json());
          return cam.health.state === 'live' && (cam.health.analysis?.fps ?? 0) > 0 ? Date.now() : null;
        },
        30_000,
        100,
      );
      const tookMs = liveOn2 - killedAt;
      process.stdout.write(`analytics node failover: camera live on node 2 ${tookMs} ms after kill -9 of node 1\n`);
      expect(tookMs).toBeLessThan(15_000);

      // What node 1 logged just before it died reaches the liaison: the alert once, or its clear.
      if (next?.cleared) await waitFor('the clear logged just before the kill', () => cleared.get(next.id), 20_000, 100);
      else if (next) {
        await waitFor('the alert raised just before the kill', () => received.find((a) => a.id === next.id), 20_000, 100);
        expect(received.filter((a) => a.id === next.id)).toHaveLength(1);
      } else process.stdout.write('analytics node failover: node 1 logged no alert event in 20 s before the kill\n');
      // And node 2 now raises that camera's alerts.
      await waitFor(
        'an alert from node 2 on the moved camera',
        () => received.find((a) => a.cameraId === onNode1 && a.detail.node === 'node-2'),
        30_000,
        100,
      );
      // Node 2 keeps raising alerts; between two, its outbox drains (the core acknowledged them all).
      await waitFor(
        'node 2 outbox drained',
        () => readFileSync(join(nodes[1]!.dataDir, 'node', 'outbox.json'), 'utf8') === '[]',
        15_000,
        50,
      );

      // Live video and the snapshot of a camera a node holds: the core opens its own session
      // for viewers, with the visibility checks of any live view (the liaison's district).
      const stream = ['east', 'west'][cameraIds.indexOf(onNode1)]!;
      const sessions = async (): Promise<number> => (await sim.list()).find((x) => x.name === stream)?.sessions ?? -1;
      const base = await sessions();
      const opened = Date.now();
      const v = await watch(core, onNode1, liaison.token);
      try {
        await waitFor('the first fragment of the node-held camera', () => v.binaries.length >= 2, 30_000, 20);
        // A figure for docs/scale.md, not a bar: the core's own session starts on demand.
        process.stdout.write(`node-held camera: first fragment at the viewer ${Date.now() - opened} ms after it connected\n`);
        await waitFor('init and fragments of the node-held camera', () => v.binaries.length >= 5, 30_000, 100);
        expect(v.messages[0]).toMatchObject({ type: 'stream', codec: expect.stringMatching(/^avc1/) });
        expect(v.binaries[0]!.toString('latin1', 4, 8)).toBe('ftyp');
        expect(v.binaries[1]!.toString('latin1', 4, 8)).toBe('moof');
        expect(parseMoof(v.binaries[1]!).key).toBe(true);
        const times = v.binaries.slice(1, 5).map((b) => parseMoof(b).decodeTime);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        // The core's own RTSP session, beside the node's.
        await waitFor('the core pulling the camera for its viewer', async () => (await sessions()) === base + 1, 10_000, 250);
      } finally {
        v.ws.close();
      }
      const snap = await liaison.api(`/api/v1/cameras/${onNode1}/snapshot.jpg`);
      expect(snap.status).toBe(200);
      expect(snap.headers.get('content-type')).toBe('image/jpeg');
      const jpeg = Buffer.from(await snap.arrayBuffer());
      expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
      expect(jpeg.length).toBeGreaterThan(2000);
      // With nobody watching, the core's session closes (a few seconds after the last viewer).
      await waitFor('the core closing its session', async () => (await sessions()) === base, 20_000, 250);
      // A camera edited while watched: the core's session stops, and the player is told to reconnect (to the new settings).
      const v2 = await watch(core, onNode1, liaison.token);
      try {
        await waitFor('the second viewer live', () => v2.binaries.length >= 2, 30_000, 100);
        const closed = new Promise<number>((r) => v2.ws.once('close', (code) => r(code)));
        const edit = await core.api(`/api/v1/cameras/${onNode1}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: sim.url(stream) }),
        });
        expect(edit.status).toBe(200);
        expect(await closed).toBe(1012);
        expect(v2.messages.at(-1)).toMatchObject({ type: 'ended', reason: 'stopped' });
      } finally {
        v2.ws.close();
      }

      // Recording: the nodes write segments into the core's (shared) recordings directory and report them; the core indexes them.
      for (const id of cameraIds) {
        const spans = await waitFor(
          `recorded spans of camera ${id}`,
          async () => {
            const r = RecordingSpans.parse(await (await core.api(`/api/v1/cameras/${id}/recording`)).json());
            return r.spans.length ? r.spans : null;
          },
          30_000,
          250,
        );
        expect(Date.parse(spans.at(-1)!.to)).toBeGreaterThan(Date.parse(spans[0]!.from));
        expect(readdirSync(join(core.dataDir, 'recordings', id)).some((f) => f.endsWith('.mp4'))).toBe(true);
      }
    } finally {
      socket.close();
    }
  }, 240_000);

  it("a technician's detector choice for a camera reaches the node running it, which swaps without a restart", async () => {
    const id = cameraIds[0]!;
    const model = async (): Promise<string | null> =>
      Camera.parse(await (await core.api(`/api/v1/cameras/${id}`)).json()).health.analysis?.model ?? null;
    await waitFor('the camera analysed with the default', async () => ((await model()) === 'yolox-nano' ? true : null), 30_000, 250);
    const pid = nodes[1]!.proc.pid;
    const put = await core.api(`/api/v1/cameras/${id}/model`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'light-person' }),
    });
    expect(put.status).toBe(200);
    await waitFor(
      'the node analysing with the light detector',
      async () => ((await model()) === 'light-person' ? true : null),
      30_000,
      250,
    );
    // Back to the default; the node that swapped is the one that started (no restart).
    const back = await core.api(`/api/v1/cameras/${id}/model`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: null }),
    });
    expect(back.status).toBe(200);
    await waitFor('the node back on the default', async () => ((await model()) === 'yolox-nano' ? true : null), 30_000, 250);
    expect(nodes[1]!.proc.pid).toBe(pid);
    expect(nodes[1]!.proc.exitCode).toBeNull();
    expect(nodes[1]!.stderr()).toContain('person detector closed: no camera here uses it');
  }, 120_000);
});
