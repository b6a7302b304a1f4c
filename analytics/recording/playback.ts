import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../common/logger';
import { describeFfmpegError } from '../ingest/ffmpeg-errors';
import { BoxReader, parseInit, parseMoof, type InitInfo } from '../ingest/fmp4';
import { spawnTied, stopChild } from '../ingest/process';
import type { SegmentRow } from './recorder';

/** What a viewer of a recording receives: the live stream's shape, with recorded wall-clock times. */
export interface PlaybackSink {
  init(data: Buffer, info: InitInfo): void;
  /** One moof+mdat; `recordedAtMs` is when the camera's frame was recorded (wall clock). */
  fragment(data: Buffer, key: boolean, decodeTime: number, recordedAtMs: number): void;
  /** `done`: played to the end of what is recorded; otherwise the reason it stopped. */
  end(reason: string, done: boolean): void;
}

export interface PlaybackOptions {
  cameraId: string;
  /** The camera's segments overlapping [fromMs, now], oldest first. */
  segments: readonly SegmentRow[];
  fromMs: number;
  ffmpegPath?: string | undefined;
  log: Logger;
}

/** Fragments read ahead of the pacing clock before ffmpeg's pipe is paused (~30 s at 10 fps). */
const READ_AHEAD = 300;

/**
 * Plays a camera's rolling recording from a point in time as fMP4, the format live viewers
 * get, so the console's one MSE player plays both. The segments are joined by ffmpeg's concat
 * demuxer and remuxed with `-c copy` into one fragment per frame (no re-encode, no file
 * written: the camera's own bits, straight off the segment files), and this class paces the
 * fragments in real time by their media timestamps. Pacing here rather than with ffmpeg's
 * `-re` lets the keyframe before the requested time go out at once, so the picture starts at
 * the requested moment instead of up to a GOP earlier, and gives exact recorded times: each
 * segment's wall-clock span is in the index, and the output timeline is the segments' media
 * durations end to end.
 */
export class RecordingPlayback {
  private child: ChildProcess | null = null;
  private listDir: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly opts: PlaybackOptions) {}

  /** Throws when nothing is recorded at or after `fromMs`. */
  start(sink: PlaybackSink): void {
    const segs = this.opts.segments.filter((s) => s.endMs > this.opts.fromMs);
    if (segs.length === 0) throw new Error(`nothing is recorded at or after ${new Date(this.opts.fromMs).toISOString()}`);
    // Where each segment begins on the joined output's timeline (ms).
    const offsets: number[] = [];
    let acc = 0;
    for (const s of segs) {
      offsets.push(acc);
      acc += s.endMs - s.startMs;
    }
    const recordedAt = (tMs: number): number => {
      let k = 0;
      while (k + 1 < segs.length && offsets[k + 1]! <= tMs) k++;
      return segs[k]!.startMs + (tMs - offsets[k]!);
    };

    this.listDir = mkdtempSync(join(tmpdir(), 'sentinel-playback-'));
    const list = join(this.listDir, 'list.ffconcat');
    writeFileSync(list, `ffconcat version 1.0\n${segs.map((s) => `file '${s.path.replace(/'/g, "'\\''")}'`).join('\n')}\n`);
    const child = spawnTied(
      this.opts.ffmpegPath ?? 'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-loglevel',
        'error',
        '-f',
        'concat',
        '-safe',
        '0',
        '-i',
        list,
        '-map',
        '0:v:0',
        '-c',
        'copy',
        '-f',
        'mp4',
        '-movflags',
        'empty_moov+default_base_moof+frag_every_frame',
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;

    const reader = new BoxReader();
    let head: Buffer[] = [];
    let info: InitInfo | null = null;
    let moof: { data: Buffer; key: boolean; t: number } | null = null;
    let firstDecode: number | null = null;
    /** Fragments from the last keyframe before `fromMs`: sent at once when `fromMs` is reached. */
    let preroll: Array<{ data: Buffer; key: boolean; t: number; at: number; tMs: number }> = [];
    const queue: Array<{ data: Buffer; key: boolean; t: number; at: number; tMs: number }> = [];
    let clock: { wall: number; tMs: number } | null = null;
    let ffmpegDone = false;
    let stderr = '';
    let failure: string | null = null;

    const finish = (reason: string, done: boolean): void => {
      if (this.stopped) return;
      this.stopped = true;
      this.cleanup();
      sink.end(reason, done);
    };

    const pump = (): void => {
      this.timer = null;
      if (this.stopped) return;
      const now = Date.now();
      while (queue.length && clock) {
        const f = queue[0]!;
        const due = clock.wall + (f.tMs - clock.tMs);
        if (due > now) break;
        queue.shift();
        sink.fragment(f.data, f.key, f.t, f.at);
      }
      if (queue.length < READ_AHEAD / 2 && child.stdout?.isPaused()) child.stdout.resume();
      if (queue.length === 0 && ffmpegDone) return finish(failure ?? 'end of the recording', failure === null);
      if (queue.length && clock) this.timer = setTimeout(pump, Math.max(0, clock.wall + (queue[0]!.tMs - clock.tMs) - Date.now()));
    };

    child.stdout?.on('data', (chunk: Buffer) => {
      let boxes;
      try {
        boxes = reader.push(chunk);
      } catch (err) {
        failure = `the recording is not valid MP4 after remuxing: ${(err as Error).message}`;
        child.kill('SIGKILL');
        return;
      }
      for (const box of boxes) {
        if (box.type === 'ftyp') head = [box.data];
        else if (box.type === 'moov') {
          const data = Buffer.concat([...head, box.data]);
          info = parseInit(data);
          if (!info) {
            failure = 'the recording has no video track ffmpeg could remux';
            child.kill('SIGKILL');
            return;
          }
          sink.init(data, info);
        } else if (box.type === 'moof') {
          const f = parseMoof(box.data);
          moof = { data: box.data, key: f.key, t: f.decodeTime };
        } else if (box.type === 'mdat' && moof && info) {
          firstDecode ??= moof.t;
          const tMs = ((moof.t - firstDecode) / info.timescale) * 1000;
          const frag = { data: Buffer.concat([moof.data, box.data]), key: moof.key, t: moof.t, at: recordedAt(tMs), tMs };
          moof = null;
          if (!clock) {
            if (frag.at < this.opts.fromMs) {
              if (frag.key) preroll = [];
              if (preroll.length || frag.key) preroll.push(frag);
              continue;
            }
            // The requested moment: what leads up to it from its keyframe goes out now, then real time.
            if (!frag.key && preroll.length === 0) continue;
            clock = { wall: Date.now(), tMs: frag.tMs };
            for (const p of preroll) sink.fragment(p.data, p.key, p.t, p.at);
            preroll = [];
          }
          queue.push(frag);
        }
      }
      if (queue.length >= READ_AHEAD) child.stdout?.pause();
      if (!this.timer) pump();
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
    child.once('close', (code, signal) => {
      this.child = null;
      ffmpegDone = true;
      if (this.stopped) return;
      if (code !== 0 && failure === null)
        failure = describeFfmpegError(stderr, `ffmpeg exited (${signal ?? `code ${code}`}) while reading the recording`);
      if (failure) this.opts.log.warn({ cameraId: this.opts.cameraId, code, signal, error: failure }, 'playback ended early');
      // Recorded before `fromMs` only (the last segment ends in its GOP): play that GOP.
      if (!clock && preroll.length) {
        clock = { wall: Date.now(), tMs: preroll[0]!.tMs };
        queue.push(...preroll);
        preroll = [];
      }
      if (!this.timer) pump();
    });
  }

  /** Stops ffmpeg and the pacing; the sink hears nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    this.cleanup();
    if (child) await stopChild(child, 1000);
  }

  private cleanup(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
    if (this.listDir) rmSync(this.listDir, { recursive: true, force: true });
    this.listDir = null;
  }
}
