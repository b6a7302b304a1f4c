import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { discoverAssetsDir } from '../core/config';
import { startSimulator } from '../tools/rtsp-sim/sim';
import { launchChromium, openPage } from '../test/support/browser';
import { startServe } from '../test/support/serve';
import { freePort } from '../test/integration/ingest-helpers';

/**
 * Live video: delay from the core receiving a frame to Chromium showing it, with 1 and with 16
 * viewers, and the core's CPU per viewer. One camera: the simulator serving vtest.avi (768x576,
 * 10 fps H.264) over RTSP/TCP; one Chromium page plays it through the console's MSE player and
 * its delay read-out is sampled every 100 ms; 15 more viewers are WebSocket clients in this
 * process. The baseline is the same core with the one page only, in the same run.
 *
 * The delay is the player's own figure (core receipt -> on screen, erring late by up to one
 * frame); the camera -> core leg (encoder, RTP, the simulator's 100 ms jitter buffer) is not in it.
 *
 * `npm run bench -- live [--seconds 20]`
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
  const seconds = i >= 0 ? Number(args[i + 1]) : 20;
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
    const phase = async (viewers: number): Promise<void> => {
      await new Promise((r) => setTimeout(r, 3000)); // settle
      const pid = core.proc.pid!;
      const c0 = cpuSecondsOf(pid);
      const w0 = Date.now();
      const delays: number[] = [];
      while (Date.now() - w0 < seconds * 1000) {
        const d = Number(await video.getAttribute('data-delay-ms'));
        if (Number.isFinite(d) && d > 0) delays.push(d);
        await new Promise((r) => setTimeout(r, 100));
      }
      const cpu = ((cpuSecondsOf(pid) - c0) / ((Date.now() - w0) / 1000)) * 100;
      console.log(
        JSON.stringify({
          viewers,
          samples: delays.length,
          delayP50Ms: pct(delays, 50),
          delayP95Ms: pct(delays, 95),
          coreCpuPct: Math.round(cpu * 10) / 10,
        }),
      );
      results.push({ viewers, cpu });
    };
    const results: Array<{ viewers: number; cpu: number }> = [];
    await phase(1);
    const wsUrl = `${core.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/cameras/${cam.id}/live`;
    for (let n = 0; n < 15; n++) {
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${core.token}` } });
      ws.on('message', () => undefined);
      extra.push(ws);
    }
    await phase(16);
    const [a, b] = results;
    if (a && b)
      console.log(
        JSON.stringify({
          coreCpuPerViewerPct: Math.round(((b.cpu - a.cpu) / 15) * 100) / 100,
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
