import { spawn } from 'node:child_process';
import { z } from 'zod';
import { describeFfmpegError } from './ffmpeg-errors';
import { findOnPath, parseFfmpegBanner, rtspTimeoutArgs } from './ffmpeg-binary';
import { rtspDescribe, type DescribeOutcome } from './rtsp-describe';

export interface StreamInfo {
  codec: string;
  width: number;
  height: number;
  fps: number;
}

export class ProbeError extends Error {
  constructor(
    readonly kind: DescribeOutcome['kind'] | 'no_video' | 'ffprobe_failed',
    message: string,
  ) {
    super(message);
    this.name = 'ProbeError';
  }
}

export interface ProbeOptions {
  username?: string | undefined;
  password?: string | undefined;
  /** Whole-probe budget; the RTSP check gets part of it, ffprobe the rest. */
  timeoutMs?: number;
  ffprobePath?: string;
  /** Used instead of ffprobe when there is none (the npm-bundled ffmpeg ships without one). */
  ffmpegPath?: string;
}

const FfprobeJson = z.object({
  streams: z.array(
    z.object({
      codec_name: z.string().optional(),
      width: z.number().optional(),
      height: z.number().optional(),
      avg_frame_rate: z.string().optional(),
      r_frame_rate: z.string().optional(),
    }),
  ),
});

function rate(r: string | undefined): number {
  const m = /^(\d+)\/(\d+)$/.exec(r ?? '');
  if (!m) return 0;
  const d = Number(m[2]);
  return d ? Number(m[1]) / d : 0;
}

/**
 * What a camera sends: codec, size, frame rate. First a plain RTSP DESCRIBE, which tells a
 * refused connection from an unknown host, a timeout, a 401 and a non-RTSP server in well
 * under the budget; then ffprobe for the stream parameters. Throws ProbeError.
 */
export async function probeStream(url: string, opts: ProbeOptions = {}): Promise<StreamInfo> {
  const budget = opts.timeoutMs ?? 9000;
  const started = Date.now();
  const d = await rtspDescribe(url, { username: opts.username, password: opts.password, timeoutMs: Math.min(4000, budget / 2) });
  if (d.kind !== 'ok') throw new ProbeError(d.kind, d.message);
  const left = Math.max(1000, budget - (Date.now() - started));
  const withCreds = (() => {
    if (!opts.username && !opts.password) return url;
    const u = new URL(url);
    u.username = encodeURIComponent(opts.username ?? '');
    u.password = encodeURIComponent(opts.password ?? '');
    return u.toString();
  })();
  const ffprobe = findOnPath(opts.ffprobePath ?? 'ffprobe');
  if (!ffprobe) return probeWithFfmpeg(opts.ffmpegPath ?? 'ffmpeg', withCreds, left);
  const args = [
    '-v',
    'error',
    '-rtsp_transport',
    'tcp',
    '-timeout',
    String(Math.round(left * 1000)),
    '-analyzeduration',
    '700000',
    '-probesize',
    '1000000',
  ];
  args.push(
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height,avg_frame_rate,r_frame_rate',
    '-of',
    'json',
    withCreds,
  );
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(ffprobe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err += s.slice(-4000)));
    const timer = setTimeout(() => p.kill('SIGKILL'), left);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new ProbeError('ffprobe_failed', `cannot run ffprobe (${e.message}); install ffmpeg`));
    });
    p.on('exit', (c) => {
      clearTimeout(timer);
      resolve({ code: c, stdout: out, stderr: err });
    });
  });
  if (code !== 0)
    throw new ProbeError(
      'ffprobe_failed',
      code === null ? 'timed out reading the stream parameters' : describeFfmpegError(stderr, 'ffprobe failed'),
    );
  const parsed = FfprobeJson.safeParse(JSON.parse(stdout || '{}'));
  const s = parsed.success ? parsed.data.streams[0] : undefined;
  if (!s?.codec_name || !s.width || !s.height) throw new ProbeError('no_video', 'the stream has no video track');
  return {
    codec: s.codec_name,
    width: s.width,
    height: s.height,
    fps: Math.round((rate(s.avg_frame_rate) || rate(s.r_frame_rate)) * 100) / 100,
  };
}

/** The same answer from `ffmpeg -i URL` (no output: it prints the stream banner and exits). */
async function probeWithFfmpeg(ffmpeg: string, url: string, budgetMs: number): Promise<StreamInfo> {
  const args = [
    '-hide_banner',
    '-rtsp_transport',
    'tcp',
    ...rtspTimeoutArgs(ffmpeg, budgetMs * 1000),
    '-analyzeduration',
    '700000',
    '-probesize',
    '1000000',
    '-i',
    url,
  ];
  const stderr = await new Promise<string>((resolve, reject) => {
    const p = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-8000)));
    const timer = setTimeout(() => p.kill('SIGKILL'), budgetMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new ProbeError('ffprobe_failed', `cannot run ffmpeg (${e.message}); install ffmpeg`));
    });
    p.on('exit', () => {
      clearTimeout(timer);
      resolve(err);
    });
  });
  const info = parseFfmpegBanner(stderr);
  if (!/Input #0/.test(stderr)) throw new ProbeError('ffprobe_failed', describeFfmpegError(stderr, 'ffmpeg could not read the stream'));
  if (!info.codec || !info.width || !info.height) throw new ProbeError('no_video', 'the stream has no video track');
  return { codec: info.codec, width: info.width, height: info.height, fps: Math.round((info.fps ?? 0) * 100) / 100 };
}
