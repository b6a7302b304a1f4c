// `npm run bench -- fight [seconds]`: what the default fight rule (the trained clip classifier)
// costs per analysed frame. Decodes vtest.avi (shared assets) at 5 fps like `sentinel analyze`,
// then times, in the same process over the same frames, the baseline (BGR -> grey, which the
// pipeline does for every frame already) and the rule's evaluate (downsample, one frame
// difference and block search, the window's features, the logistic score). Five rounds; prints
// per-frame medians and the ratio. Figures: docs/performance.md.
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { toGrey } from '../analytics/pipeline/pipeline';
import { VideoSource } from '../analytics/pipeline/source';
import { ClipFightRule } from '../analytics/rules/fight-clip';
import { discoverAssetsDir } from '../core/config';

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;

export async function run(args: string[]): Promise<void> {
  const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
  if (!assets) throw new Error('bench fight needs the assets pack (SENTINEL_ASSETS)');
  const src = await VideoSource.open(join(assets, 'media', 'vtest.avi'), { fps: 5, maxSeconds: Number(args[0] ?? 20) });
  const frames: Array<{ t: number; width: number; height: number; bgr: Uint8Array }> = [];
  for await (const f of src.frames()) frames.push({ t: f.t, width: f.width, height: f.height, bgr: new Uint8Array(f.data) });
  const greys = frames.map((f) => toGrey(f.bgr, f.width, f.height));
  const base: number[] = [];
  const rule: number[] = [];
  for (let round = 0; round < 5; round++) {
    let t0 = performance.now();
    for (const f of frames) toGrey(f.bgr, f.width, f.height);
    base.push((performance.now() - t0) / frames.length);
    const r = new ClipFightRule({ id: 'scene', kind: 'watch' });
    t0 = performance.now();
    frames.forEach((f, i) =>
      r.evaluate({
        t: f.t,
        width: f.width,
        height: f.height,
        tracks: [],
        inZone: new Map(),
        grey: greys[i]!,
        prevGrey: null,
        speedKmh: null,
        objects: [],
      }),
    );
    rule.push((performance.now() - t0) / frames.length);
  }
  const b = median(base);
  const s = median(rule);
  process.stdout.write(
    `${frames.length} frames ${frames[0]?.width}x${frames[0]?.height}: grey conversion ${b.toFixed(3)} ms/frame, fight classifier rule ${s.toFixed(3)} ms/frame (median of 5 rounds), ratio ${(s / b).toFixed(2)}\n`,
  );
}
