import { sql } from 'kysely';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Camera, CameraHealthEvent, CameraList, SOCKET_PATH, type ServerToClientEvents } from '../../contract';
import { tiedChildren } from '../../analytics/ingest/process';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig } from '../../core/config';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { alive, assets, freePort, skipReason, vtest, waitFor } from './ingest-helpers';
import { signIn, type SignedIn } from '../support/auth';
import { onTestDatabase } from '../support/core';
import { rows, tableNames } from '../support/rows';

const SECRET = 'Pa:ss@w%rd-Q7';
const USER = 'tech@cta';

// The camera feature end to end: real core (HTTP, socket.io, the run's database), real RTSP server.
describe.skipIf(skipReason !== null)(`camera API over a real core${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sim: RunningSim;
  let core: CoreHandle;
  let base: string;
  let socket: Socket<ServerToClientEvents>;
  const logLines: string[] = [];
  const socketPayloads: string[] = [];
  const health: CameraHealthEvent[] = [];
  let dataDir: string;
  let admin: SignedIn;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await admin.api(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      json: text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : null,
    };
  };

  beforeAll(async () => {
    sim = await startSimulator({
      port: await freePort(),
      streams: [{ name: 'secure', file: vtest, auth: { username: USER, password: SECRET } }],
    });
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-cam-api-'));
    const cfg = await onTestDatabase(loadConfig({ dataDir, port: 0, assetsDir: assets ?? undefined }, {}));
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    });
    core = await startCore(
      { ...cfg, recording: { ...cfg.recording, segmentSeconds: 2 }, log: { level: 'debug' } },
      { log: pino({ level: 'debug' }, sink) },
    );
    base = core.url;
    admin = await signIn(core);
    socket = ioClient(base, { path: SOCKET_PATH, transports: ['websocket'], auth: { token: admin.token } });
    socket.onAny((_e: string, payload: unknown) => socketPayloads.push(JSON.stringify(payload)));
    socket.on('camera:health', (e) => health.push(CameraHealthEvent.parse(e)));
    await waitFor('socket connected', () => socket.connected, 5000);
  });
  afterAll(async () => {
    socket?.close();
    await core?.close();
    await sim?.close();
  });

  it('registers a camera whose credentials hold @ : %, never showing the password, and it goes live', async () => {
    const url = `rtsp://${encodeURIComponent(USER)}:${encodeURIComponent(SECRET)}@127.0.0.1:${sim.port}/secure`;
    const r = await api('POST', '/api/v1/cameras', {
      name: 'Clark/Lake platform 1',
      url,
      mount: { kind: 'station', stationId: '40380', platform: '1' },
      location: { lat: 41.8857, lon: -87.6309 },
    });
    expect(r.status).toBe(201);
    const cam = Camera.parse(r.json);
    expect(cam.url).toBe(`rtsp://tech%40cta:***@127.0.0.1:${sim.port}/secure`);
    expect(cam).toMatchObject({ username: USER, hasPassword: true });
    await waitFor('live over socket.io', () => health.find((h) => h.cameraId === cam.id && h.health.state === 'live'), 20_000);
    const list = CameraList.parse((await api('GET', '/api/v1/cameras')).json);
    expect(list.cameras.map((c) => c.id)).toContain(cam.id);
    const snap = await admin.api(`/api/v1/cameras/${cam.id}/snapshot.jpg`);
    expect(snap.status).toBe(200);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await snap.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    // The secret appears nowhere outside the core: not in API bodies, socket payloads,
    // logs, or any row of the database (encrypted at rest).
    const everything = [r.text, (await api('GET', `/api/v1/cameras/${cam.id}`)).text, ...socketPayloads, ...logLines].join('\n');
    for (const form of [SECRET, encodeURIComponent(SECRET)]) expect(everything).not.toContain(form);
    for (const table of await tableNames(core.sql)) {
      for (const row of await rows(core.sql, sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)}`)) {
        const text = Object.values(row)
          .map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)))
          .join('\n');
        for (const form of [SECRET, encodeURIComponent(SECRET)]) expect(text, `a row of ${table}`).not.toContain(form);
      }
    }
    // On SQLite the file itself (its WAL, pages freed by an update) must not hold it either.
    if (core.sql.dialect === 'sqlite') {
      await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(core.sql.as());
      const files = readdirSync(dataDir).filter((f) => f.startsWith('sentinel.db'));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(readFileSync(join(dataDir, f)).toString('latin1')).not.toContain(SECRET);
    }
  });

  it('rejects bad URLs with a message naming the problem, and keeps the other cameras running', async () => {
    const cases: Array<[string, RegExp]> = [
      ['rtsp://cam host/x', /space/],
      ['rtsp:///stream', /no host/],
      ['http://127.0.0.1/x', /scheme "http:"/],
      ['rtsp://127.0.0.1/x;rm -rf /', /character ";"|space/],
      ['rtsp://127.0.0.1/$(reboot)', /character "\$"/],
      ['rtsp://u:p%zz@127.0.0.1/x', /percent-escape/],
    ];
    for (const [url, msg] of cases) {
      const r = await api('POST', '/api/v1/cameras', { name: `bad ${url}`, url });
      expect(r.status, url).toBe(400);
      const err = (r.json as { error: { field?: string; message: string } }).error;
      expect(err.field).toBe('url');
      expect(err.message).toMatch(msg);
    }
    const dup = await api('POST', '/api/v1/cameras', { name: 'Clark/Lake platform 1', url: 'rtsp://127.0.0.1/x' });
    expect(dup.status).toBe(409);
    const list = CameraList.parse((await api('GET', '/api/v1/cameras')).json);
    expect(list.cameras).toHaveLength(1);
    expect(list.cameras[0]?.health.state).toBe('live');
  });

  it('updates and deletes a camera, with a clear state for one that cannot connect', async () => {
    const created = Camera.parse(
      (await api('POST', '/api/v1/cameras', { name: 'Spare', url: `rtsp://127.0.0.1:${sim.port}/secure` })).json,
    );
    await waitFor('401 reported', () => health.find((h) => h.cameraId === created.id && h.health.lastError?.includes('401')), 15_000);
    const upd = await api('PATCH', `/api/v1/cameras/${created.id}`, { username: USER, password: SECRET });
    expect(upd.status).toBe(200);
    await waitFor('live after credentials', () => health.find((h) => h.cameraId === created.id && h.health.state === 'live'), 20_000);
    const del = await api('DELETE', `/api/v1/cameras/${created.id}`);
    expect(del.status).toBe(200);
    expect((await api('GET', `/api/v1/cameras/${created.id}`)).status).toBe(404);
  });

  it('cuts a clip through the API, serving the MP4 with its SHA-256', async () => {
    const cam = CameraList.parse((await api('GET', '/api/v1/cameras')).json).cameras[0]!;
    const now = Date.now();
    const r = await api('POST', `/api/v1/cameras/${cam.id}/clips`, { from: now - 3000, to: now - 1000, preRollS: 0, postRollS: 1 });
    expect(r.status, r.text).toBe(201);
    const clip = r.json as { id: string; sha256: string; durationS: number };
    const video = await admin.api(`/api/v1/clips/${clip.id}/video.mp4`);
    const bytes = Buffer.from(await video.arrayBuffer());
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(clip.sha256);
  });

  it('leaves no ffmpeg or simulator process behind when the core closes', async () => {
    const pids = tiedChildren().filter((p) => p !== sim.pid);
    expect(pids.length).toBeGreaterThan(0);
    await core.close();
    expect(pids.filter(alive)).toEqual([]);
  });
});
