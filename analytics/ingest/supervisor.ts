import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger';
import { withCredentials, type CameraHealth, type CameraState } from '../../contract/cameras';
import { Backoff } from './backoff';
import { describeFfmpegError } from './ffmpeg-errors';
import { FramePool, makeFrame, type FramePoolStats } from './frame-pool';
import { FrameSlot } from './frame-slot';
import { rtspInputArgs, spawnTied, stopChild } from './process';
import type { LiveSource } from './restreamer';
import { scaleToFitFilter } from './ffmpeg-binary';
import { rtspDescribe } from './rtsp-describe';
import { pipeLive } from './live-pipe';

export interface SupervisorOptions {
  cameraId: string;
  /** Credential-free RTSP URL; credentials are passed separately and never logged. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Analysis frame rate (frames per second handed to analytics). */
  fps: number;
  /** Frames are scaled to fit inside this box, keeping the aspect ratio (the model input size). */
  maxWidth: number;
  maxHeight: number;
  /** No frame for this long while live: the stream is stalled and ffmpeg is restarted. */
  stallTimeoutMs: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  ffmpegPath?: string;
  /**
   * Read the camera's restreamed main stream (fragmented MP4 on ffmpeg's stdin) instead of
   * opening an RTSP session of our own: the camera then serves one session for everything.
   */
  source?: LiveSource | undefined;
  /**
   * The decoder's niceness (default 10). Decoding for analysis is elastic (ffmpeg buffers
   * the stream a moment) while an inference that loses its core to a dozen decoders doubles
   * its latency: measured with 24 cameras, p95 capture-to-rules fell from 602 to 206 ms with
   * the decoders at 10 (docs/performance.md, Capacity). Live video and recording stay at 0.
   */
  nice?: number;
  log: Logger;
}

export interface SupervisorEvents {
  health: [CameraHealth];
  /** A new ffmpeg session started delivering frames (the recorder starts a new segment). */
  reconnected: [];
}

/** How long a camera has to be live before the next failure backs off from 1 s again. */
const HEALTHY_RESET_MS = 10_000;
/** While waiting to reconnect, a cheap RTSP DESCRIBE checks this often whether the stream is back. */
const WAKE_CHECK_MS = 1000;
/**
 * ffmpeg's side of the pipe buffers this much (SO_SNDBUF of the socket Node gives it): two whole
 * frames, so ffmpeg writes a frame in one call instead of blocking every 200 KB until Node has
 * read, and Node drains a frame in one wake-up (its reads are 64 KB each whatever the buffer).
 */
const PIPE_BUFFER_BYTES = 1 << 20;
/**
 * The stream clock may run slow against the wall clock (a camera's crystal) or lose frames the
 * count cannot see; a frame this far behind the wall clock re-anchors the session's clock to now.
 */
const MAX_CLOCK_LAG_MS = 5000;

/**
 * One camera's decoder: ffmpeg pulls RTSP over TCP, drops to the analysis rate, scales to
 * the model's size and writes raw BGR24 frames to a pipe; each frame goes into the camera's
 * FrameSlot (newest wins). The supervisor owns the process: it restarts it with backoff
 * when the stream ends, stalls or ffmpeg dies, and reports health on every change.
 *
 * Output size is fixed per ffmpeg session (`-reinit_filter 0` keeps the filter graph, and
 * scale's output size, when the camera changes resolution mid-stream), so the byte framing
 * of the pipe can never slip; a reconnect recomputes it from the new source size.
 */
export class IngestSupervisor extends EventEmitter<SupervisorEvents> {
  readonly slot = new FrameSlot();
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private child: ChildProcess | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private state: CameraState = 'offline';
  private since = new Date();
  private liveSince = 0;
  private frames = 0;
  private reconnects = 0;
  private sessions = 0;
  private lastFrameAt = 0;
  private lastError: string | null = null;
  private sourceWidth: number | null = null;
  private sourceHeight: number | null = null;
  private readonly recentIn: number[] = [];
  private deliveredMark: Array<[number, number]> = [];
  private healthTimer: NodeJS.Timeout | null = null;
  private lastEmitted = '';
  /** Timestamp of the last frame handed out, over all sessions (the clock never goes back). */
  private lastTs = 0;
  /** The pool of the current output size; a reconnect with another size starts a new one. */
  private pool: FramePool | null = null;
  private readonly retiredPools: FramePoolStats = { allocated: 0, reused: 0, inUse: 0, free: 0, discarded: 0 };

  constructor(readonly opts: SupervisorOptions) {
    super();
    this.log = opts.log;
    this.backoff = new Backoff(opts.backoffInitialMs ?? 1000, opts.backoffMaxMs ?? 30_000);
  }

  get cameraId(): string {
    return this.opts.cameraId;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.setState('connecting');
    // Health (fps, stall detection) is re-evaluated twice a second; emitted only on change.
    this.healthTimer = setInterval(() => this.tick(), 500);
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'ingest loop failed'));
  }

  /** Stops ffmpeg and waits until the process has exited. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = null;
    this.wake?.();
    const c = this.child;
    if (c) await stopChild(c, 1500);
    await this.loop;
    this.setState('disabled');
  }

  health(): CameraHealth {
    const now = Date.now();
    const inWin = this.recentIn.filter((t) => now - t <= 3000).length;
    const marks = this.deliveredMark.filter(([t]) => now - t <= 3000);
    const first = marks[0];
    const lastMark = marks.at(-1);
    const fpsOut = first && lastMark && lastMark[0] > first[0] ? ((lastMark[1] - first[1]) * 1000) / (lastMark[0] - first[0]) : 0;
    return {
      state: this.state,
      fpsIn: Math.round((inWin / 3) * 10) / 10,
      fpsOut: Math.round(fpsOut * 10) / 10,
      frames: this.frames,
      dropped: this.slot.dropped,
      reconnects: this.reconnects,
      lastFrameAt: this.lastFrameAt ? new Date(this.lastFrameAt).toISOString() : null,
      lastError: this.lastError,
      sourceWidth: this.sourceWidth,
      sourceHeight: this.sourceHeight,
      since: this.since.toISOString(),
    };
  }

  /** Frame buffer reuse over the supervisor's life (every session's pool). */
  bufferStats(): FramePoolStats {
    const cur = this.pool?.stats();
    const r = this.retiredPools;
    if (!cur) return { ...r };
    return {
      allocated: r.allocated + cur.allocated,
      reused: r.reused + cur.reused,
      inUse: r.inUse + cur.inUse,
      free: cur.free,
      discarded: r.discarded + cur.discarded,
    };
  }

  /** The pool for frames of `bytes`, kept across sessions while the output size stays the same. */
  private poolFor(bytes: number): FramePool {
    if (this.pool?.bytes === bytes) return this.pool;
    if (this.pool) {
      const s = this.pool.stats();
      this.retiredPools.allocated += s.allocated;
      this.retiredPools.reused += s.reused;
      this.retiredPools.inUse += s.inUse;
      this.retiredPools.discarded += s.discarded + s.free;
    }
    this.pool = new FramePool(bytes);
    return this.pool;
  }

  private setState(s: CameraState, error?: string): void {
    if (error !== undefined) this.lastError = error;
    if (s !== this.state) {
      this.log.info({ cameraId: this.opts.cameraId, from: this.state, to: s, ...(error ? { error } : {}) }, 'camera state');
      this.state = s;
      this.since = new Date();
      if (s === 'live') this.liveSince = Date.now();
    }
    this.emitHealth();
  }

  private emitHealth(): void {
    const h = this.health();
    const key = JSON.stringify({ ...h, lastFrameAt: null, frames: 0, dropped: 0 });
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    this.emit('health', h);
  }

  private tick(): void {
    const now = Date.now();
    while (this.recentIn.length && now - (this.recentIn[0] ?? 0) > 3000) this.recentIn.shift();
    this.deliveredMark.push([now, this.slot.delivered]);
    this.deliveredMark = this.deliveredMark.filter(([t]) => now - t <= 3000);
    if (this.state === 'live' && now - this.lastFrameAt > Math.min(2000, this.opts.stallTimeoutMs / 2)) this.setState('stalled');
    if ((this.state === 'stalled' || this.state === 'live') && now - this.lastFrameAt > this.opts.stallTimeoutMs && this.child) {
      this.log.warn({ cameraId: this.opts.cameraId, silentMs: now - this.lastFrameAt }, 'stream stalled; restarting ffmpeg');
      this.lastError = `no frame for ${Math.round((now - this.lastFrameAt) / 1000)} s (stalled)`;
      this.child.kill('SIGKILL');
    }
    this.emitHealth();
  }

  private urlWithCredentials(): string {
    return withCredentials(this.opts.url, this.opts.username, this.opts.password);
  }

  /** Where frames come from: the camera's own RTSP, or the restreamer's fMP4 on stdin. */
  private inputArgs(): string[] {
    const reinit = ['-reinit_filter', '0'];
    if (this.opts.source)
      return ['-probesize', '65536', '-analyzeduration', '0', '-fflags', 'nobuffer', ...reinit, '-f', 'mp4', '-i', 'pipe:0'];
    return [...rtspInputArgs(this.opts.stallTimeoutMs, this.opts.ffmpegPath), ...reinit, '-i', this.urlWithCredentials()];
  }

  private ffmpegArgs(): string[] {
    const { fps, maxWidth: w, maxHeight: h } = this.opts;
    return [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'info',
      // One decoder thread: frame threading holds (threads - 1) frames before the first comes
      // out, measured 200 ms more per frame at 10 fps with the default on 2 cores (a constant
      // delay the stream clock cannot show; docs/performance.md, Capacity). These streams are
      // small, and with many cameras on a box every core is busy decoding anyway.
      '-threads',
      '1',
      ...this.inputArgs(),
      '-an',
      '-sn',
      '-dn',
      '-map',
      '0:v:0',
      '-vf',
      `fps=${fps},${scaleToFitFilter(this.opts.ffmpegPath ?? 'ffmpeg', w, h)}`,
      '-pix_fmt',
      'bgr24',
      '-f',
      'rawvideo',
      'pipe:1',
    ];
  }

  private async run(): Promise<void> {
    while (this.running) {
      const hadFrames = await this.session();
      if (!this.running) break;
      if (hadFrames && Date.now() - this.liveSince >= HEALTHY_RESET_MS) this.backoff.reset();
      this.setState('offline', this.lastError ?? 'the stream ended');
      const delay = this.backoff.next();
      this.log.info({ cameraId: this.opts.cameraId, delayMs: delay, error: this.lastError }, 'reconnecting after delay');
      await this.waitOrWake(delay);
      this.reconnects++;
    }
  }

  /**
   * Waits `ms`, but wakes early when a DESCRIBE shows the stream answering again: a camera
   * that was down for minutes (backoff at 30 s) is live again seconds after it returns,
   * without spawning a decoder every second while it is down.
   */
  private async waitOrWake(ms: number): Promise<void> {
    const until = Date.now() + ms;
    let woken = false;
    const wakeP = new Promise<void>((resolve) => {
      this.wake = () => {
        woken = true;
        resolve();
      };
    });
    while (this.running && !woken && Date.now() < until) {
      const step = Math.min(WAKE_CHECK_MS, until - Date.now());
      await Promise.race([wakeP, new Promise((r) => setTimeout(r, step))]);
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

  /** One ffmpeg session; resolves when it ends. Returns whether any frame arrived. */
  private session(): Promise<boolean> {
    return new Promise((resolve) => {
      const source = this.opts.source;
      const child = spawnTied(this.opts.ffmpegPath ?? 'ffmpeg', this.ffmpegArgs(), {
        stdio: [source ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        stdoutBufferBytes: PIPE_BUFFER_BYTES,
        nice: this.opts.nice ?? 10,
      });
      this.child = child;
      const detach = source ? pipeLive(source, child) : null;
      let stderrTail = '';
      let header = '';
      let frameW = 0;
      let frameH = 0;
      let frameBytes = 0;
      let pending: Buffer[] = [];
      let pendingLen = 0;
      let pool: FramePool | null = null;
      let cur: Uint8Array | null = null;
      let curLen = 0;
      let got = false;
      const startedAt = Date.now();
      const sessionNo = ++this.sessions;
      // The analysis clock. The rawvideo pipe carries no timestamps, but it does not need to: the
      // fps filter re-times the stream to exactly `fps` and the rawvideo muxer writes every frame
      // it gets (constant frame rate, gaps in the stream filled), so the k-th frame of a session
      // has pts = start + k / fps. Counting frames therefore reads the stream's own clock, with
      // no side channel to parse and pair with the pipe. The wall clock only anchors the first
      // frame of a session; a reader that was stalled and drains a backlog sees each frame's
      // capture time, not the time it happened to read it.
      const stepMs = 1000 / this.opts.fps;
      let anchor = 0;
      let sessionFrames = 0;

      const clock = (now: number): number => {
        let t: number;
        if (sessionFrames === 0) {
          anchor = now;
          t = now;
        } else {
          t = anchor + sessionFrames * stepMs;
          // Never in the future: a burst of buffered frames at connect, or a stream clock running
          // fast, moves the anchor back so that this frame is "now".
          if (t > now) {
            anchor -= t - now;
            t = now;
          } else if (now - t > MAX_CLOCK_LAG_MS) {
            anchor += now - t;
            t = now;
          }
        }
        sessionFrames++;
        // Strictly increasing over the supervisor's life, across reconnects too.
        const ts = Math.max(Math.round(t), this.lastTs + 1);
        this.lastTs = ts;
        return ts;
      };

      const emitFrame = (buf: Uint8Array): void => {
        const now = Date.now();
        this.frames++;
        this.lastFrameAt = now;
        this.recentIn.push(now);
        const frame = makeFrame(
          {
            cameraId: this.opts.cameraId,
            width: frameW,
            height: frameH,
            data: buf.buffer as ArrayBuffer,
            ts: clock(now),
            seq: this.frames,
          },
          pool,
        );
        // The slot takes over this reference (frame-pool.ts: the ownership rule).
        this.slot.put(frame);
        if (!got) {
          got = true;
          this.lastError = null;
          this.log.info(
            { cameraId: this.opts.cameraId, session: sessionNo, width: frameW, height: frameH, firstFrameMs: now - startedAt },
            'first frame',
          );
          if (sessionNo > 1) this.emit('reconnected');
          this.setState('live');
        } else if (this.state !== 'live') {
          this.setState('live');
        }
      };

      // Frames are copied straight from pipe chunks into a pooled buffer: one copy, no
      // concatenation of a growing queue, no allocation once the pool has warmed up.
      const consume = (chunk: Buffer): void => {
        let off = 0;
        while (off < chunk.length) {
          if (!cur) {
            pool ??= this.poolFor(frameBytes);
            cur = new Uint8Array(pool.acquire());
            curLen = 0;
          }
          const n = Math.min(frameBytes - curLen, chunk.length - off);
          cur.set(chunk.subarray(off, off + n), curLen);
          curLen += n;
          off += n;
          if (curLen === frameBytes) {
            const f = cur;
            cur = null;
            emitFrame(f);
          }
        }
      };

      child.stdout?.on('data', (chunk: Buffer) => {
        if (frameBytes === 0) {
          // The output size is printed on stderr just before the first frame is written;
          // the pipes are separate, so hold bytes until it is known.
          pending.push(chunk);
          pendingLen += chunk.length;
          if (pendingLen > 64 * 1024 * 1024) child.kill('SIGKILL');
          return;
        }
        consume(chunk);
      });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (s: string) => {
        stderrTail = (stderrTail + s).slice(-8000);
        if (frameBytes) return;
        header += s;
        const src = /Input #0[\s\S]*?Stream #0:\d+[^\n]*Video: [^\n]*?, (\d{2,5})x(\d{2,5})/.exec(header);
        if (src) {
          this.sourceWidth = Number(src[1]);
          this.sourceHeight = Number(src[2]);
        }
        const out = /Output #0[\s\S]*?Stream #0:0[^\n]*Video: rawvideo[^\n]*?, (\d{1,5})x(\d{1,5})/.exec(header);
        if (out) {
          frameW = Number(out[1]);
          frameH = Number(out[2]);
          frameBytes = frameW * frameH * 3;
          const held = pending;
          pending = [];
          pendingLen = 0;
          for (const c of held) consume(c);
        }
      });
      child.once('error', (err) => {
        this.lastError = `cannot run ffmpeg: ${err.message}`;
      });
      child.once('close', (code, signal) => {
        this.child = null;
        detach?.();
        // A frame cut off by the end of the session was never handed out: its buffer goes back.
        const partial = cur as Uint8Array | null;
        if (partial && pool) pool.give(partial.buffer as ArrayBuffer);
        cur = null;
        const why = this.lastError?.includes('stalled')
          ? this.lastError
          : describeFfmpegError(stderrTail, code === 0 ? 'the stream ended' : `ffmpeg exited (${signal ?? `code ${code}`})`);
        if (this.running) {
          this.lastError = got && code === 0 && !/401|404|refused/.test(why) ? 'the stream ended' : why;
          this.log.warn(
            { cameraId: this.opts.cameraId, session: sessionNo, code, signal, error: this.lastError, frames: this.frames },
            'ffmpeg session ended',
          );
        }
        resolve(got);
      });
    });
  }
}
