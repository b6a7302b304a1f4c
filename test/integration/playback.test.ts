import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LiveMessage, PLAYBACK_END_CODE, RecordingSpans, WallGroups, WallPrefs } from '../../contract';
import { parseMoof } from '../../analytics/ingest/fmp4';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { createAndLogin } from '../support/auth';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { freePort, skipReason, vtest, waitFor } from './ingest-helpers';

interface Viewer {
  ws: WebSocket;
  messages: Array<{ at: number; msg: LiveMessage }>;
  binaries: Array<{ at: number; data: Buffer }>;
  closeCode: number | null;
}

function play(core: RunningServe, cameraId: string, token: string, at: number | null): Promise<Viewer> {
  const q = at === null ? '' : `?at=${at}`;
  const url = `${core.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/cameras/${cameraId}/playback${q}`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const v: Viewer = { ws, messages: [], binaries: [], closeCode: null };
  ws.on('message', (data, isBinary) => {
    if (isBinary) v.binaries.push({ at: Date.now(), data: data as Buffer });
    else v.messages.push({ at: Date.now(), msg: LiveMessage.parse(JSON.parse(String(data))) });
  });
  ws.on('close', (code) => (v.closeCode = code));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(v));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const clocks = (v: Viewer): Array<{ at: number; mediaTime: number; serverTime: number }> =>
  v.messages.flatMap((m) => (m.msg.type === 'clock' ? [{ at: m.at, mediaTime: m.msg.mediaTime, serverTime: m.msg.serverTime }] : []));

/**
 * Playback of the rolling recording and the video wall's routes, through the real `sentinel
 * serve`, simulator and ffmpeg: spans for the scrub bar, a WebSocket that plays from a chosen
 * moment in real time with the recorded times, closes at the end, and is refused outside a
 * liaison's scope (audited); wall layouts saved per user and groups filtered by scope.
 */
describe.skipIf(skipReason !== null)(`playback and the video wall${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sim: RunningSim;
  let core: RunningServe;
  let cameraId = '';

  beforeAll(async () => {
    sim = await startSimulator({ port: await freePort(), streams: [{ name: 'platform', file: vtest }], startTimeoutMs: 40_000 });
    const config = join(tempDir('sentinel-playback-'), 'config.json');
    writeFileSync(config, JSON.stringify({ recording: { segmentSeconds: 2 } }));
    core = await startServe({ args: ['--config', config] });
    const res = await core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Clark/Lake recorded',
        url: sim.url('platform'),
        mount: { kind: 'station', stationId: '40380' },
        location: { lat: 41.885737, lon: -87.630886 },
        analyticsEnabled: false,
      }),
    });
    expect(res.status).toBe(201);
    cameraId = ((await res.json()) as { id: string }).id;
  }, 60_000);
  afterAll(async () => {
    await core?.stop();
    await sim?.close();
  });

  const spans = async (): Promise<RecordingSpans> =>
    RecordingSpans.parse(await (await core.api(`/api/v1/cameras/${cameraId}/recording`)).json());

  it('lists the recording as spans and plays it from a chosen moment, paced in real time, with recorded times', async () => {
    let s = await spans();
    const until = Date.now() + 60_000;
    const long = (): boolean => {
      const last = s.spans.at(-1);
      return last !== undefined && Date.parse(last.to) - Date.parse(last.from) >= 8000;
    };
    while (!long() && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      s = await spans();
    }
    expect(long()).toBe(true);
    const span = s.spans.at(-1)!;
    const at = Date.parse(span.from) + 3500;
    const v = await play(core, cameraId, core.token, at);
    await waitFor('a stream, an init and 20 fragments', () => v.binaries.length > 21, 20_000, 50);
    const stream = v.messages.find((m) => m.msg.type === 'stream')?.msg;
    expect(stream).toMatchObject({ type: 'stream', width: 768, height: 576 });
    expect(v.binaries[0]!.data.toString('latin1', 4, 8)).toBe('ftyp');
    expect(parseMoof(v.binaries[1]!.data).key).toBe(true);
    // The first recorded time is at the requested moment (the keyframe before it went out at once).
    const first = clocks(v)[0]!;
    expect(Math.abs(first.serverTime - at)).toBeLessThan(1100);
    // Real time: over 3 s of wall clock, about 3 s of recording is sent (not all of it at once).
    const t0 = Date.now();
    const n0 = v.binaries.length;
    await waitFor('3 s of playing', () => Date.now() - t0 >= 3000, 5000, 100);
    const sent = v.binaries.length - n0;
    expect(sent).toBeGreaterThan(15); // 10 fps: ~30
    expect(sent).toBeLessThan(50);
    const c = clocks(v);
    const a = c[0]!;
    const b = c.at(-1)!;
    // Recorded time advances with media time, within one recording (contiguous span).
    expect(b.serverTime - a.serverTime).toBeCloseTo((b.mediaTime - a.mediaTime) * 1000, -2);
    v.ws.close();
  }, 90_000);

  it('closes with the end code once it has played everything recorded', async () => {
    const s = await spans();
    const last = s.spans.at(-1)!;
    const v = await play(core, cameraId, core.token, Date.parse(last.to) - 1500);
    await waitFor('the end of the recording', () => v.closeCode !== null, 30_000, 100);
    expect(v.closeCode).toBe(PLAYBACK_END_CODE);
    expect(v.messages.some((m) => m.msg.type === 'ended')).toBe(true);
    expect(v.binaries.length).toBeGreaterThan(1);
  }, 60_000);

  it('refuses a missing start, a moment with nothing recorded, and a liaison out of scope (audited)', async () => {
    await expect(play(core, cameraId, core.token, null)).rejects.toThrow('HTTP 400');
    await expect(play(core, cameraId, core.token, Date.now() + 3600_000)).rejects.toThrow('HTTP 404');
    await expect(play(core, cameraId, 'not-a-token', Date.now() - 5000)).rejects.toThrow('HTTP 401');
    const here = (await (await core.api('/api/v1/geo/locate?lat=41.885737&lon=-87.630886')).json()) as { district: string | null };
    const other = here.district === '12' ? '11' : '12';
    const outside = await createAndLogin(core.url, core.admin!, {
      username: 'liaison-far',
      password: 'liaison-far-password-123',
      role: 'liaison',
      scope: { districts: [other] },
    });
    const s = await spans();
    await expect(play(core, cameraId, outside.token, Date.parse(s.spans[0]!.from) + 1000)).rejects.toThrow('HTTP 404');
    const denied = await fetch(new URL(`/api/v1/cameras/${cameraId}/recording`, core.url), {
      headers: { authorization: `Bearer ${outside.token}` },
    });
    expect(denied.status).toBe(404);
    const trail = async () =>
      (
        (await (await core.api('/api/v1/audit?limit=200')).json()) as {
          records: Array<{ action: string; actor: string | null; target: string | null }>;
        }
      ).records;
    expect((await trail()).some((r) => r.action === 'video.playback' && r.target === `camera:${cameraId}`)).toBe(true);
    // The refusal does not wait for its audit record (core/cameras/live.ts); on Postgres the
    // record commits a few round trips after the 404 has been sent.
    await waitFor(
      'the refused playback in the audit trail',
      async () => (await trail()).some((r) => r.action === 'video.playback_denied' && r.actor === 'liaison-far'),
      5000,
    );

    // The wall's groups: none for the liaison out of scope; the station, its lines and district for the admin.
    const farGroups = WallGroups.parse(
      await (await fetch(new URL('/api/v1/wall/groups', core.url), { headers: { authorization: `Bearer ${outside.token}` } })).json(),
    );
    expect(farGroups.groups).toEqual([]);
    const groups = WallGroups.parse(await (await core.api('/api/v1/wall/groups')).json());
    expect(groups.groups.find((g) => g.kind === 'station')).toMatchObject({ id: '40380', cameraIds: [cameraId] });
    expect(groups.groups.find((g) => g.kind === 'district')).toMatchObject({ id: here.district, cameraIds: [cameraId] });
    expect(groups.groups.filter((g) => g.kind === 'line').length).toBeGreaterThan(0);
  }, 60_000);

  it("keeps each user's wall on the core and refuses a malformed one, naming the field", async () => {
    const get = async (token?: string): Promise<WallPrefs> =>
      WallPrefs.parse(
        await (await fetch(new URL('/api/v1/me/wall', core.url), { headers: { authorization: `Bearer ${token ?? core.token}` } })).json(),
      );
    expect((await get()).layout).toBe(4);
    const wall: WallPrefs = {
      layout: 9,
      group: { kind: 'station', id: '40380' },
      tiles: [null, cameraId],
      spotlight: false,
      myDistrict: '1',
    };
    const put = await core.api('/api/v1/me/wall', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(wall),
    });
    expect(put.status).toBe(200);
    expect(await get()).toEqual(wall);
    const bad = await core.api('/api/v1/me/wall', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...wall, layout: 5 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field?: string } }).error.field).toBe('layout');
    expect(await get()).toEqual(wall);
    // Another person's wall is their own: a new operator starts from the defaults.
    const other = await createAndLogin(core.url, core.admin!, { username: 'op-two', password: 'op-two-password-1234', role: 'operator' });
    expect((await get(other.token)).layout).toBe(4);
  }, 30_000);
});
