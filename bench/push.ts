// `npm run bench -- push [--clients 200] [--alerts 100] [--gap-ms 20] [--sync-normal] [--database postgres]`: liaison push latency.
// 200 liaison sockets (real socket.io clients over loopback, each with its own session, spread
// over 10 police districts) are connected to a real core; alerts are created through the real
// admin route (HTTP -> database -> incident -> scoped delivery) and the time from "create" to
// "delivered" is taken at every client in scope, in this one process (one clock).
// Baseline, same process, same clients: a bare io.to(room).emit of the same alert (no HTTP,
// no persistence, no incident), i.e. what socket.io fan-out alone costs.
// Two cadences: paced (one alert every --gap-ms) and a burst (all alerts at once).
// `--database postgres`: the same measurement on the embedded SQLite file and then on a private
// Postgres (started here, fsync on, like a real server), and the ratio of the two, in one run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SOCKET_PATH, type Alert } from '../contract';
import { startCore, type CoreHandle } from '../core/app';
import { loadConfig } from '../core/config';
import { createLogger } from '../core/logger';
import { sql } from 'kysely';
import { ensureUser, signIn } from '../test/support/auth';
import { startPostgres } from '../test/support/postgres';

/** `--sync-normal` tunes the SQLite file directly. */
function sqliteHandle(core: CoreHandle): NonNullable<CoreHandle['db']> {
  if (!core.db) throw new Error('--sync-normal applies to SQLite only');
  return core.db;
}

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

interface Figures {
  paced: number[];
  burst: number[];
}

export async function run(args: string[]): Promise<void> {
  const clients = arg(args, 'clients', 200);
  const alerts = arg(args, 'alerts', 100);
  const gapMs = arg(args, 'gap-ms', 20);
  const i = args.indexOf('--database');
  const database = i >= 0 ? args[i + 1] : 'sqlite';
  if (database !== 'sqlite' && database !== 'postgres') throw new Error(`--database takes sqlite or postgres, not ${database}`);
  console.log('## on SQLite (the embedded default)');
  const lite = await measure(args, clients, alerts, gapMs, undefined);
  if (database === 'sqlite') return;
  const server = await startPostgres(30_000, { durable: true });
  try {
    console.log('## on Postgres (private server, fsync on)');
    const pg = await measure(args, clients, alerts, gapMs, await server.createDatabase('bench_push'));
    const ratio = (a: number[], b: number[], p: number) => (pct(a, p) / pct(b, p)).toFixed(2);
    console.log(
      `Postgres / SQLite: paced p50 ${ratio(pg.paced, lite.paced, 50)}x, p95 ${ratio(pg.paced, lite.paced, 95)}x; burst p50 ${ratio(pg.burst, lite.burst, 50)}x, p95 ${ratio(pg.burst, lite.burst, 95)}x`,
    );
  } finally {
    await server.stop();
  }
}

async function measure(args: string[], clients: number, alerts: number, gapMs: number, databaseUrl: string | undefined): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-push-'));
  const cfg = loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, { SENTINEL_LOG_LEVEL: 'silent' });
  const core = await startCore(
    { ...cfg, database: { ...cfg.database, url: databaseUrl }, push: { escalateAfterS: 3600 } },
    { log: createLogger('silent') },
  );
  try {
    // `--sync-normal`: what SQLite's synchronous=NORMAL (WAL; still safe against a process
    // crash, not a power cut) would change. Measurement only; the core's setting is unchanged.
    if (args.includes('--sync-normal')) sqliteHandle(core).pragma('synchronous = NORMAL');
    const admin = await signIn(core);
    const store = core.services.users;
    // One liaison per district, many sessions each (a scrypt login per client would only slow the set-up).
    const tokens: { district: string; token: string }[] = [];
    for (let d = 1; d <= DISTRICTS; d++) {
      const username = `liaison-d${d}`;
      await ensureUser(core.sql, { username, password: 'bench-liaison-password', role: 'liaison', scope: { districts: [String(d)] } });
      const user = (await store.byUsername(username))!;
      for (let i = 0; i < clients / DISTRICTS; i++)
        tokens.push({ district: String(d), token: (await store.createSession(user.id, '127.0.0.1')).token });
    }
    // The clients run in a worker thread (bench/push-clients.mjs): see there why.
    const worker = new Worker(new URL('./push-clients.mjs', import.meta.url), {
      workerData: { url: core.url, path: SOCKET_PATH, clients: tokens },
    });
    const ask = <T>(msg: object, type: string): Promise<T> =>
      new Promise((resolve) => {
        const on = (m: { type: string }) => {
          if (m.type !== type) return;
          worker.off('message', on);
          resolve(m as T);
        };
        worker.on('message', on);
        worker.postMessage(msg);
      });
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
    });
    console.log(`${tokens.length} liaison sockets connected over loopback (client thread), ${DISTRICTS} districts`);
    const perDistrict = clients / DISTRICTS;
    const now = () => performance.timeOrigin + performance.now();

    const waitAll = async (ids: string[]) => {
      const until = Date.now() + 30_000;
      for (;;) {
        const { counts } = await ask<{ counts: Record<string, number> }>({ type: 'counts', ids }, 'counts');
        if (ids.every((id) => (counts[id] ?? 0) >= perDistrict)) return;
        if (Date.now() > until) throw new Error('not every client in scope received every alert within 30 s');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    let arrivals = new Map<string, number[]>();
    const collect = async () => {
      const r = await ask<{ arrivals: Record<string, number[]>; wrong: string[] }>({ type: 'report' }, 'report');
      arrivals = new Map(Object.entries(r.arrivals));
      return r.wrong;
    };
    const latencies = (sent: Map<string, number>) => [...sent].flatMap(([id, t0]) => (arrivals.get(id) ?? []).map((t) => t - t0));
    const report = (label: string, xs: number[]) =>
      console.log(
        `${label.padEnd(34)} n=${String(xs.length).padStart(6)}  p50 ${pct(xs, 50).toFixed(1).padStart(6)} ms  p95 ${pct(xs, 95).toFixed(1).padStart(6)} ms  max ${Math.max(
          ...xs,
        )
          .toFixed(1)
          .padStart(6)} ms`,
      );

    // Push through the product: HTTP create -> database -> incident -> scoped rooms.
    const viaProduct = async (burst: boolean) => {
      const sent = new Map<string, number>();
      const one = async (i: number) => {
        const t0 = now();
        const res = await admin.api('/api/v1/test-alert', {
          method: 'POST',
          body: JSON.stringify({ district: String((i % DISTRICTS) + 1), cameraId: `bench-${burst ? 'b' : 'p'}-${i}` }),
        });
        const { id } = (await res.json()) as { id: string };
        sent.set(id, t0);
      };
      if (burst) await Promise.all(Array.from({ length: alerts }, (_, i) => one(i)));
      else
        for (let i = 0; i < alerts; i++) {
          await one(i);
          await new Promise((r) => setTimeout(r, gapMs));
        }
      await waitAll([...sent.keys()]);
      await collect();
      return latencies(sent);
    };
    // Baseline: socket.io fan-out alone, the same alert shape to the same rooms.
    const viaBareEmit = async (burst: boolean) => {
      const sent = new Map<string, number>();
      const template = (await admin
        .api('/api/v1/test-alert', { method: 'POST', body: JSON.stringify({ district: '1', cameraId: 'bench-template' }) })
        .then((r) => r.json())) as { id: string };
      await waitAll([template.id]);
      const sample = (await sql<{ scope: string }>`SELECT scope FROM alerts WHERE id = ${template.id}`.execute(core.sql.as())).rows[0]!;
      const one = (i: number) => {
        const id = `bare-${burst ? 'b' : 'p'}-${i}`;
        const district = String((i % DISTRICTS) + 1);
        const alert: Alert = {
          id,
          kind: 'crowding',
          cameraId: id,
          cameraName: 'bench',
          zoneId: null,
          zoneName: null,
          score: 1,
          startedAt: new Date().toISOString(),
          endedAt: null,
          snapshotUrl: null,
          trackIds: [],
          detail: { test: true },
          scope: { ...(JSON.parse(sample.scope) as Alert['scope']), district },
        };
        sent.set(id, now());
        core.io.to(['alerts:all', `district:${district}`]).emit('alert:raised', alert, 0);
      };
      if (burst) for (let i = 0; i < alerts; i++) one(i);
      else
        for (let i = 0; i < alerts; i++) {
          one(i);
          await new Promise((r) => setTimeout(r, gapMs));
        }
      await waitAll([...sent.keys()]);
      await collect();
      return latencies(sent);
    };

    const paced = await viaProduct(false);
    const pacedBase = await viaBareEmit(false);
    const burst = await viaProduct(true);
    const burstBase = await viaBareEmit(true);
    report(`paced, every ${gapMs} ms: push`, paced);
    report(`paced, every ${gapMs} ms: bare emit`, pacedBase);
    report(`burst of ${alerts}: push`, burst);
    report(`burst of ${alerts}: bare emit`, burstBase);
    console.log(
      `p95 ratio push / bare emit: paced ${(pct(paced, 95) / pct(pacedBase, 95)).toFixed(2)}x, burst ${(pct(burst, 95) / pct(burstBase, 95)).toFixed(2)}x`,
    );
    const wrongScope = await collect();
    console.log(`out-of-scope deliveries: ${wrongScope.length} (must be 0)`);
    console.log(
      `target: p95 create -> delivered under 250 ms with ${tokens.length} clients: paced ${pct(paced, 95) < 250 ? 'met' : 'MISSED'}, burst ${pct(burst, 95) < 250 ? 'met' : 'MISSED'}`,
    );
    worker.postMessage({ type: 'close' });
    await worker.terminate();
    return { paced, burst };
  } finally {
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
