// `npm run bench -- cluster [--clients 1000] [--alerts 60] [--gap-ms 50] [--database postgres]`: alert fan-out over core replicas.
// 1,000 liaison sockets (real socket.io clients, in a worker thread of this process, one session
// each, spread over 10 police districts) receive alerts created through the real admin route
// (HTTP -> database -> incident -> lifecycle log -> delivery) of replica A; the time from "create"
// to "delivered" is taken at every client in scope, on this process's one clock.
// Baseline, same run: one `sentinel serve` with all the clients. Then two `sentinel serve`
// replicas sharing a data directory (SQLite WAL) and a private redis-server, half the clients
// on each; B learns of A's events from the shared log, told by A over Redis.
// `--database postgres`: both arrangements on a private Postgres (started here, fsync on), the
// production layout, instead of the shared SQLite file.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SOCKET_PATH } from '../contract';
import { UserStore } from '../core/auth/store';
import { openData } from '../core/db/open';
import { ensureUser } from '../test/support/auth';
import { startPostgres, type RunningPostgres } from '../test/support/postgres';
import { startRedis } from '../test/support/redis';
import { startServe, tempDir, type RunningServe } from '../test/support/serve';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const DISTRICTS = 10;
const now = (): number => performance.timeOrigin + performance.now();

interface Client {
  district: string;
  token: string;
  url: string;
}

/** Liaisons with one session each, created in the shared database (a scrypt sign-in per client would only slow the set-up). */
async function sessions(serve: RunningServe, clients: number, urls: string[]): Promise<Client[]> {
  const db = await openData({ dataDir: serve.dataDir, database: { url: serve.databaseUrl } });
  try {
    const store = new UserStore(db, { ttlMs: 12 * 3_600_000, idleMs: 30 * 60_000 });
    const out: Client[] = [];
    for (let d = 1; d <= DISTRICTS; d++) {
      const username = `liaison-d${d}`;
      await ensureUser(db, { username, password: 'bench-liaison-password', role: 'liaison', scope: { districts: [String(d)] } });
      const user = (await store.byUsername(username))!;
      for (let i = 0; i < clients / DISTRICTS; i++)
        out.push({
          district: String(d),
          token: (await store.createSession(user.id, '127.0.0.1')).token,
          url: urls[out.length % urls.length]!,
        });
    }
    return out;
  } finally {
    await db.close();
  }
}

/** Connects the clients in a worker thread (bench/push-clients.mjs) and measures paced alerts created through `via`. */
async function measure(via: RunningServe, clients: Client[], alerts: number, gapMs: number) {
  const worker = new Worker(new URL('./push-clients.mjs', import.meta.url), {
    workerData: { url: clients[0]!.url, path: SOCKET_PATH, clients },
  });
  const ask = <T>(msg: object, type: string): Promise<T> =>
    new Promise((resolve) => {
      const on = (m: { type: string }): void => {
        if (m.type !== type) return;
        worker.off('message', on);
        resolve(m as T);
      };
      worker.on('message', on);
      worker.postMessage(msg);
    });
  try {
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
    });
    console.log(`  ${clients.length} sockets connected in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // A liaison's first connection is replayed the recent alerts in its scope (core/alerts/deliver.ts),
    // read after it joined its rooms: an alert committed before that read arrives live and again
    // in the replay (at-least-once; clients de-duplicate by id). Measure fan-out once those
    // replays are over, and count any duplicate below.
    await new Promise((r) => setTimeout(r, 3000));
    const perDistrict = clients.length / DISTRICTS;
    const sent = new Map<string, number>();
    for (let i = 0; i < alerts; i++) {
      const t = now();
      const res = await via.api('/api/v1/test-alert', {
        method: 'POST',
        body: JSON.stringify({ district: String((i % DISTRICTS) + 1), cameraId: `bench-${i}` }),
      });
      if (res.status !== 201) throw new Error(`test alert refused: ${res.status} ${await res.text()}`);
      sent.set(((await res.json()) as { id: string }).id, t);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    const ids = [...sent.keys()];
    const until = Date.now() + 60_000;
    for (;;) {
      const { counts } = await ask<{ counts: Record<string, number> }>({ type: 'counts', ids }, 'counts');
      if (ids.every((id) => (counts[id] ?? 0) >= perDistrict)) break;
      if (Date.now() > until) throw new Error('not every client in scope received every alert within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await ask<{ arrivals: Record<string, number[]>; wrong: string[]; byServer: Record<string, Record<string, number[]>> }>(
      { type: 'report' },
      'report',
    );
    const lat = (arr: Record<string, number[]>): number[] => [...sent].flatMap(([id, t]) => (arr[id] ?? []).map((a) => a - t));
    const perServer = Object.fromEntries(Object.entries(r.byServer).map(([u, arr]) => [u, lat(arr)]));
    const xs = lat(r.arrivals);
    return { xs, wrong: r.wrong.length, duplicates: xs.length - alerts * perDistrict, perServer };
  } finally {
    worker.postMessage({ type: 'close' });
    await worker.terminate();
  }
}

const line = (label: string, xs: number[]): string =>
  `${label.padEnd(40)} n=${String(xs.length).padStart(6)}  p50 ${pct(xs, 50).toFixed(1).padStart(7)} ms  p95 ${pct(xs, 95)
    .toFixed(1)
    .padStart(7)} ms  max ${Math.max(...xs)
    .toFixed(1)
    .padStart(7)} ms`;

export async function run(args: string[]): Promise<void> {
  const clients = arg(args, 'clients', 1000);
  const alerts = arg(args, 'alerts', 60);
  const gapMs = arg(args, 'gap-ms', 50);
  const d = args.indexOf('--database');
  const database = d >= 0 ? args[d + 1] : 'sqlite';
  if (database !== 'sqlite' && database !== 'postgres') throw new Error(`--database takes sqlite or postgres, not ${database}`);
  let redisVersion = '';
  try {
    redisVersion = execFileSync('redis-server', ['--version']).toString().trim();
  } catch {
    console.log('redis-server is not installed (apt-get install redis-server): the cluster benchmark cannot run');
    return;
  }
  console.log(
    `${redisVersion}; load average at start ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const settings = (dir: string): string => {
    const file = join(dir, 'bench-config.json');
    writeFileSync(file, JSON.stringify({ push: { escalateAfterS: 3600 }, auth: { mfaRequiredRoles: [] } }));
    return file;
  };
  const env = (dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    SENTINEL_ASSETS: '/nonexistent-assets',
    SENTINEL_CONFIG: settings(dir),
    SENTINEL_LOG_LEVEL: 'error',
    ...extra,
  });

  const pg: RunningPostgres | null = database === 'postgres' ? await startPostgres(30_000, { durable: true }) : null;
  console.log(`database: ${pg ? 'a private Postgres (fsync on)' : 'the SQLite file in the shared data directory'}`);
  let one: { xs: number[]; wrong: number; duplicates: number };
  let two: { xs: number[]; wrong: number; duplicates: number; perServer: Record<string, number[]> };
  let a: RunningServe;
  let b: RunningServe;
  try {
    // One replica: the baseline.
    const soloDir = tempDir('sentinel-bench-solo-');
    const soloDb = await pg?.createDatabase('bench_solo');
    const solo = await startServe({ dataDir: soloDir, env: env(soloDir), timeoutMs: 120_000, databaseUrl: soloDb });
    try {
      console.log(`one replica (${solo.url})`);
      one = await measure(solo, await sessions(solo, clients, [solo.url]), alerts, gapMs);
    } finally {
      await solo.stop();
      rmSync(soloDir, { recursive: true, force: true });
    }

    // Two replicas over Redis, alerts through A, half the clients on each.
    const redis = await startRedis();
    const dir = tempDir('sentinel-bench-cluster-');
    const clusterDb = await pg?.createDatabase('bench_cluster');
    a = await startServe({ dataDir: dir, env: env(dir, { SENTINEL_REDIS_URL: redis.url }), timeoutMs: 120_000, databaseUrl: clusterDb });
    b = await startServe({ dataDir: dir, env: env(dir, { SENTINEL_REDIS_URL: redis.url }), timeoutMs: 120_000, databaseUrl: clusterDb });
    try {
      console.log(`two replicas (${a.url}, ${b.url}), Redis ${redis.url}`);
      const cs = await sessions(a, clients, [a.url, b.url]);
      two = await measure(a, cs, alerts, gapMs);
    } finally {
      await a.stop();
      await b.stop();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await pg?.stop();
  }
  console.log(line(`1 replica, ${clients} sockets`, one.xs));
  console.log(line(`2 replicas, ${clients} sockets (half each)`, two.xs));
  console.log(line(`  of which the ${clients / 2} on A (the writer)`, two.perServer[a.url] ?? []));
  console.log(line(`  of which the ${clients / 2} on B`, two.perServer[b.url] ?? []));
  console.log(
    `p50 / p95 ratio, 2 replicas / 1 replica: ${(pct(two.xs, 50) / pct(one.xs, 50)).toFixed(2)}x / ${(pct(two.xs, 95) / pct(one.xs, 95)).toFixed(2)}x`,
  );
  console.log(
    `out-of-scope deliveries: ${one.wrong + two.wrong} (must be 0); duplicate deliveries ${one.duplicates + two.duplicates}; load average at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}
