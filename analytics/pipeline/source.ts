import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { z } from 'zod';
import { describeFfmpegError } from '../ingest/ffmpeg-errors';
import { probeStream } from '../ingest/probe';
import { spawnTied } from '../ingest/process';
import { findOnPath, parseFfmpegBanner, rtspTimeoutArgs } from '../ingest/ffmpeg-binary';

/** One decoded analysis frame of an offline source. */
export interface SourceFrame {
  index: number;
  /** Video time since the first frame, ms (files and RTSP: the stream's clock, not the read time). */
  t: number;
  width: number;
  height: number;
  /** BGR24, width * height * 3 bytes; a fresh buffer each frame (it may be transferred). */
  data: ArrayBuffer;
}

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

export interface SourceInfo {
  width: number;
  height: number;
  /** Output size after fitting into maxWidth x maxHeight. */
  outWidth: number;
  outHeight: number;
  /** Duration the container declares (files), seconds; null for live streams or unknown. */
  durationS: number | null;
  live: boolean;
}

const FfprobeOut = z.object({
  streams: z.array(z.object({ width: z.number().optional(), height: z.number().optional() })).default([]),
  format: z.object({ duration: z.string().optional() }).optional(),
});

/** Fits a size inside a box keeping the aspect ratio, with even sides (what the detector gets live, too). */
export function fitSize(w: number, h: number, maxW: number, maxH: number): { width: number; height: number } {
  const s = Math.min(1, maxW / w, maxH / h);
  const even = (v: number): number => Math.max(2, Math.floor((v * s) / 2) * 2);
  return { width: even(w), height: even(h) };
}

/** Size and duration from `ffmpeg -i FILE` where there is no ffprobe (the npm-bundled ffmpeg has none). */
async function probeFileWithFfmpeg(file: string, ffmpegPath: string): Promise<{ width: number; height: number; durationS: number | null }> {
  const err = await new Promise<string>((resolve, reject) => {
    const p = spawn(ffmpegPath, ['-hide_banner', '-i', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let e = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => (e = (e + s).slice(-8000)));
    p.on('error', (x) => reject(new SourceError(`cannot run ffmpeg (${x.message}); install ffmpeg`)));
    p.on('exit', () => resolve(e));
  });
  if (!/Input #0/.test(err)) throw new SourceError(`${file}: not a readable video (${describeFfmpegError(err, 'ffmpeg failed')})`);
  const info = parseFfmpegBanner(err);
  if (!info.width || !info.height) throw new SourceError(`${file}: has no video track`);
  return { width: info.width, height: info.height, durationS: info.durationS && info.durationS > 0 ? info.durationS : null };
}

async function probeFile(
  file: string,
  ffprobePath: string,
  ffmpegPath: string,
): Promise<{ width: number; height: number; durationS: number | null }> {
  const ffprobe = findOnPath(ffprobePath);
  if (!ffprobe) return probeFileWithFfmpeg(file, ffmpegPath);
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:format=duration', '-of', 'json', file];
  const { code, out, err } = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const p = spawn(ffprobe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    let e = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (o += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (e = (e + s).slice(-4000)));
    p.on('error', (x) => reject(new SourceError(`cannot run ffprobe (${x.message}); install ffmpeg`)));
    p.on('exit', (c) => resolve({ code: c, out: o, err: e }));
  });
  if (code !== 0) throw new SourceError(`${file}: not a readable video (${describeFfmpegError(err, 'ffprobe failed')})`);
  const parsed = FfprobeOut.safeParse(JSON.parse(out || '{}'));
  const s = parsed.success ? parsed.data.streams[0] : undefined;
  if (!s?.width || !s.height) throw new SourceError(`${file}: has no video track`);
  const d = Number(parsed.success ? parsed.data.format?.duration : undefined);
  return { width: s.width, height: s.height, durationS: Number.isFinite(d) && d > 0 ? d : null };
}

export interface OpenSourceOptions {
  fps: number;
  maxWidth?: number;
  maxHeight?: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Stop after this many seconds of video (RTSP runs until stopped otherwise). */
  maxSeconds?: number;
}

/**
 * Decodes a video file or an RTSP stream to BGR24 analysis frames at `fps`, scaled like the
 * live ingest path (fit inside 416x416), so `sentinel analyze` sees what a camera would.
 */
export class VideoSource {
  private constructor(
    readonly input: string,
    readonly info: SourceInfo,
    private readonly opts: Required<Omit<OpenSourceOptions, 'maxSeconds'>> & { maxSeconds?: number },
  ) {}

  static async open(input: string, opts: OpenSourceOptions): Promise<VideoSource> {
    const o = { maxWidth: 416, maxHeight: 416, ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', ...opts };
    const live = /^rtsps?:\/\//i.test(input);
    let w: number;
    let h: number;
    let durationS: number | null = null;
    if (live) {
      try {
        const s = await probeStream(input, { ffprobePath: o.ffprobePath, ffmpegPath: o.ffmpegPath });
        w = s.width;
        h = s.height;
      } catch (err) {
        throw new SourceError(`${maskUrl(input)}: ${(err as Error).message}`);
      }
    } else {
      if (!existsSync(input)) throw new SourceError(`video file ${input} does not exist`);
      if (!statSync(input).isFile()) throw new SourceError(`${input} is not a file`);
      ({ width: w, height: h, durationS } = await probeFile(input, o.ffprobePath, o.ffmpegPath));
    }
    const out = fitSize(w, h, o.maxWidth, o.maxHeight);
    return new VideoSource(input, { width: w, height: h, outWidth: out.width, outHeight: out.height, durationS, live }, o);
  }

  /**
   * Frames in order. Ends normally at the end of the video; throws SourceError when ffmpeg
   * fails or a file stops well before the duration it declares (a truncated or damaged
   * file), after yielding every frame it could decode.
   */
  async *frames(): AsyncGenerator<SourceFrame> {
    const { outWidth: w, outHeight: h, live } = this.info;
    const args = ['-hide_banner', '-nostats', '-loglevel', 'error'];
    if (live) args.push('-rtsp_transport', 'tcp', ...rtspTimeoutArgs(this.opts.ffmpegPath, 5_000_000));
    args.push('-i', this.input);
    if (this.opts.maxSeconds !== undefined) args.push('-t', String(this.opts.maxSeconds));
    args.push(
      '-an',
      '-sn',
      '-dn',
      '-map',
      '0:v:0',
      '-vf',
      `fps=${this.opts.fps},scale=${w}:${h}`,
      '-pix_fmt',
      'bgr24',
      '-f',
      'rawvideo',
      'pipe:1',
    );
    const child = spawnTied(this.opts.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-8000)));
    const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.on('error', (error) => resolve({ code: null, error }));
      child.on('exit', (code) => resolve({ code }));
    });
    const size = w * h * 3;
    let index = 0;
    let cur: Uint8Array | null = null;
    let curLen = 0;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        // Pipe chunks are copied once, straight into the frame they belong to. Each frame gets a
        // fresh buffer: consumers keep frames (clip sets) or transfer them to a worker.
        let off = 0;
        while (off < chunk.length) {
          cur ??= new Uint8Array(new ArrayBuffer(size));
          const n = Math.min(size - curLen, chunk.length - off);
          cur.set(chunk.subarray(off, off + n), curLen);
          curLen += n;
          off += n;
          if (curLen < size) continue;
          const frame = cur.buffer as ArrayBuffer;
          cur = null;
          curLen = 0;
          // The stream's clock, for files and RTSP alike: the fps filter re-times the stream to
          // exactly `fps` and the rawvideo output writes every frame (constant rate), so frame
          // `index` is at index / fps of video time, however fast or late the pipe is read.
          const t = Math.round((index * 1000) / this.opts.fps);
          yield { index, t, width: w, height: h, data: frame };
          index++;
        }
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const { code, error } = await exited;
    if (error) throw new SourceError(`cannot run ffmpeg (${error.message}); install ffmpeg`);
    const decodedS = index / this.opts.fps;
    const where = live ? maskUrl(this.input) : this.input;
    if (code !== 0 && code !== null) {
      throw new SourceError(
        `${where}: video ended early after ${decodedS.toFixed(1)} s (${index} frames): ${describeFfmpegError(stderr, `ffmpeg exited with code ${code}`)}`,
      );
    }
    const expected =
      this.opts.maxSeconds !== undefined && this.info.durationS !== null
        ? Math.min(this.opts.maxSeconds, this.info.durationS)
        : this.info.durationS;
    // A damaged file often decodes "successfully" up to the damage: compare with what it declares.
    if (!live && expected !== null && decodedS + Math.max(1, 2 / this.opts.fps) < expected) {
      const why = stderr.trim() ? `: ${describeFfmpegError(stderr, 'decoding stopped')}` : '';
      throw new SourceError(
        `${where}: video ended early at ${decodedS.toFixed(1)} s of the ${expected.toFixed(1)} s it declares (truncated or damaged file)${why}`,
      );
    }
    if (index === 0) throw new SourceError(`${where}: no frame could be decoded`);
  }
}

/** Hides the password of an RTSP URL for messages. */
export function maskUrl(url: string): string {
  return url.replace(/^(rtsps?:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
