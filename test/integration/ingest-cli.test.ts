import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DIR } from '../../core/version';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { alive, freePort, garbageServer, skipReason, vtest, waitFor } from './ingest-helpers';

const BIN = join(ROOT_DIR, 'bin', 'sentinel.js');

/** Runs the CLI without blocking this process (the test's own TCP servers must keep answering). */
function sentinel(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, SENTINEL_LOG_LEVEL: 'error' }, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    p.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** Direct children of a process (Linux /proc). */
function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

describe.skipIf(skipReason !== null)(
  `sentinel probe / ingest against a real RTSP server${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let sim: RunningSim;
    const servers: Array<{ close(): void }> = [];

    beforeAll(async () => {
      sim = await startSimulator({
        port: await freePort(),
        streams: [
          { name: 'platform', file: vtest },
          { name: 'locked', file: vtest, auth: { username: 'u', password: 'p@ss' } },
        ],
      });
    });
    afterAll(async () => {
      for (const s of servers) s.close();
      await sim?.close();
    });

    it('probe --json prints codec, size and fps and exits 0', async () => {
      const r = await sentinel(['probe', sim.url('platform'), '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ codec: 'h264', width: 768, height: 576, fps: 10 });
    });

    it('probe exits 1 with a distinct, clear message for each way a camera can fail, within 10 s', async () => {
      const g = await garbageServer();
      servers.push(g.server);
      // Accepts the connection and never says a word: a hung camera.
      const silent = createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      servers.push(silent);
      const cases: Array<[string, RegExp]> = [
        [`rtsp://127.0.0.1:${await freePort()}/x`, /connection refused/],
        ['rtsp://camera.invalid/x', /not found \(DNS/],
        [`rtsp://127.0.0.1:${(silent.address() as AddressInfo).port}/x`, /timed out/],
        [sim.url('locked'), /401 Unauthorized.*needs a user name/],
        [`rtsp://u:wrong@127.0.0.1:${sim.port}/locked`, /401 Unauthorized.*wrong/],
        [`rtsp://127.0.0.1:${g.port}/x`, /not an RTSP server/],
        [`rtsp://127.0.0.1:${sim.port}/nope`, /404/],
      ];
      const messages = new Set<string>();
      for (const [url, re] of cases) {
        const r = await sentinel(['probe', url, '--json']);
        expect(r.code, url).toBe(1);
        expect(r.stderr, url).toMatch(re);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).not.toContain('wrong@');
        // Node and tsx start-up is part of the wall time measured here.
        expect(r.ms, url).toBeLessThan(10_000);
        messages.add(r.stderr.replace(/\d+/g, ''));
      }
      expect(messages.size).toBe(cases.length);
      const ok = await sentinel(['probe', `rtsp://u:p%40ss@127.0.0.1:${sim.port}/locked`, '--json']);
      expect(ok.code, ok.stderr).toBe(0);
    });

    it('probe rejects malformed URLs before connecting', async () => {
      for (const [url, re] of [
        ['rtsp://cam era/x', /space/],
        ['ftp://h/x', /scheme/],
        ['rtsp://h/x`id`', /character "`"/],
      ] as const) {
        const r = await sentinel(['probe', url]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(re);
      }
    });

    it('ingest --json prints one line per second and a summary', async () => {
      const r = await sentinel(['ingest', sim.url('platform'), '--seconds', '4', '--fps', '5', '--json'], 30_000);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const summary = lines.at(-1)!;
      expect(Object.keys(summary).sort()).toEqual(['dropped', 'frames', 'reconnects']);
      const ticks = lines.slice(0, -1);
      expect(ticks).toHaveLength(4);
      for (const t of ticks) expect(Object.keys(t).sort()).toEqual(['fps', 'frames', 'state', 't']);
      expect(ticks.at(-1)?.state).toBe('live');
      expect(summary.frames).toBeGreaterThan(5);
      expect(summary.reconnects).toBe(0);
    });

    it('leaves no ffmpeg behind when the process is killed outright (SIGKILL)', async () => {
      const p = spawn(process.execPath, [BIN, 'ingest', sim.url('platform'), '--seconds', '60'], { stdio: 'ignore' });
      const ff = await waitFor(
        'ffmpeg child',
        () => children(p.pid!).find((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').startsWith('ffmpeg')),
        15_000,
        100,
      );
      expect(alive(ff)).toBe(true);
      p.kill('SIGKILL');
      await waitFor('ffmpeg gone', () => !alive(ff), 3000, 50);
      const stray = spawnSync('pgrep', ['-f', sim.url('platform')], { encoding: 'utf8' }).stdout.trim();
      expect(
        stray
          .split('\n')
          .filter(Boolean)
          .map(Number)
          .filter((pid) => pid === ff),
      ).toEqual([]);
    });
  },
);
