// `npm run bench -- reid [seconds]`: what re-ID in the tracker costs. Decodes vtest.avi (shared
// assets) at 5 fps like `sentinel analyze`, finds the people with the person detector, then
// times in the same process the baseline (the detector on a whole frame, as analyze runs it:
// one worker, 2 intra-op threads) and the subject (person-reid-0288 on one person crop: crop,
// worker round trip, stretch to 128x256, inference; one worker, 1 thread, as analyze and the
// core run it). Five rounds; prints medians per frame and per embedding, the ratio, and
// the embeddings per frame re-ID asked for (`sentinel analyze --reid`'s summary) to turn that
// into a cost per frame. Figures: docs/performance.md.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InferencePool, openRegistry, requireModel } from '../analytics/inference';
import { Embedder } from '../analytics/inference/reid';
import { VideoSource } from '../analytics/pipeline/source';
import type { Box } from '../analytics/tracking/tracker';
import { discoverAssetsDir } from '../core/config';
import { createLogger } from '../core/logger';

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;

export async function run(args: string[]): Promise<void> {
  const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
  if (!assets) throw new Error('bench reid needs the assets pack (SENTINEL_ASSETS)');
  const log = createLogger('silent');
  const registry = openRegistry({ assetsDir: assets });
  const det = requireModel(registry, 'yolox-nano');
  const pool = await InferencePool.start({
    manifest: det.manifest,
    modelPath: det.path,
    workers: 1,
    intraOpThreads: 2,
    maxFrameAgeMs: 60_000,
    log,
  });
  const embedder = await Embedder.open(registry, log);
  try {
    const src = await VideoSource.open(join(assets, 'media', 'vtest.avi'), { fps: 5, maxSeconds: Number(args[0] ?? 10) });
    const frames: Array<{ width: number; height: number; bgr: Uint8Array; people: Box[] }> = [];
    for await (const f of src.frames()) frames.push({ width: f.width, height: f.height, bgr: new Uint8Array(f.data), people: [] });
    const detectMs: number[] = [];
    const embedMs: number[] = [];
    let crops = 0;
    for (let round = 0; round < 5; round++) {
      let t0 = performance.now();
      for (const f of frames) {
        const r = await pool.submit({ cameraId: 'bench', width: f.width, height: f.height, data: f.bgr.slice().buffer, ts: 0 });
        if (r.status === 'ok') f.people = r.detections.filter((d) => d.label === 'person' && d.score >= 0.5).map((d) => d.box);
      }
      detectMs.push((performance.now() - t0) / frames.length);
      // One crop per frame (the first person), as many embeddings as frames.
      const jobs = frames.filter((f) => f.people.length > 0);
      crops = jobs.length;
      t0 = performance.now();
      for (const f of jobs) await embedder.embed('bench', f.bgr, f.width, f.height, [f.people[0]!]);
      embedMs.push((performance.now() - t0) / Math.max(1, jobs.length));
    }
    const d = median(detectMs);
    const e = median(embedMs);
    process.stdout.write(
      `${frames.length} frames ${frames[0]?.width}x${frames[0]?.height}, ${crops} person crops: detector ${d.toFixed(2)} ms/frame, re-ID ${e.toFixed(2)} ms/embedding (median of 5 rounds), ratio ${(e / d).toFixed(2)}\n`,
    );
  } finally {
    await pool.close();
    await embedder.close();
  }
}
