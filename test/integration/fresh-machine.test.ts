import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertList, CameraList, DetectionRange, HealthResponse } from '../../contract';
import { bundledFfmpeg } from '../../analytics/ingest/ffmpeg-binary';
import { runSentinel, startServe, type RunningServe } from '../support/serve';
import { assets, freePort } from './ingest-helpers';

/** Polls an async check until it returns something truthy. */
async function waitFor<T>(what: string, fn: () => Promise<T | null | false>, timeoutMs: number, stepMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const bundled = bundledFfmpeg();
const skip = !assets
  ? 'assets pack not found (set SENTINEL_ASSETS)'
  : !bundled
    ? 'the npm package @ffmpeg-installer/linux-x64 is not installed'
    : null;

/** Command lines of the processes using our demo RTSP port (every ffmpeg of this core names it in its URL). */
function ffmpegsOnPort(port: number): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (cmd.some((a) => a.includes(`127.0.0.1:${port}/`)) && !cmd[0]?.endsWith('python3')) out.push(cmd[0] ?? '');
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// A workstation with only Node: no ffmpeg on PATH (PATH is an empty folder), nothing in the
// config, and no GStreamer simulator (its interpreter points nowhere). `serve --demo` must
// still bring every demo camera live, run analytics on them and raise alerts.
describe.skipIf(skip !== null)(`serve --demo on a machine with only Node${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let core: RunningServe;
  let rtspPort: number;
  const emptyPath = mkdtempSync(join(tmpdir(), 'sentinel-nopath-'));

  beforeAll(async () => {
    rtspPort = await freePort();
    core = await startServe({
      args: ['--demo'],
      env: {
        PATH: emptyPath,
        SENTINEL_CONFIG: '',
        SENTINEL_SIM_PYTHON: '/nonexistent/python3',
        SENTINEL_DEMO_RTSP_PORT: String(rtspPort),
        SENTINEL_ASSETS: assets ?? '',
        SENTINEL_LOG_LEVEL: 'info',
      },
      timeoutMs: 60_000,
    });
  }, 90_000);
  afterAll(async () => {
    await core?.stop();
    rmSync(emptyPath, { recursive: true, force: true });
  });

  it('says in health which ffmpeg it uses and what serves the demo cameras', async () => {
    const h = HealthResponse.parse(await (await core.api('/api/v1/health')).json());
    expect(h.ffmpeg).toMatchObject({ source: 'bundled', release: '4.1', path: bundled, ffprobe: false, note: 'no ffmpeg on PATH' });
    expect(h.demoCameras?.server).toBe('rtsp-js');
    expect(core.stderr()).toMatch(/GStreamer camera simulator unavailable/);
  });

  it('brings every demo camera live, produces detections and raises an alert, all with the bundled ffmpeg', async () => {
    // The first start encodes each footage file once (tens of seconds on a busy 2-core machine).
    const cameras = await waitFor(
      'every demo camera live',
      async () => {
        const list = CameraList.parse(await (await core.api('/api/v1/cameras')).json()).cameras;
        return list.length >= 4 && list.every((c) => c.health.state === 'live') ? list : null;
      },
      240_000,
      1000,
    );
    expect(cameras.map((c) => c.name).sort()).toEqual(
      expect.arrayContaining(['Clark/Lake platform (demo)', 'Bus 1234 operator cab (demo)']),
    );
    const exes = ffmpegsOnPort(rtspPort);
    expect(exes.length).toBeGreaterThanOrEqual(4);
    for (const e of exes) expect(e).toBe(bundled);

    const platform = cameras.find((c) => c.name.startsWith('Clark/Lake'))!;
    await waitFor(
      'people detected on the platform camera',
      async () => {
        const to = Date.now();
        const r = DetectionRange.parse(
          await (await core.api(`/api/v1/cameras/${platform.id}/detections?from=${to - 60_000}&to=${to}`)).json(),
        );
        return r.frames.some((f) => f.tracks.length > 0);
      },
      90_000,
      1000,
    );
    const alerts = await waitFor(
      'an alert',
      async () => {
        const a = AlertList.parse(await (await core.api('/api/v1/alerts')).json()).alerts;
        return a.length > 0 ? a : null;
      },
      120_000,
      1000,
    );
    expect(cameras.map((c) => c.id)).toContain(alerts[0]!.alert.cameraId);
  }, 480_000);

  it('probes a camera without ffprobe: `sentinel probe` reads the stream parameters from the bundled ffmpeg', async () => {
    const r = await runSentinel(['probe', `rtsp://127.0.0.1:${rtspPort}/station-platform`, '--json'], {
      env: { PATH: emptyPath, SENTINEL_CONFIG: '' },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ codec: 'h264', width: 768, height: 576, fps: 10 });
  }, 90_000);
});
