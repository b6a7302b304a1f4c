// `npm run bench -- analytics`: what the analytics path costs per frame on top of detection.
// Decodes vtest.avi (shared assets) at 5 fps, runs YOLOX-nano once per frame (the baseline:
// the pool's submit-to-result time, same process, same frames), then replays the stored
// detections through the pipeline (tracker + zones + the three rules, fight heuristic with
// its frame-difference energy) and through the snapshot renderer. Prints per-frame medians and
// the ratio to detection. Figures: docs/performance.md, Analytics.
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { pino } from 'pino';
import { InferencePool, openRegistry, requireModel, type Detection } from '../analytics/inference';
import { AnalyticsPipeline } from '../analytics/pipeline/pipeline';
import { renderSnapshot } from '../analytics/pipeline/snapshot';
import { VideoSource } from '../analytics/pipeline/source';
import type { Zone } from '../contract/zones';
import { discoverAssetsDir } from '../core/config';
import { WORKER_FLOOR_PATCH } from '../core/analytics/demo-zones';

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

export async function run(args: string[]): Promise<void> {
  const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
  if (!assets) throw new Error('bench analytics needs the assets pack (SENTINEL_ASSETS)');
  const seconds = Number(args[0] ?? 40);
  const { manifest, path } = requireModel(openRegistry({ assetsDir: assets }), 'yolox-nano');
  const pool = await InferencePool.start({
    manifest,
    modelPath: path,
    workers: 1,
    intraOpThreads: 2,
    maxFrameAgeMs: 60_000,
    log: pino({ level: 'silent' }),
  });
  const src = await VideoSource.open(join(assets, 'media', 'vtest.avi'), { fps: 5, maxSeconds: seconds });
  const frames: Array<{ t: number; width: number; height: number; bgr: Uint8Array; dets: Detection[] }> = [];
  const detectMs: number[] = [];
  for await (const f of src.frames()) {
    const bgr = new Uint8Array(f.data.slice(0));
    const t0 = performance.now();
    const r = await pool.submit({ cameraId: 'bench', width: f.width, height: f.height, data: f.data, ts: f.t }, { scoreThreshold: 0.2 });
    detectMs.push(performance.now() - t0);
    if (r.status === 'ok') frames.push({ t: f.t, width: f.width, height: f.height, bgr, dets: r.detections });
  }
  await pool.close();
  const zones: Zone[] = [
    {
      id: 'walkway',
      kind: 'crowding',
      capacity: 5,
      polygon: [
        [0, 0],
        [1, 0],
        [1, 0.45],
        [0, 0.45],
      ],
    },
    {
      id: 'cab',
      kind: 'operator',
      polygon: WORKER_FLOOR_PATCH,
    },
    { id: 'all', kind: 'watch' },
  ];
  const pipeMs: number[] = [];
  const snapMs: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const p = new AnalyticsPipeline(zones);
    for (const f of frames) {
      const t0 = performance.now();
      const out = p.process({ t: f.t, width: f.width, height: f.height, bgr: f.bgr, detections: f.dets });
      pipeMs.push(performance.now() - t0);
      if (rep === 0 && f.t % 2000 === 0) {
        const s0 = performance.now();
        await renderSnapshot(f.bgr, f.width, f.height, out.tracks, [], zones[0]!);
        snapMs.push(performance.now() - s0);
      }
    }
  }
  const d = median(detectMs);
  const pm = median(pipeMs);
  const sm = median(snapMs);
  console.log(`frames ${frames.length} (${seconds} s of vtest.avi at 5 fps, 416x312)`);
  console.log(`detection (baseline, YOLOX-nano, 1 worker x 2 threads): median ${d.toFixed(2)} ms/frame`);
  console.log(
    `pipeline (tracker + zones + crowding/barrier/fight): median ${pm.toFixed(3)} ms/frame = ${((pm / d) * 100).toFixed(1)} % of detection`,
  );
  console.log(`snapshot JPEG with boxes (only on a raise): median ${sm.toFixed(2)} ms = ${((sm / d) * 100).toFixed(0)} % of one detection`);
}
