import { sql } from 'kysely';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VehicleSnapshot } from '../../contract';
import type { SqlDb } from '../../core/db/sql';
import { REDIS_SERVER, startRedis, type RunningRedis } from '../support/redis';
import { one, serveSql } from '../support/rows';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { waitFor } from './ingest-helpers';

/**
 * A real HTTP server standing in for CTA's Bus Tracker (the real API is not reachable here):
 * it answers every getvehicles call with bus 1 at the latitude the test sets, and counts calls.
 */
async function busTracker(): Promise<{ url: string; server: Server; calls: number[]; setLat(lat: number): void }> {
  const calls: number[] = [];
  let lat = 41.88;
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/getvehicles')) return void res.writeHead(404).end();
    calls.push(Date.now());
    const vehicle = {
      vid: '1',
      rt: '22',
      lat: String(lat),
      lon: '-87.63',
      hdg: '0',
      des: 'Howard',
      tmstmp: '20261201 12:00:00',
      spd: '12',
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ 'bustime-response': { vehicle: [vehicle] } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls, setLat: (v) => void (lat = v) };
}

// Two real `sentinel serve` replicas sharing one database (SQLite: the data directory's file;
// Postgres: one database) and a private redis-server, both configured with the same Bus Tracker
// key: the agency's one daily budget.
describe.skipIf(!REDIS_SERVER)('feed polling in a cluster (skipped without redis-server)', () => {
  let redis: RunningRedis;
  let api: Awaited<ReturnType<typeof busTracker>>;
  let dataDir: string;
  let a: RunningServe;
  let b: RunningServe;
  let db: SqlDb;
  const holder = async (): Promise<string | null> =>
    (await one(db, sql<{ holder: string }>`SELECT holder FROM leases WHERE name = 'feed-polling' AND expires_at_ms > ${Date.now()}`))
      ?.holder ?? null;
  const busOn = async (r: RunningServe): Promise<{ lat: number; stale: boolean } | undefined> => {
    const res = await r.api('/api/v1/vehicles');
    return VehicleSnapshot.parse(await res.json()).vehicles.find((v) => v.id === 'bus:1');
  };

  beforeAll(async () => {
    redis = await startRedis();
    api = await busTracker();
    dataDir = tempDir('sentinel-feeds-cluster-');
    const configFile = join(dataDir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        auth: { mfaRequiredRoles: [] },
        feeds: { busTracker: { apiKey: 'AGENCYKEY', baseUrl: api.url, routes: ['22'], intervalS: 5, dailyBudget: 50_000 } },
      }),
    );
    const env = { SENTINEL_ASSETS: '/nonexistent-assets', SENTINEL_REDIS_URL: redis.url, SENTINEL_CONFIG: configFile };
    a = await startServe({ dataDir, env, timeoutMs: 60_000 });
    b = await startServe({ dataDir, env, timeoutMs: 60_000 });
    db = await serveSql(a);
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
    await new Promise<void>((r) => (api ? api.server.close(() => r()) : r()));
  });

  it('one replica polls; the other shows the same bus from the relayed reports', async () => {
    expect(await holder()).toMatch(new RegExp(`-${a.proc.pid}-`));
    await waitFor('bus 1 on replica B', () => busOn(b), 15_000);
    // Polling every 5 s (a budget that does not stretch it): one poller calls 2-3 times in 11 s, two would call 4-6 times.
    const from = api.calls.length;
    await new Promise((r) => setTimeout(r, 11_000));
    expect(api.calls.length - from).toBeGreaterThanOrEqual(2);
    expect(api.calls.length - from).toBeLessThanOrEqual(3);
    api.setLat(41.9);
    await waitFor('the new position on B', async () => ((await busOn(b))?.lat === 41.9 ? true : undefined), 10_000);
    expect(await busOn(b)).toMatchObject({ lat: 41.9, stale: false });
    // The key is the agency's: it never reaches the other replicas' consoles.
    expect(JSON.stringify(await (await b.api('/api/v1/feeds')).json())).not.toContain('AGENCYKEY');
  }, 40_000);

  it('kill -9 of the polling replica: the other takes polling over within 15 s', async () => {
    a.proc.kill('SIGKILL');
    const killedAt = Date.now();
    api.setLat(41.95);
    await waitFor(
      'B holding the feed-polling lease',
      async () => ((await holder())?.includes(`-${b.proc.pid}-`) ? true : undefined),
      20_000,
    );
    await waitFor('a position polled by B', async () => ((await busOn(b))?.lat === 41.95 ? true : undefined), 10_000);
    const tookS = (Date.now() - killedAt) / 1000;
    console.log(`feed polling moved to B ${tookS.toFixed(1)} s after kill -9 of A`);
    expect(tookS).toBeLessThan(15 + 5); // lease takeover (< 15 s) plus at most one 5 s polling interval
    expect(api.calls.at(-1)!).toBeGreaterThan(killedAt);
  }, 40_000);
});
