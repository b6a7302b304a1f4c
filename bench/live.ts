import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { discoverAssetsDir } from '../core/config';
import { startSimulator } from '../tools/rtsp-sim/sim';
import { launchChromium, openPage } from '../test/support/browser';
import { startServe } from '../test/support/serve';
import { freePort } from '../test/integration/ingest-helpers';

/**
 * Live video: delay from the core receiving a frame to Chromium presenting it, with 1 and with
 * 16 viewers, and the core's CPU per viewer. One camera: the simulator serving vtest.avi
 * (768x576, 10 fps H.264) over RTSP/TCP; one Chromium page plays it through the console's MSE
 * player; 15 more viewers are WebSocket clients in this process. Phases alternate (1, 16, 1,
 * 16, ...) for `--rounds`, and the figures are the medians over rounds; the baseline (1 viewer)
 * is the same core in the same run.
 *
 * Per presented frame (requestVideoFrameCallback): its media time, mapped through the player's
 * clock pair (the core's receipt time of a known fragment and that fragment's media time), is
 * the frame's receipt time at the core; the callback's presentation time (on the core's clock,
 * by the offset the player measured) is when it was on screen. The camera -> core leg (the
 * simulator's encoder, RTP and its 100 ms jitter buffer) is not in it.
 *
 * `npm run bench -- live [--seconds 15] [--rounds 3]`
 */

const TICK = 100;
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--seconds');
  const seconds = i >= 0 ? Number(args[i + 1]) : 15;
  const r = args.indexOf('--rounds');
  const rounds = r >= 0 ? Number(args[r + 1]) : 3;
  const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
  if (!assets) throw new Error('the live benchmark needs the assets pack (SENTINEL_ASSETS)');
  const sim = await startSimulator({ port: await freePort(), streams: [{ name: 'platform', file: join(assets, 'media', 'vtest.avi') }] });
  const core = await startServe({ timeoutMs: 120_000 });
  const browser = await launchChromium();
  const extra: WebSocket[] = [];
  try {
    const res = await core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench camera', url: sim.url('platform'), analyticsEnabled: false }),
    });
    const cam = (await res.json()) as { id: string };
    const { page } = await openPage(browser, core.url, undefined, { token: core.token });
    const tile = page.getByRole('button', { name: /^Bench camera: Live/ });
    for (let t = 0; t < 120 && (await tile.count()) === 0; t++) await new Promise((r) => setTimeout(r, 500));
    await tile.click();
    const video = page.getByTestId('camera-detail').getByTestId('live-video');
    await video.waitFor();
    // Every presented frame's delay, collected in the page (rVFC runs per composited frame).
    await video.evaluate((v: HTMLVideoElement) => {
      const w = window as unknown as { __delays: number[]; __frames: number };
      w.__delays = [];
      w.__frames = 0;
      const FRAME_S = 0.1; // the clock pair's media time is a frame's END (10 fps footage)
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
        const raw = v.dataset.clock;
        if (raw) {
          const c = JSON.parse(raw) as { mediaTime: number; serverTime: number; offsetMs: number };
          const receivedAt = c.serverTime + (meta.mediaTime + FRAME_S - c.mediaTime) * 1000;
          const shownAt = performance.timeOrigin + meta.presentationTime + c.offsetMs;
          w.__delays.push(shownAt - receivedAt);
        }
        w.__frames++;
        v.requestVideoFrameCallback(onFrame);
      };
      v.requestVideoFrameCallback(onFrame);
    });
    const phase = async (viewers: number): Promise<{ viewers: number; p50: number; p95: number; cpu: number; fps: number }> => {
      await new Promise((r) => setTimeout(r, 3000)); // settle
      const pid = core.proc.pid!;
      const c0 = cpuSecondsOf(pid);
      const w0 = Date.now();
      await video.evaluate(() => {
        const w = window as unknown as { __delays: number[]; __frames: number };
        w.__delays = [];
        w.__frames = 0;
      });
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const { delays, frames } = await video.evaluate(() => {
        const w = window as unknown as { __delays: number[]; __frames: number };
        return { delays: w.__delays, frames: w.__frames };
      });
      const wall = (Date.now() - w0) / 1000;
      const cpu = ((cpuSecondsOf(pid) - c0) / wall) * 100;
      const out = {
        viewers,
        p50: Math.round(pct(delays, 50)),
        p95: Math.round(pct(delays, 95)),
        cpu: Math.round(cpu * 10) / 10,
        fps: Math.round((frames / wall) * 10) / 10,
      };
      console.log(JSON.stringify({ round: true, ...out, frames: delays.length }));
      return out;
    };
    const setViewers = (n: number): void => {
      const wsUrl = `${core.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/cameras/${cam.id}/live`;
      while (extra.length < n - 1) {
        const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${core.token}` } });
        ws.on('message', () => undefined);
        extra.push(ws);
      }
      while (extra.length > n - 1) extra.pop()!.close();
    };
    const results: Array<{ viewers: number; p50: number; p95: number; cpu: number; fps: number }> = [];
    for (let k = 0; k < rounds; k++) {
      for (const n of [1, 16]) {
        setViewers(n);
        results.push(await phase(n));
      }
    }
    const med = (xs: number[]): number => pct(xs, 50);
    const summary = [1, 16].map((n) => {
      const rs = results.filter((x) => x.viewers === n);
      return {
        viewers: n,
        rounds: rs.length,
        delayP50Ms: med(rs.map((x) => x.p50)),
        delayP95Ms: med(rs.map((x) => x.p95)),
        coreCpuPct: med(rs.map((x) => x.cpu)),
        presentedFps: med(rs.map((x) => x.fps)),
      };
    });
    for (const x of summary) console.log(JSON.stringify(x));
    const [a, b] = summary;
    if (a && b)
      console.log(
        JSON.stringify({
          coreCpuPerViewerPct: Math.round(((b.coreCpuPct - a.coreCpuPct) / 15) * 100) / 100,
          load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
          note: 'core process only (its ffmpeg children do not change with viewers)',
        }),
      );
  } finally {
    for (const ws of extra) ws.close();
    await browser.close();
    await core.stop();
    await sim.close();
  }
}
