import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LiveMessage } from '../../contract';
import { parseMoof } from '../../analytics/ingest/fmp4';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { createAndLogin } from '../support/auth';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { freePort, skipReason, vtest, waitFor } from './ingest-helpers';

interface Viewer {
  ws: WebSocket;
  messages: LiveMessage[];
  binaries: Buffer[];
  closed: boolean;
}

function watch(core: RunningServe, cameraId: string, token: string, opts: { autoPong?: boolean } = {}): Promise<Viewer> {
  const url = `${core.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/cameras/${cameraId}/live`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, ...opts });
  const v: Viewer = { ws, messages: [], binaries: [], closed: false };
  ws.on('message', (data, isBinary) => {
    if (isBinary) v.binaries.push(data as Buffer);
    else v.messages.push(LiveMessage.parse(JSON.parse(String(data))));
  });
  ws.on('close', () => (v.closed = true));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(v));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/**
 * Live video end to end through the real `sentinel serve`: the camera's one RTSP session
 * (counted by the GStreamer simulator) feeds viewers over WebSocket, the recorder and the
 * analysis decoder; access by role and liaison scope; recovery from a dropped camera.
 */
describe.skipIf(skipReason !== null)(`live video over WebSocket${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sim: RunningSim;
  let core: RunningServe;
  let cameraId = '';
  const viewers: Viewer[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ port: await freePort(), streams: [{ name: 'platform', file: vtest }] });
    const config = join(tempDir('sentinel-live-'), 'config.json');
    writeFileSync(config, JSON.stringify({ recording: { segmentSeconds: 2 } }));
    core = await startServe({ args: ['--config', config] });
    // Clark/Lake: a station camera, so its scope (district, lines) is known from the geodata.
    const res = await core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Clark/Lake live',
        url: sim.url('platform'),
        mount: { kind: 'station', stationId: '40380' },
        location: { lat: 41.885737, lon: -87.630886 },
      }),
    });
    expect(res.status).toBe(201);
    cameraId = ((await res.json()) as { id: string }).id;
  }, 60_000);
  afterAll(async () => {
    for (const v of viewers) v.ws.close();
    await core?.stop();
    await sim?.close();
  });

  it('streams the camera natively (H.264 passed through, 768x576) from a keyframe to three viewers', async () => {
    for (let i = 0; i < 3; i++) viewers.push(await watch(core, cameraId, core.token));
    for (const v of viewers) {
      await waitFor('a stream and 20 fragments', () => v.binaries.length > 20, 30_000, 100);
      const stream = v.messages.find((m) => m.type === 'stream');
      expect(stream).toMatchObject({ type: 'stream', width: 768, height: 576 });
      expect(stream?.type === 'stream' && stream.codec).toMatch(/^avc1\.[0-9A-F]{6}$/);
      // Init segment first (ftyp+moov), then a fragment that starts with a keyframe.
      expect(v.binaries[0]!.toString('latin1', 4, 8)).toBe('ftyp');
      expect(v.binaries[1]!.toString('latin1', 4, 8)).toBe('moof');
      expect(parseMoof(v.binaries[1]!).key).toBe(true);
    }
  }, 60_000);

  it('opens one RTSP session on the camera for recording, analysis and three viewers', async () => {
    const health = async (): Promise<{ state: string; live?: { consumers: number; state: string; fps: number } }> =>
      (
        (await (await core.api(`/api/v1/cameras/${cameraId}`)).json()) as {
          health: { state: string; live?: { consumers: number; state: string; fps: number } };
        }
      ).health;
    // Three viewers + the recorder + the analysis decoder, all attached to the restreamer.
    const until = Date.now() + 30_000;
    let h = await health();
    while ((h.state !== 'live' || (h.live?.consumers ?? 0) < 5) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 300));
      h = await health();
    }
    expect(h.state).toBe('live');
    expect(h.live?.consumers).toBe(5);
    expect(h.live?.fps).toBeGreaterThan(8);
    // The recorder writes segments from the same stream.
    const segs = async (): Promise<number> => {
      const r = await core.api(`/api/v1/cameras/${cameraId}/clips`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: Date.now() - 3000, to: Date.now() - 1000, preRollS: 0, postRollS: 0 }),
      });
      return r.status;
    };
    expect(await segs()).toBe(201);
    const platform = (await sim.list()).find((s) => s.name === 'platform');
    expect(platform?.sessions).toBe(1);
  }, 60_000);

  it('drops a viewer that stops answering pings, and keeps one that answers', async () => {
    // A client that never answers pings and never closes: what the core sees of a viewer whose
    // browser dropped the socket unannounced, or whose link died.
    const consumers = async (): Promise<number> =>
      ((await (await core.api(`/api/v1/cameras/${cameraId}`)).json()) as { health: { live?: { consumers: number } } }).health.live
        ?.consumers ?? -1;
    // The recorder, the analysis decoder and the viewers of the tests before.
    const before = await waitFor('the camera streaming', async () => Math.max(0, await consumers()), 30_000, 200);
    const silent = await watch(core, cameraId, core.token, { autoPong: false });
    const answering = await watch(core, cameraId, core.token);
    await waitFor('both new viewers attached', async () => (await consumers()) === before + 2, 10_000, 200);
    await waitFor('the silent viewer dropped', () => silent.closed, 20_000, 100);
    expect(answering.closed).toBe(false);
    await waitFor('its hold released', async () => (await consumers()) === before + 1, 5000, 200);
    answering.ws.close();
  }, 40_000);

  it("refuses live video without a session, and to a liaison outside the camera's scope", async () => {
    await expect(watch(core, cameraId, 'not-a-token')).rejects.toThrow('HTTP 401');
    const here = (await (await core.api('/api/v1/geo/locate?lat=41.885737&lon=-87.630886')).json()) as { district: string | null };
    expect(here.district).toBeTruthy();
    const other = here.district === '12' ? '11' : '12';
    const outside = await createAndLogin(core.url, core.admin!, {
      username: 'liaison-out',
      password: 'liaison-out-password-123',
      role: 'liaison',
      scope: { districts: [other] },
    });
    await expect(watch(core, cameraId, outside.token)).rejects.toThrow('HTTP 404');
    const inside = await createAndLogin(core.url, core.admin!, {
      username: 'liaison-in',
      password: 'liaison-in-password-123',
      role: 'liaison',
      scope: { districts: [here.district!] },
    });
    const v = await watch(core, cameraId, inside.token);
    await waitFor('fragments for the liaison in scope', () => v.binaries.length > 2, 20_000, 100);
    v.ws.close();
    const trail = (await (await core.api('/api/v1/audit?limit=200')).json()) as {
      records: Array<{ action: string; actor: string | null; target: string | null }>;
    };
    expect(
      trail.records.some((r) => r.action === 'video.live_denied' && r.actor === 'liaison-out' && r.target === `camera:${cameraId}`),
    ).toBe(true);
    expect(trail.records.some((r) => r.action === 'video.live' && r.actor === 'liaison-in')).toBe(true);
  }, 60_000);

  it('tells viewers when the camera drops and resumes the same socket from a keyframe when it returns', async () => {
    const v = viewers[0]!;
    await sim.stopStream('platform');
    await waitFor('ended', () => v.messages.some((m) => m.type === 'ended'), 15_000, 50);
    const before = v.messages.filter((m) => m.type === 'stream').length;
    const n = v.binaries.length;
    await sim.startStream('platform');
    const t0 = Date.now();
    await waitFor('a new stream', () => v.messages.filter((m) => m.type === 'stream').length > before, 15_000, 50);
    await waitFor('fragments again', () => v.binaries.length > n + 3, 10_000, 50);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(v.closed).toBe(false);
    expect(v.binaries[n]!.toString('latin1', 4, 8)).toBe('ftyp');
    expect(parseMoof(v.binaries[n + 1]!).key).toBe(true);
  }, 60_000);
});
