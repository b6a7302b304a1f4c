import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/logger';
import type { SegmentRow } from './recorder';

export class ClipError extends Error {
  constructor(
    message: string,
    readonly code: 'not_found' | 'bad_request' | 'unavailable' | 'internal',
  ) {
    super(message);
    this.name = 'ClipError';
  }
}

export interface ClipOptions {
  preRollMs: number;
  postRollMs: number;
  /** How long to wait for the post-roll to be recorded before cutting what exists. */
  waitForMs?: number;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

function run(ffmpeg: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-2000)));
    p.on('error', (e) => reject(new ClipError(`cannot run ffmpeg: ${e.message}`, 'internal')));
    p.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new ClipError(`ffmpeg failed cutting the clip: ${err.trim().split('\n').at(-1) ?? code}`, 'internal')),
    );
  });
}

/** A file's duration from `ffmpeg -i` (its "Duration: HH:MM:SS.cc" line): for machines with ffmpeg but no ffprobe. */
export function ffmpegDuration(ffmpeg: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(ffmpeg, ['-hide_banner', '-i', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    p.on('error', () => resolve(0));
    p.on('exit', () => {
      const m = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(err);
      resolve(m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : 0);
    });
  });
}

function probeDuration(ffprobe: string | null, ffmpeg: string, path: string): Promise<number> {
  if (!ffprobe) return ffmpegDuration(ffmpeg, path);
  return new Promise((resolve) => {
    const p = spawn(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', path], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    let done = false;
    const finish = (viaFfmpeg: boolean): void => {
      if (done) return;
      done = true;
      if (viaFfmpeg) void ffmpegDuration(ffmpeg, path).then(resolve);
      else resolve(Number(out.trim()) || 0);
    };
    // No ffprobe after all (the bundled ffmpeg comes without one): ask ffmpeg.
    p.on('error', () => finish(true));
    p.on('exit', (code) => finish(code !== 0 || out.trim() === ''));
  });
}

/** The segments index, as the cutter reads it (the core's segment repository). */
export interface SegmentSource {
  /** Segments of a camera overlapping [fromMs, toMs], oldest first. */
  overlapping(cameraId: string, fromMs: number, toMs: number): Promise<SegmentRow[]>;
}

/** A clip as cut: its files, span and hashes, for the caller to store. */
export interface CutClip {
  id: string;
  cameraId: string;
  path: string;
  snapshotPath: string | null;
  startMs: number;
  endMs: number;
  durationS: number;
  bytes: number;
  sha256: string;
  snapshotSha256: string | null;
}

/**
 * Cuts clips from the recorded segments: the segments overlapping [from - preRoll,
 * to + postRoll] are joined with ffmpeg's concat demuxer (inpoint/outpoint on the first and
 * last) and copied (`-c copy`, the camera's own bits: what evidence wants), so the clip
 * starts on the keyframe at or before the requested start. A JPEG snapshot from the middle
 * goes with it, and both files' SHA-256 are returned for the caller to store with the clip.
 */
export class ClipCutter {
  constructor(
    private readonly segments: SegmentSource,
    private readonly dir: string,
    private readonly log: Logger,
    private readonly ffmpeg = 'ffmpeg',
    /** null: there is no ffprobe, durations come from ffmpeg. */
    private readonly ffprobe: string | null = 'ffprobe',
  ) {}

  async cut(cameraId: string, fromMs: number, toMs: number, opts: ClipOptions): Promise<CutClip> {
    if (!(toMs > fromMs)) throw new ClipError('clip "to" must be after "from"', 'bad_request');
    if (toMs - fromMs > 3600_000) throw new ClipError('a clip may be at most one hour long', 'bad_request');
    const start = fromMs - opts.preRollMs;
    const end = toMs + opts.postRollMs;
    // The post-roll may still be in the future: wait (bounded) until it is recorded.
    const waitUntil = Date.now() + (opts.waitForMs ?? 0);
    let segs = await this.segments.overlapping(cameraId, start, end);
    while ((segs.at(-1)?.endMs ?? 0) < end && Date.now() < waitUntil) {
      await new Promise((r) => setTimeout(r, 500));
      segs = await this.segments.overlapping(cameraId, start, end);
    }
    if (segs.length === 0)
      throw new ClipError(
        `no recording of camera ${cameraId} between ${new Date(start).toISOString()} and ${new Date(end).toISOString()}`,
        'not_found',
      );
    const id = randomUUID();
    const camDir = join(this.dir, cameraId);
    const out = join(camDir, `${id}.mp4`);
    const snap = join(camDir, `${id}.jpg`);
    try {
      return await this.cutInto(id, cameraId, camDir, out, snap, segs, start, end);
    } catch (err) {
      // A half-written clip is no evidence and takes the space a retry needs (a full disk).
      rmSync(out, { force: true });
      rmSync(snap, { force: true });
      if (err instanceof ClipError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new ClipError(`cannot write the clip in ${camDir}: ${e.code === 'ENOSPC' ? 'no space left on device' : e.message}`, 'internal');
    }
  }

  private async cutInto(
    id: string,
    cameraId: string,
    camDir: string,
    out: string,
    snap: string,
    segs: SegmentRow[],
    start: number,
    end: number,
  ): Promise<CutClip> {
    const first = segs[0]!;
    const last = segs.at(-1)!;

    mkdirSync(camDir, { recursive: true });
    const listPath = join(camDir, `${id}.txt`);
    const lines = ['ffconcat version 1.0'];
    for (const s of segs) {
      lines.push(`file '${s.path.replace(/'/g, "'\\''")}'`);
      if (s === first && start > s.startMs) lines.push(`inpoint ${((start - s.startMs) / 1000).toFixed(3)}`);
      if (s === last && end < s.endMs) lines.push(`outpoint ${((end - s.startMs) / 1000).toFixed(3)}`);
    }
    writeFileSync(listPath, `${lines.join('\n')}\n`);
    try {
      await run(this.ffmpeg, [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'concat',
        '-safe',
        '0',
        '-i',
        listPath,
        '-map',
        '0:v:0',
        '-c',
        'copy',
        '-movflags',
        '+faststart',
        out,
      ]);
    } finally {
      rmSync(listPath, { force: true });
    }
    const durationS = Math.round((await probeDuration(this.ffprobe, this.ffmpeg, out)) * 1000) / 1000;
    let snapshotOk = true;
    try {
      await run(this.ffmpeg, [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-ss',
        String(Math.max(0, durationS / 2)),
        '-i',
        out,
        '-frames:v',
        '1',
        '-q:v',
        '3',
        snap,
      ]);
    } catch (err) {
      snapshotOk = false;
      this.log.warn({ err, clip: id }, 'clip snapshot failed');
    }
    const [sha, snapSha] = await Promise.all([sha256File(out), snapshotOk ? sha256File(snap) : Promise.resolve(null)]);
    const actualStart = Math.max(first.startMs, start);
    const clip: CutClip = {
      id,
      cameraId,
      path: out,
      snapshotPath: snapshotOk ? snap : null,
      startMs: actualStart,
      endMs: Math.round(actualStart + durationS * 1000),
      durationS,
      bytes: statSync(out).size,
      sha256: sha,
      snapshotSha256: snapSha,
    };
    this.log.info({ clip: id, cameraId, durationS, sha256: sha }, 'clip cut');
    return clip;
  }
}
