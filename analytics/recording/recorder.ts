import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/logger';
import { Backoff } from '../ingest/backoff';
import { describeFfmpegError } from '../ingest/ffmpeg-errors';
import { rtspInputArgs, spawnTied, stopChild } from '../ingest/process';
import { pipeLive } from '../ingest/live-pipe';
import type { LiveSource } from '../ingest/restreamer';
import { statsPeriodArgs } from '../ingest/ffmpeg-binary';
import { rtspDescribe } from '../ingest/rtsp-describe';
import { withCredentials } from '../../contract/cameras';

export interface RecordedSegment {
  cameraId: string;
  path: string;
  /** Wall-clock span (ms since epoch) the segment covers. */
  startMs: number;
  endMs: number;
  bytes: number;
  /** The recorder session (one per connection): a reconnect always starts a new segment. */
  session: number;
}

/** A recorded segment as indexed, with its row id. */
export type SegmentRow = RecordedSegment & { id: number };

export interface RecorderOptions {
  cameraId: string;
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  dir: string;
  segmentSeconds: number;
  stallTimeoutMs: number;
  backoffMaxMs?: number;
  ffmpegPath?: string;
  /** Record the camera's restreamed main stream (fMP4 on stdin) instead of a second RTSP session. */
  source?: LiveSource | undefined;
  log: Logger;
}

export interface RecorderEvents {
  segment: [RecordedSegment];
  /** A session ended with this reason (the recorder reconnects by itself). */
  failure: [string];
}

/**
 * Copies a camera's main stream (`-c copy`, no decode) into rolling MP4 segments with
 * ffmpeg's segment muxer. ffmpeg reports each finished segment on stdout (a CSV segment
 * list) and its progress every second (stalls are detected from it). The wall-clock span of
 * a segment is anchored at the moment ffmpeg reports it finished: the stream is live, so
 * "finished now, lasted d seconds" places it within a fraction of a second.
 */
export class SegmentRecorder extends EventEmitter<RecorderEvents> {
  private child: ChildProcess | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private session = 0;
  private readonly backoff: Backoff;
  private wake: (() => void) | null = null;
  lastError: string | null = null;

  constructor(readonly opts: RecorderOptions) {
    super();
    this.backoff = new Backoff(1000, opts.backoffMaxMs ?? 30_000);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    mkdirSync(this.opts.dir, { recursive: true });
    this.loop = this.run().catch((err: unknown) => this.opts.log.error({ err }, 'recorder loop failed'));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    // 'q' lets ffmpeg close the current segment properly (a playable MP4 with its index); with
    // the restreamed input stdin carries video, so SIGTERM (which ffmpeg also handles cleanly).
    if (this.child) await stopChild(this.child, 3000, this.opts.source ? 'term' : 'ffmpeg-q');
    await this.loop;
  }

  private url(): string {
    return withCredentials(this.opts.url, this.opts.username, this.opts.password);
  }

  private async run(): Promise<void> {
    while (this.running) {
      // Restreamed: start ffmpeg only when there is video to give it (else its stall timer fires).
      while (this.running && this.opts.source && !(await this.opts.source.waitLive(1000))) continue;
      if (!this.running) break;
      const t0 = Date.now();
      const got = await this.recordSession();
      if (!this.running) break;
      if (got && Date.now() - t0 > 10_000) this.backoff.reset();
      const delay = this.backoff.next();
      this.opts.log.info({ cameraId: this.opts.cameraId, delayMs: delay, error: this.lastError }, 'recorder reconnecting after delay');
      const until = Date.now() + delay;
      let woken = false;
      const wakeP = new Promise<void>((r) => (this.wake = () => ((woken = true), r())));
      while (this.running && !woken && Date.now() < until) {
        await Promise.race([wakeP, new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())))]);
        if (!this.running || woken || Date.now() >= until) break;
        if (this.opts.source) {
          if (await this.opts.source.waitLive(Math.max(1, until - Date.now()))) break;
          continue;
        }
        const d = await rtspDescribe(this.opts.url, { username: this.opts.username, password: this.opts.password, timeoutMs: 800 });
        if (d.kind === 'ok') break;
      }
      this.wake = null;
    }
  }

  private recordSession(): Promise<boolean> {
    const session = ++this.session;
    // Session number and start time in the name: files from different connections never collide.
    const prefix = `${Date.now()}-s${session}`;
    const args = [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'error',
      ...(this.opts.source
        ? ['-probesize', '65536', '-analyzeduration', '0', '-f', 'mp4', '-i', 'pipe:0']
        : [...rtspInputArgs(this.opts.stallTimeoutMs, this.opts.ffmpegPath), '-i', this.url()]),
      '-map',
      '0:v:0',
      '-c',
      'copy',
      '-f',
      'segment',
      '-segment_time',
      String(this.opts.segmentSeconds),
      '-segment_format',
      'mp4',
      '-reset_timestamps',
      '1',
      '-segment_list',
      'pipe:1',
      '-segment_list_type',
      'csv',
      '-progress',
      'pipe:1',
      ...statsPeriodArgs(this.opts.ffmpegPath ?? 'ffmpeg', 1),
      join(this.opts.dir, `${prefix}-%05d.mp4`),
    ];
    return new Promise((resolve) => {
      const child = spawnTied(this.opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      this.child = child;
      const detach = this.opts.source ? pipeLive(this.opts.source, child) : null;
      let stderr = '';
      let buf = '';
      let got = false;
      let lastProgressAt = Date.now();
      let lastOutTime = '';
      const stallTimer = setInterval(() => {
        if (Date.now() - lastProgressAt > this.opts.stallTimeoutMs) {
          this.lastError = 'recording stalled (no data from the camera)';
          child.kill('SIGKILL');
        }
      }, 1000);
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (s: string) => {
        buf += s;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line.startsWith('out_time_us=')) {
            if (line !== lastOutTime) {
              lastOutTime = line;
              lastProgressAt = Date.now();
            }
            continue;
          }
          // Segment list entry: "file,start,end" (seconds since the session's start).
          const m = /^(.+\.mp4),([\d.]+),([\d.]+)$/.exec(line);
          if (!m) continue;
          const file = m[1] ?? '';
          const dur = Number(m[3]) - Number(m[2]);
          const path = file.startsWith('/') ? file : join(this.opts.dir, file);
          let bytes = 0;
          try {
            bytes = statSync(path).size;
          } catch {
            continue; // removed under us: nothing to index
          }
          got = true;
          this.lastError = null;
          const endMs = Date.now();
          this.emit('segment', { cameraId: this.opts.cameraId, path, startMs: Math.round(endMs - dur * 1000), endMs, bytes, session });
        }
      });
      child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
      child.once('close', (code) => {
        clearInterval(stallTimer);
        detach?.();
        this.child = null;
        if (this.running) {
          this.lastError = this.lastError?.includes('stalled')
            ? this.lastError
            : describeFfmpegError(stderr, code === 0 ? 'the stream ended' : `ffmpeg exited (code ${code})`);
          this.opts.log.warn({ cameraId: this.opts.cameraId, session, code, error: this.lastError }, 'recorder session ended');
          this.emit('failure', this.lastError);
        }
        resolve(got);
      });
    });
  }
}
