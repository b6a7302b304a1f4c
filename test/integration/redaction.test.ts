import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionFrame } from '../../contract/review';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { boxToPixels, type PixelRect } from '../../analytics/redaction/pixelate';
import { FrameRedactor, redactVideo } from '../../analytics/redaction/redact';
import { discoverAssetsDir } from '../../core/config';
import { runSentinel } from '../support/serve';

/**
 * The public copy's redaction on real footage: vtest.avi (pedestrians, 768x576), people
 * found by the real YOLOX-nano through `sentinel analyze`, pixelated by redactVideo with
 * real ffmpeg, then both videos decoded and compared box by box.
 */
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const VTEST = assets ? join(assets, 'media', 'vtest.avi') : '';
const yolox = (() => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get('yolox-nano');
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
})();
const ready = yolox && existsSync(VTEST);
const SKIP = ready ? '' : ' [skipped: the assets pack (media/vtest.avi and models/yolox_nano.onnx) is absent]';

const W = 768;
const H = 576;
const START_MS = Date.parse('2026-11-30T08:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'sentinel-redact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Decodes a video to packed RGB frames at its own rate. */
function decode(file: string): Buffer[] {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  expect(r.status, r.stderr?.toString()).toBe(0);
  const out: Buffer[] = [];
  for (let off = 0; off + W * H * 3 <= r.stdout.length; off += W * H * 3) out.push(r.stdout.subarray(off, off + W * H * 3));
  return out;
}

/** Luma variance inside a rectangle. */
function variance(rgb: Buffer, r: PixelRect): number {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = r.y1; y < r.y2; y++)
    for (let x = r.x1; x < r.x2; x++) {
      const p = (y * W + x) * 3;
      const v = 0.299 * rgb[p]! + 0.587 * rgb[p + 1]! + 0.114 * rgb[p + 2]!;
      sum += v;
      sq += v * v;
      n++;
    }
  const m = sum / n;
  return sq / n - m * m;
}

describe.skipIf(!ready)(`public-copy redaction on real footage${SKIP}`, () => {
  const clip = join(dir, 'clip.mp4');
  const out = join(dir, 'public.mp4');
  let frames: DetectionFrame[] = [];
  const subject = { id: -1 };

  beforeAll(async () => {
    // Four seconds of vtest as the recorder would hold it: H.264 in MP4.
    const cut = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', VTEST, '-t', '4', '-c:v', 'libx264', '-preset', 'veryfast', '-an', clip]);
    expect(cut.status, cut.stderr?.toString()).toBe(0);
    const zones = join(dir, 'zones.json');
    writeFileSync(zones, JSON.stringify({ zones: [{ id: 'all', kind: 'watch' }] }));
    const r = await runSentinel(['analyze', '--video', clip, '--zones', zones, '--json', '--fps', '10', '--no-gate'], {
      env: { SENTINEL_ASSETS: assets ?? '' },
      timeoutMs: 180_000,
    });
    expect(r.code, r.stderr).toBe(0);
    frames = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; t: number; tracks: { id: number; box: [number, number, number, number] }[] })
      .filter((l) => l.type === 'frame')
      .map((l) => ({ t: START_MS + Math.round(l.t * 1000), tracks: l.tracks.map((t) => ({ ...t, score: 1, zones: [] })) }));
    // The subject: the track seen in most frames, with a box big enough to measure.
    const seen = new Map<number, number>();
    for (const f of frames) for (const t of f.tracks) seen.set(t.id, (seen.get(t.id) ?? 0) + 1);
    subject.id = [...seen.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? -1;
  }, 240_000);

  it('pixelates every detected person but the subject, and leaves the rest of the picture alone', async () => {
    expect(frames.length).toBeGreaterThan(20);
    expect(subject.id).toBeGreaterThanOrEqual(0);
    const report = await redactVideo({
      ffmpeg: 'ffmpeg',
      input: clip,
      output: out,
      startMs: START_MS,
      plan: { frames, subjects: new Set([subject.id]), mode: 'people', masks: [] },
    });
    expect(report).toMatchObject({ width: W, height: H, fps: 10 });
    expect(report.boxes).toBeGreaterThan(50);
    expect(report.framesWithoutDetections).toBe(0);

    const hidden = new FrameRedactor(W, H, { frames, subjects: new Set([subject.id]), mode: 'people', masks: [] });
    const orig = decode(clip);
    const red = decode(out);
    expect(red.length).toBe(orig.length);
    const ratios: number[] = [];
    const subjectRatios: number[] = [];
    const backgroundRatios: number[] = [];
    for (const f of frames) {
      const i = Math.round(((f.t - START_MS) / 1000) * 10);
      if (i >= orig.length) continue;
      for (const t of f.tracks) {
        // The head: the top quarter of the box, where a face would be.
        const b = boxToPixels(t.box, W, H, 0);
        const head = { x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y1 + Math.max(4, Math.round((b.y2 - b.y1) / 4)) };
        const v0 = variance(orig[i]!, head);
        if (v0 < 50) continue; // a flat patch says nothing either way
        // Anyone else's box near this frame (grown, as the redactor grows it) that covers the head.
        const overlapsOther = hidden
          .boxesAt(f.t)
          .hide.some((o) => !(o.x2 <= head.x1 || o.x1 >= head.x2 || o.y2 <= head.y1 || o.y1 >= head.y2));
        if (t.id === subject.id) {
          if (!overlapsOther) subjectRatios.push(variance(red[i]!, head) / v0);
        } else {
          ratios.push(variance(red[i]!, head) / v0);
        }
      }
      // A strip along the top of the frame that no box reaches: re-encoding only.
      const strip = { x1: 0, y1: 0, x2: W, y2: 8 };
      if (!f.tracks.some((t) => boxToPixels(t.box, W, H, 0.2).y1 < 8))
        backgroundRatios.push(variance(red[i]!, strip) / Math.max(1, variance(orig[i]!, strip)));
    }
    expect(ratios.length).toBeGreaterThan(30);
    // Every detected head is flattened: measured 0.001 of its variance at the median, 0.12
    // at worst (a head at a box edge shares its cell with background).
    const sorted = [...ratios].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]!).toBeLessThan(0.05);
    expect(sorted.at(-1)!).toBeLessThan(0.25);
    // The subject and the background keep theirs (H.264 at CRF 20 smooths a little).
    expect(subjectRatios.length).toBeGreaterThan(5);
    expect(Math.min(...subjectRatios)).toBeGreaterThan(0.8);
    expect(Math.min(...backgroundRatios)).toBeGreaterThan(0.8);
  }, 240_000);
});
