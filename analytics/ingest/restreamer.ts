import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { withCredentials } from '../../contract/cameras';
import { Backoff } from './backoff';
import { describeFfmpegError } from './ffmpeg-errors';
import { BoxReader, parseInit, parseMoof, type InitInfo } from './fmp4';
import { rtspInputArgs, spawnTied, stopChild } from './process';
import { rtspDescribe } from './rtsp-describe';

/** What a consumer of a camera's live stream receives, in this order per stream session. */
export interface LiveSink {
  /** The init segment (ftyp+moov) of a new stream session: a decoder must start afresh. */
  init(data: Buffer, info: InitInfo): void;
  /** One moof+mdat; `key` when it starts with a keyframe. The first after init is always key. */
  fragment(data: Buffer, key: boolean, decodeTime: number): void;
  /** The stream session ended (camera gone, stalled); a new init follows when it is back. */
  end(reason: string): void;
}

/**
 * A camera's live stream as the restreamer offers it to the recorder, the analysis decoder
 * and viewers. Lives in analytics/ so the ingest supervisor and the recorder can take it
 * without knowing who produces it.
 */
export interface LiveSource {
  /** Starts feeding `sink` (at once with the newest GOP when live); returns the detach. */
  attach(sink: LiveSink): () => void;
  /** Resolves true when a stream session is live (at once if it is), false after `ms`. */
  waitLive(ms: number): Promise<boolean>;
}

export interface RestreamHealth {
  state: 'connecting' | 'live' | 'offline' | 'disabled';
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number;
  kbps: number;
  consumers: number;
  /** The camera's codec cannot play in a browser, so it is transcoded to H.264 (why, if so). */
  transcoding: string | null;
  lastError: string | null;
}

export interface RestreamerOptions {
  cameraId: string;
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  stallTimeoutMs: number;
  backoffMaxMs?: number;
  ffmpegPath?: string;
  log: Logger;
}

const HEALTHY_RESET_MS = 10_000;
/** The newest GOP is kept for joiners; a camera with a GOP longer than this is cut (memory bound). */
const MAX_GOP_BYTES = 16 * 1024 * 1024;

/**
 * The one RTSP session of a camera. ffmpeg pulls RTSP over TCP and copies the video (no
 * decode) into fragmented MP4 with one fragment per frame on its stdout; the fragments fan out
 * to every attached sink. The newest GOP (from its keyframe) is kept, so a new sink starts
 * decoding at once instead of waiting up to a GOP. A codec a browser cannot play in MSE
 * (H.265 and anything not H.264) is transcoded to H.264 once, here, for every consumer.
 */
export class Restreamer extends EventEmitter<{ health: [RestreamHealth] }> implements LiveSource {
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly sinks = new Set<LiveSink>();
  private child: ChildProcess | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private waiters: Array<() => void> = [];
  private init: { data: Buffer; info: InitInfo } | null = null;
  private gop: Array<{ data: Buffer; key: boolean; t: number }> = [];
  private gopBytes = 0;
  private state: RestreamHealth['state'] = 'offline';
  private lastError: string | null = null;
  private transcode: string | null = null;
  private recent: Array<[number, number, number]> = [];
  private lastDataAt = 0;
  private stallTimer: NodeJS.Timeout | null = null;

  constructor(readonly opts: RestreamerOptions) {
    super();
    this.log = opts.log;
    this.backoff = new Backoff(1000, opts.backoffMaxMs ?? 30_000);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.setState('connecting');
    this.stallTimer = setInterval(() => {
      if (this.child && this.state === 'live' && Date.now() - this.lastDataAt > this.opts.stallTimeoutMs) {
        this.lastError = `no video for ${Math.round((Date.now() - this.lastDataAt) / 1000)} s (stalled)`;
        this.child.kill('SIGKILL');
      }
    }, 500);
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'restream loop failed'));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.wake?.();
    if (this.child) await stopChild(this.child, 1500);
    await this.loop;
    // Everyone still attached learns the stream is over for good (a viewer reconnects to the
    // camera's next restreamer, a decoder's input ends).
    this.each((s) => s.end('stopped'));
    this.sinks.clear();
    this.setState('disabled');
  }

  health(): RestreamHealth {
    const now = Date.now();
    this.recent = this.recent.filter(([t]) => now - t <= 3000);
    const samples = this.recent.reduce((n, [, s]) => n + s, 0);
    const bytes = this.recent.reduce((n, [, , b]) => n + b, 0);
    const span = this.recent.length > 1 ? (now - this.recent[0]![0]) / 1000 : 0;
    return {
      state: this.state,
      codec: this.init?.info.codec ?? null,
      width: this.init?.info.width ?? null,
      height: this.init?.info.height ?? null,
      fps: span > 0.5 ? Math.round((samples / span) * 10) / 10 : 0,
      kbps: span > 0.5 ? Math.round((bytes * 8) / span / 1000) : 0,
      consumers: this.sinks.size,
      transcoding: this.transcode,
      lastError: this.lastError,
    };
  }

  attach(sink: LiveSink): () => void {
    this.sinks.add(sink);
    if (this.init && this.gop.length) {
      sink.init(this.init.data, this.init.info);
      for (const f of this.gop) sink.fragment(f.data, f.key, f.t);
    }
    return () => {
      this.sinks.delete(sink);
    };
  }

  waitLive(ms: number): Promise<boolean> {
    if (this.init && this.gop.length) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(done);
    });
  }

  private setState(s: RestreamHealth['state']): void {
    if (s === this.state) return;
    this.log.info({ cameraId: this.opts.cameraId, from: this.state, to: s }, 'restream state');
    this.state = s;
    this.emit('health', this.health());
  }

  private each(fn: (s: LiveSink) => void): void {
    for (const s of [...this.sinks]) {
      try {
        fn(s);
      } catch (err) {
        // One broken consumer must not stop the others.
        this.log.warn({ err, cameraId: this.opts.cameraId }, 'live consumer failed; detached');
        this.sinks.delete(s);
      }
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const t0 = Date.now();
      const got = await this.session();
      if (!this.running) break;
      if (got && Date.now() - t0 >= HEALTHY_RESET_MS) this.backoff.reset();
      this.setState('offline');
      const delay = got ? 0 : this.backoff.next();
      const until = Date.now() + delay;
      const wakeP = new Promise<void>((r) => (this.wake = r));
      // While down, a DESCRIBE (not a session) every half second ends the wait as soon as the
      // camera answers: viewers are waiting on this one, so it checks twice as often as ingest did.
      while (this.running && Date.now() < until) {
        const more = await Promise.race([
          wakeP.then(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(true), Math.min(500, until - Date.now()))),
        ]);
        if (!more || !this.running || Date.now() >= until) break;
        const d = await rtspDescribe(this.opts.url, { username: this.opts.username, password: this.opts.password, timeoutMs: 800 });
        if (d.kind === 'ok') break;
      }
      this.wake = null;
    }
  }

  private args(): string[] {
    const video = this.transcode
      ? // Browser-playable H.264 with a 1 s GOP; zerolatency: no lookahead, no B-frames.
        [
          '-c:v',
          'libx264',
          '-preset',
          'veryfast',
          '-tune',
          'zerolatency',
          '-pix_fmt',
          'yuv420p',
          '-force_key_frames',
          'expr:gte(t,n_forced*1)',
        ]
      : ['-c', 'copy'];
    return [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'error',
      ...rtspInputArgs(this.opts.stallTimeoutMs, this.opts.ffmpegPath),
      '-fflags',
      'nobuffer',
      '-i',
      withCredentials(this.opts.url, this.opts.username, this.opts.password),
      '-map',
      '0:v:0',
      ...video,
      '-f',
      'mp4',
      // One fragment per frame: a frame reaches viewers as soon as it arrives, not after a GOP.
      '-movflags',
      'empty_moov+default_base_moof+frag_every_frame',
      '-flush_packets',
      '1',
      'pipe:1',
    ];
  }

  /** One ffmpeg session; resolves whether any video arrived. */
  private session(): Promise<boolean> {
    return new Promise((resolve) => {
      const child = spawnTied(this.opts.ffmpegPath ?? 'ffmpeg', this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      const reader = new BoxReader();
      let head: Buffer[] = [];
      let moof: { data: Buffer; key: boolean; t: number; samples: number } | null = null;
      let got = false;
      let stderr = '';
      let restartForCodec = false;
      const startedAt = Date.now();
      this.lastDataAt = Date.now();
      child.stdout?.on('data', (chunk: Buffer) => {
        let boxes;
        try {
          boxes = reader.push(chunk);
        } catch (err) {
          this.lastError = `the camera stream is not valid MP4 after remuxing: ${(err as Error).message}`;
          child.kill('SIGKILL');
          return;
        }
        for (const box of boxes) {
          if (box.type === 'ftyp') head = [box.data];
          else if (box.type === 'moov') {
            const data = Buffer.concat([...head, box.data]);
            const info = parseInit(data);
            if (!info) {
              this.lastError = 'the camera stream has no video track ffmpeg could remux';
              child.kill('SIGKILL');
              return;
            }
            if (info.format !== 'avc1' && !this.transcode) {
              // MSE in Chromium plays H.264; anything else is transcoded once, here.
              this.transcode = `${info.format} is not playable in browsers; transcoding to H.264`;
              this.log.warn({ cameraId: this.opts.cameraId, codec: info.codec }, 'camera codec is not browser-playable; transcoding');
              restartForCodec = true;
              child.kill('SIGKILL');
              return;
            }
            this.init = { data, info };
            this.gop = [];
            this.gopBytes = 0;
          } else if (box.type === 'moof') {
            const f = parseMoof(box.data);
            moof = { data: box.data, key: f.key, t: f.decodeTime, samples: f.samples };
          } else if (box.type === 'mdat' && moof && this.init) {
            const frag = Buffer.concat([moof.data, box.data]);
            const now = Date.now();
            this.lastDataAt = now;
            this.recent.push([now, moof.samples, frag.length]);
            if (moof.key) {
              this.gop = [];
              this.gopBytes = 0;
            }
            if (this.gop.length === 0 && !moof.key) {
              moof = null;
              continue; // nothing decodable before the first keyframe
            }
            if (this.gopBytes + frag.length <= MAX_GOP_BYTES) {
              this.gop.push({ data: frag, key: moof.key, t: moof.t });
              this.gopBytes += frag.length;
            }
            if (!got) {
              got = true;
              this.lastError = null;
              this.log.info({ cameraId: this.opts.cameraId, codec: this.init.info.codec, firstMs: now - startedAt }, 'restream live');
              const init = this.init;
              this.each((s) => s.init(init.data, init.info));
              this.setState('live');
              for (const w of this.waiters.splice(0)) w();
            }
            const { key, t } = moof;
            this.each((s) => s.fragment(frag, key, t));
            moof = null;
          }
        }
      });
      child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
      child.once('close', (code, signal) => {
        this.child = null;
        if (restartForCodec) {
          resolve(true);
          return;
        }
        const why = this.lastError?.includes('stalled')
          ? this.lastError
          : describeFfmpegError(stderr, code === 0 ? 'the stream ended' : `ffmpeg exited (${signal ?? `code ${code}`})`);
        if (this.running) {
          this.lastError = why;
          this.log.warn({ cameraId: this.opts.cameraId, code, signal, error: why }, 'restream session ended');
        }
        this.init = null;
        this.gop = [];
        this.gopBytes = 0;
        if (got && this.running) this.each((s) => s.end(why));
        resolve(got);
      });
    });
  }
}
