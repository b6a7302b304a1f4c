import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { CameraHealth } from '../../contract';
import { openTestSql } from '../../test/support/dialects';
import { loadConfig } from '../config';
import type { SqlDb } from '../db/sql';
import type { CameraRecord } from './repository';
import { CameraService } from './service';

/** What the node running the camera last reported (its ingest: the core's own session is not in it). */
const NODE_REPORT: CameraHealth = {
  state: 'live',
  fpsIn: 5,
  fpsOut: 5,
  frames: 100,
  dropped: 0,
  reconnects: 0,
  lastFrameAt: new Date().toISOString(),
  lastError: null,
  sourceWidth: 640,
  sourceHeight: 480,
  since: new Date().toISOString(),
};

let db: SqlDb;
/** A port that accepts and at once closes connections: the core's RTSP session to it fails with a reason. */
let closer: Server;
let port = 0;

beforeAll(async () => {
  db = await openTestSql('sqlite');
  closer = createServer((s) => s.destroy());
  await new Promise<void>((r) => closer.listen(0, '127.0.0.1', r));
  const a = closer.address();
  port = typeof a === 'object' && a ? a.port : 0;
});
afterAll(async () => {
  await new Promise((r) => closer.close(r));
  await db.close();
});

it("a node-held camera's health shows the core's own viewer session: none open, then its state, viewers and failure, then closing and none again", async () => {
  const config = loadConfig({ dataDir: mkdtempSync(join(tmpdir(), 'viewers-')) }, { SENTINEL_ANALYTICS_NODES: '1' });
  const published: CameraHealth[] = [];
  const service = new CameraService(config, db, pino({ level: 'silent' }), (_id, h) => published.push(h));
  service.setRemoteHealth((id) => (id === 'cam' ? NODE_REPORT : null));
  const cam: CameraRecord = {
    id: 'cam',
    name: 'Lake',
    url: `rtsp://127.0.0.1:${port}/x`,
    subUrl: null,
    credentials: {},
    mount: { kind: 'other' },
    location: null,
    analyticsEnabled: true,
    recordingEnabled: false,
    demo: false,
    createdAt: 'now',
    updatedAt: 'now',
  };
  try {
    // Nobody watches: the node's report, and a clear "no session of the core's".
    expect(service.health('cam')).toMatchObject({ state: 'live', fpsIn: 5, live: { state: 'idle', session: 'viewers', consumers: 0 } });

    const hold = service.holdLive(cam)!;
    expect(hold).not.toBeNull();
    const detach = hold.source.attach({ init: () => undefined, fragment: () => undefined, end: () => undefined });
    expect(service.health('cam').live).toMatchObject({ session: 'viewers', consumers: 1, closesAt: null });
    expect(service.health('cam').live?.state).not.toBe('idle');
    // The camera hangs up on the core: its session says why, while the node's ingest stays live.
    const failed = await vi.waitUntil(() => service.health('cam').live?.lastError ?? null, { timeout: 15_000, interval: 50 });
    expect(failed.length).toBeGreaterThan(0);
    expect(service.health('cam').state).toBe('live');
    // Each state change of the session was sent to the camera's health viewers.
    expect(published.some((h) => h.live?.session === 'viewers' && h.live.state !== 'idle')).toBe(true);

    detach();
    hold.release();
    const closing = service.health('cam').live!;
    expect(closing.session).toBe('viewers');
    expect(Date.parse(closing.closesAt!)).toBeGreaterThan(Date.now() + 3000);
    expect(published.at(-1)?.live?.closesAt).toBe(closing.closesAt);
    // Five seconds after the last viewer the session closes, and health says so at once.
    await vi.waitUntil(() => service.health('cam').live?.state === 'idle', { timeout: 10_000, interval: 100 });
    await vi.waitUntil(() => published.at(-1)?.live?.state === 'idle', { timeout: 2000, interval: 20 });
  } finally {
    await service.stopAll();
  }
}, 30_000);

it('a camera that runs nowhere here (no analytics nodes) has no live session in its health', () => {
  const config = loadConfig({ dataDir: mkdtempSync(join(tmpdir(), 'viewers-')) }, {});
  const service = new CameraService(config, db, pino({ level: 'silent' }), () => undefined);
  // Not started here, and not on a node: no session and no `live` at all.
  expect(service.health('nowhere').live).toBeUndefined();
});
