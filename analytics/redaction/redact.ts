import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import sharp from 'sharp';
import type { DetectionFrame } from '../../contract/review';
import { parseFfmpegBanner, type MediaInfo } from '../ingest/ffmpeg-binary';
import { blockFor, boxToPixels, pixelate, rasterisePolygons, type Polygon, type PixelRect } from './pixelate';

/**
 * `people`: every detected person is pixelated except the subjects; `all-but-subjects`: the
 * whole picture is, except the subjects (for when a missed detection must not leak anyone).
 */
export type RedactionMode = 'people' | 'all-but-subjects';

export interface RedactionPlan {
  /** Stored detections of the camera over the footage, sorted by capture time. */
  frames: readonly DetectionFrame[];
  /** Track ids the reviewer marked as the incident's subjects: left visible. */
  subjects: ReadonlySet<number>;
  mode: RedactionMode;
  /** The camera's privacy masks (normalised polygons): always pixelated, over subjects too. */
  masks: readonly Polygon[];
  /**
   * Detections are stored per analysed frame (about 5 a second) while video runs at the
   * camera's rate: a video frame takes the union of the boxes stored within this many ms of
   * it, so a walking person stays covered between two analysed frames.
   */
  windowMs?: number;
  /** Growth of each box on every side, as a share of its size (detector boxes are tight). */
  margin?: number;
}

export interface RedactionReport {
  frames: number;
  width: number;
  height: number;
  fps: number;
  /** Person boxes pixelated, summed over frames. */
  boxes: number;
  /** Frames with no stored detection within the window (nothing but the masks was hidden there). */
  framesWithoutDetections: number;
}

const MASK_BLOCK = 16;
/** Share of a grown person box, from its top, that is the head. */
const HEAD_SHARE = 0.35;

function lowerBound(frames: readonly DetectionFrame[], t: number): number {
  let lo = 0;
  let hi = frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Redacts frames of one size in place, by capture time. */
export class FrameRedactor {
  private readonly maskRaster: { mask: Uint8Array; rect: PixelRect } | null;
  private readonly windowMs: number;
  private readonly margin: number;
  private readonly keep: Uint8Array | null;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly plan: RedactionPlan,
  ) {
    this.maskRaster = rasterisePolygons(plan.masks, width, height);
    this.windowMs = plan.windowMs ?? 400;
    this.margin = plan.margin ?? 0.12;
    this.keep = plan.mode === 'all-but-subjects' ? new Uint8Array(width * height) : null;
  }

  /** The boxes stored near `t`: those to hide and the subjects' (to keep). */
  boxesAt(t: number): { hide: PixelRect[]; keep: PixelRect[]; found: boolean } {
    const { frames, subjects } = this.plan;
    const hide: PixelRect[] = [];
    const keep: PixelRect[] = [];
    let found = false;
    for (let i = lowerBound(frames, t - this.windowMs); i < frames.length && frames[i]!.t <= t + this.windowMs; i++) {
      found = true;
      for (const tr of frames[i]!.tracks) {
        const rect = boxToPixels(tr.box, this.width, this.height, this.margin);
        (subjects.has(tr.id) ? keep : hide).push(rect);
      }
    }
    return { hide, keep, found };
  }

  /** Pixelates `rgb` (packed RGB, this redactor's size) as captured at `t` ms; returns what was hidden. */
  redact(rgb: Uint8Array, t: number): { boxes: number; found: boolean } {
    const { hide, keep, found } = this.boxesAt(t);
    const { width, height } = this;
    if (this.keep) {
      // Everything but the subjects: one mask that is 1 outside the subjects' boxes.
      this.keep.fill(1);
      for (const r of keep) for (let y = r.y1; y < r.y2; y++) this.keep.fill(0, y * width + r.x1, y * width + r.x2);
      pixelate(rgb, width, height, { x1: 0, y1: 0, x2: width, y2: height }, MASK_BLOCK, this.keep);
    }
    // People who are not subjects are hidden even where they overlap a subject: privacy first.
    // The body keeps a coarse shape (about four cells across); the head, the top third of the
    // grown box, becomes one flat cell as wide as the box, so no face survives at any size.
    for (const r of hide) {
      pixelate(rgb, width, height, r, blockFor(r));
      const head = { ...r, y2: Math.min(r.y2, r.y1 + Math.ceil((r.y2 - r.y1) * HEAD_SHARE)) };
      pixelate(rgb, width, height, head, Math.max(head.x2 - head.x1, head.y2 - head.y1));
    }
    if (this.maskRaster) pixelate(rgb, width, height, this.maskRaster.rect, MASK_BLOCK, this.maskRaster.mask);
    return { boxes: hide.length, found };
  }
}

/** A media file's size, rate and codec from `ffmpeg -i` (works with the bundled ffmpeg, which has no ffprobe). */
export function mediaInfo(ffmpeg: string, path: string): Promise<MediaInfo> {
  return new Promise((resolve, reject) => {
    const p = spawn(ffmpeg, ['-hide_banner', '-i', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    p.on('error', (e) => reject(new Error(`cannot run ffmpeg: ${e.message}`)));
    p.on('exit', () => resolve(parseFfmpegBanner(err)));
  });
}

export interface RedactVideoOptions {
  ffmpeg: string;
  input: string;
  output: string;
  /** Capture time (ms since the epoch) of the video's first frame: how the reviewer's overlay lines detections up too. */
  startMs: number;
  plan: RedactionPlan;
  onProgress?: (frames: number) => void;
}

/**
 * Writes a redacted H.264 copy of a video: ffmpeg decodes to raw RGB at the file's own rate,
 * each frame is pixelated by capture time, and a second ffmpeg encodes it (the only place
 * Sentinel re-encodes footage: a public copy cannot be a stream copy). Backpressure is
 * end to end: the decoder is paused while the encoder's pipe is full.
 */
export async function redactVideo(opts: RedactVideoOptions): Promise<RedactionReport> {
  const info = await mediaInfo(opts.ffmpeg, opts.input);
  if (!info.width || !info.height) throw new Error(`${opts.input} has no video stream ffmpeg can read`);
  const width = info.width;
  const height = info.height;
  const fps = info.fps && info.fps > 0 && info.fps <= 120 ? info.fps : 25;
  const redactor = new FrameRedactor(width, height, opts.plan);
  const frameBytes = width * height * 3;
  const report: RedactionReport = { frames: 0, width, height, fps, boxes: 0, framesWithoutDetections: 0 };

  const dec = spawn(
    opts.ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      opts.input,
      '-map',
      '0:v:0',
      '-an',
      '-r',
      String(fps),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const enc = spawn(
    opts.ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      '-r',
      String(fps),
      '-i',
      '-',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '20',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      opts.output,
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let decErr = '';
  let encErr = '';
  dec.stderr.setEncoding('utf8').on('data', (s: string) => (decErr = (decErr + s).slice(-2000)));
  enc.stderr.setEncoding('utf8').on('data', (s: string) => (encErr = (encErr + s).slice(-2000)));
  // An EPIPE on the encoder's stdin surfaces as its exit code below.
  enc.stdin.on('error', () => undefined);

  const frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  const exited = (p: typeof dec | typeof enc): Promise<number> =>
    new Promise((resolve, reject) => {
      p.on('error', (e) => reject(new Error(`cannot run ffmpeg: ${e.message}`)));
      p.on('exit', (code) => resolve(code ?? 1));
    });
  const decDone = exited(dec);
  const encDone = exited(enc);

  dec.stdout.on('data', (chunk: Buffer) => {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(frameBytes - filled, chunk.length - off);
      chunk.copy(frame, filled, off, off + n);
      filled += n;
      off += n;
      if (filled < frameBytes) break;
      filled = 0;
      const t = opts.startMs + (report.frames * 1000) / fps;
      const r = redactor.redact(frame, t);
      report.frames++;
      report.boxes += r.boxes;
      if (!r.found) report.framesWithoutDetections++;
      // write() copies nothing: hand the encoder its own buffer, the next frame reuses ours.
      if (!enc.stdin.write(Buffer.from(frame))) {
        dec.stdout.pause();
        enc.stdin.once('drain', () => dec.stdout.resume());
      }
      opts.onProgress?.(report.frames);
    }
  });
  dec.stdout.on('end', () => enc.stdin.end());

  const [decCode, encCode] = await Promise.all([decDone, encDone]);
  if (decCode !== 0 || encCode !== 0 || report.frames === 0) {
    rmSync(opts.output, { force: true });
    const why =
      decCode !== 0
        ? `decoding ${opts.input} failed: ${decErr.trim().split('\n').at(-1) ?? decCode}`
        : encCode !== 0
          ? `encoding the redacted copy failed: ${encErr.trim().split('\n').at(-1) ?? encCode}`
          : `${opts.input} has no frame`;
    throw new Error(why);
  }
  return report;
}

/** Pixelates privacy masks in a JPEG (a live snapshot), returning a new JPEG. */
export function maskJpeg(jpeg: Buffer, masks: readonly Polygon[]): Promise<Buffer> {
  return redactJpeg(jpeg, 0, { frames: [], subjects: new Set(), mode: 'people', masks });
}

/** Redacts a JPEG (a snapshot) taken at `t`, returning a new JPEG. */
export async function redactJpeg(jpeg: Buffer, t: number, plan: RedactionPlan): Promise<Buffer> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  new FrameRedactor(info.width, info.height, plan).redact(data, t);
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}
