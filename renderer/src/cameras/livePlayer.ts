import { cameraPath, cameraRoutes, LiveMessage, PLAYBACK_END_CODE } from '../../../contract';

/** What the player shows under the picture, and what tests and the benchmark read. */
export interface LiveStats {
  state: 'connecting' | 'playing' | 'waiting' | 'unsupported' | 'refused';
  /** Glass-to-glass estimate: the core received the frame on screen this long ago (ms). */
  delayMs: number | null;
  width: number;
  height: number;
  /** Frames presented per second over the last seconds. */
  fps: number;
  codec: string | null;
  message: string | null;
  /**
   * When the frame on screen was captured, by the core's clock (ms since epoch): now minus
   * the delay when live, the recorded moment when playing back.
   */
  shownAt: number | null;
  /**
   * The newest media-time/clock pair: the frame whose media time ENDS at `mediaTime` reached
   * the core at `serverTime` (core clock; `offsetMs` = core clock - this machine's clock).
   * For per-frame measurements (requestVideoFrameCallback in the live benchmark).
   */
  clock: { mediaTime: number; serverTime: number; offsetMs: number } | null;
}

export interface PlayerOptions {
  /** Called once a recording has been played to its end (playback only); the player stops. */
  onEnded?: () => void;
}

/** Further behind the newest frame than this: jump to the live edge (a seek drops frames). */
const JUMP_BEHIND_S = 1.5;
/** Further behind than this: play slightly faster until caught up (no frames lost). */
const CATCH_UP_S = 0.3;
/** Where a jump lands: a little before the edge, so the next frame is there in time. */
const EDGE_S = 0.15;
/** Kept behind the play position; older buffered video is removed (bounded memory). */
const KEEP_S = 8;

export function liveSocketUrl(cameraId: string, query = ''): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${cameraPath(cameraRoutes.cameraLive.path, cameraId)}${query}`;
}

/** The playback socket: the camera's recording from `at` (ms since epoch), same protocol as live. */
export function playbackSocketUrl(cameraId: string, at: number): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${cameraPath(cameraRoutes.cameraPlayback.path, cameraId)}?at=${Math.round(at)}`;
}

/**
 * Plays a camera's live fMP4 (WebSocket from the core) in a <video> through Media Source
 * Extensions, at the camera's own size and rate. Low latency: one fragment per frame comes
 * in, the player keeps near the newest frame (playing up to 25 % faster to catch up, jumping
 * to the edge when far behind, e.g. after a background tab) and trims what it has played. It recovers by
 * itself: a dropped camera sends `ended` and later a new stream on the same socket (the
 * decoder is reset); a lost socket is reopened with backoff. Never a page reload.
 */
export class LivePlayer {
  private ws: WebSocket | null = null;
  private ms: MediaSource | null = null;
  private sb: SourceBuffer | null = null;
  private queue: ArrayBuffer[] = [];
  private closed = false;
  private retryMs = 500;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private clock: { mediaTime: number; serverTime: number; at: number } | null = null;
  private offsetMs = 0;
  private pendingClock: number | null = null;
  /** [time, frames presented so far] samples (getVideoPlaybackQuality: shown = total - dropped). */
  private presented: Array<[number, number]> = [];
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private objectUrl: string | null = null;
  readonly stats: LiveStats = {
    state: 'connecting',
    delayMs: null,
    width: 0,
    height: 0,
    fps: 0,
    codec: null,
    message: null,
    shownAt: null,
    clock: null,
  };

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly url: string,
    private readonly onStats: (s: LiveStats) => void,
    private readonly opts: PlayerOptions = {},
  ) {
    video.muted = true;
    video.playsInline = true;
    this.connect();
    this.statsTimer = setInterval(() => this.tick(), 250);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    const ws = this.ws;
    if (ws) {
      ws.onmessage = null;
      // Closed while still connecting, Chromium drops the socket mid-handshake, and a core that
      // had already accepted it does not learn that the viewer left (a tile hidden right after it
      // mounted kept its camera's viewer session open). Closed once open, it gets a close frame.
      if (ws.readyState === WebSocket.CONNECTING) ws.onopen = () => ws.close();
      else ws.close();
    }
    this.resetMedia();
  }

  private set(p: Partial<LiveStats>): void {
    Object.assign(this.stats, p);
    this.onStats({ ...this.stats });
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retryMs = 500;
    };
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data === 'string') this.onControl(e.data);
      else this.append(e.data);
    };
    ws.onclose = (e) => {
      if (this.closed) return;
      // A refused upgrade (signed out, out of scope) looks like any lost socket to a browser:
      // keep retrying, slowly, and say so after a few failures.
      if (e.code === 4401) return this.set({ state: 'refused', message: 'the session ended: sign in again to watch' });
      // A recording played to its end: nothing to reconnect to.
      if (e.code === PLAYBACK_END_CODE) {
        this.set({ state: 'waiting', message: 'end of the recording' });
        this.opts.onEnded?.();
        return;
      }
      this.set({
        state: 'waiting',
        message:
          opened || this.retryMs < 4000 ? 'reconnecting…' : 'cannot open live video (no access, or the core is unreachable); retrying',
      });
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 8000);
    };
  }

  private onControl(text: string): void {
    let msg: LiveMessage;
    try {
      msg = LiveMessage.parse(JSON.parse(text));
    } catch {
      return; // not a message this console knows: ignore rather than break playback
    }
    if (msg.type === 'stream') {
      this.offsetMs = msg.serverTime - Date.now();
      this.clock = null;
      this.startMedia(msg.codec);
      this.set({ codec: msg.codec, width: msg.width, height: msg.height, message: null });
    } else if (msg.type === 'clock') {
      // The fragment right after this message is the one the core received at serverTime; its
      // media time is read from the buffer once appended (the stream's own timestamps may be
      // shifted by an edit list, the buffer's are what currentTime is compared with).
      this.pendingClock = msg.serverTime;
    } else if (msg.type === 'ended') {
      this.set({ state: 'waiting', message: `camera stream interrupted (${msg.reason}); waiting for it to return` });
    } else {
      this.set({ state: 'waiting', message: msg.message });
    }
  }

  private resetMedia(): void {
    this.queue = [];
    this.sb = null;
    if (this.ms?.readyState === 'open') {
      try {
        this.ms.endOfStream();
      } catch {
        // already ending
      }
    }
    this.ms = null;
    if (this.objectUrl) {
      // Detach first: revoking the URL of a MediaSource the element has not opened yet makes
      // Chromium try to load it anyway (net::ERR_FILE_NOT_FOUND), e.g. a tile scrolled away at once.
      this.video.removeAttribute('src');
      this.video.load();
      URL.revokeObjectURL(this.objectUrl);
    }
    this.objectUrl = null;
  }

  /** A new stream session: a fresh MediaSource, so timestamps and codec start clean. */
  private startMedia(codec: string): void {
    this.resetMedia();
    const type = `video/mp4; codecs="${codec}"`;
    if (!('MediaSource' in window) || !MediaSource.isTypeSupported(type)) {
      this.set({ state: 'unsupported', message: `this browser cannot play ${codec}` });
      return;
    }
    const ms = new MediaSource();
    this.ms = ms;
    this.objectUrl = URL.createObjectURL(ms);
    this.video.src = this.objectUrl;
    ms.addEventListener(
      'sourceopen',
      () => {
        if (this.ms !== ms) return;
        const sb = ms.addSourceBuffer(type);
        sb.mode = 'segments';
        sb.addEventListener('updateend', () => this.pump());
        this.sb = sb;
        this.pump();
      },
      { once: true },
    );
  }

  private append(buf: ArrayBuffer): void {
    if (!this.ms) return;
    this.queue.push(buf);
    // A backlog means we fell behind (background tab): the edge jump below catches up.
    if (this.queue.length > 300) this.queue.splice(1, this.queue.length - 150);
    this.pump();
  }

  private pump(): void {
    const sb = this.sb;
    if (!sb || sb.updating) return;
    const v = this.video;
    // Trim what has been played (never the part being played).
    if (sb.buffered.length && v.currentTime - sb.buffered.start(0) > KEEP_S * 2) {
      sb.remove(0, v.currentTime - KEEP_S);
      return;
    }
    const next = this.queue.shift();
    if (!next) return;
    const clockFor = this.pendingClock;
    this.pendingClock = null;
    if (clockFor !== null) {
      // Buffered end after this append = the end of that frame: the delay read-out errs late by
      // at most one frame duration, never early.
      sb.addEventListener(
        'updateend',
        () => {
          if (this.sb !== sb) return; // the stream was reset meanwhile: this buffer is detached
          const b = sb.buffered;
          if (b.length) this.clock = { mediaTime: b.end(b.length - 1), serverTime: clockFor, at: Date.now() };
        },
        { once: true },
      );
    }
    try {
      sb.appendBuffer(next);
    } catch (err) {
      // QuotaExceeded or a decode error: start this stream again from the next init.
      this.set({ state: 'waiting', message: `player reset: ${(err as Error).name}` });
      this.ws?.close();
      return;
    }
    this.chase();
  }

  /** Keeps the play position near the newest frame. */
  private chase(): void {
    const v = this.video;
    const b = this.sb?.buffered;
    if (!b || b.length === 0) return;
    const end = b.end(b.length - 1);
    const start = b.start(b.length - 1);
    const behind = end - v.currentTime;
    if (v.currentTime < start || behind > JUMP_BEHIND_S) v.currentTime = Math.max(start, end - EDGE_S);
    // Network jitter delivers frames in bursts: drift back to the edge at up to +25 % speed.
    else v.playbackRate = behind > CATCH_UP_S ? Math.min(1.25, 1 + (behind - CATCH_UP_S)) : 1;
    if (v.paused) void v.play().catch(() => undefined);
  }

  private tick(): void {
    const now = performance.now();
    const q = this.video.getVideoPlaybackQuality();
    const shown = q.totalVideoFrames - q.droppedVideoFrames;
    this.presented.push([now, shown]);
    this.presented = this.presented.filter(([t]) => now - t <= 2000);
    const first = this.presented[0]!;
    const fps = now > first[0] ? ((shown - first[1]) * 1000) / (now - first[0]) : 0;
    // Playing means frames were shown just now (a starved element is not paused, just still).
    const recent = this.presented.filter(([t]) => now - t <= 600)[0];
    const playing = !this.video.paused && recent !== undefined && shown > recent[1];
    let delayMs: number | null = null;
    let shownAt: number | null = null;
    if (this.clock && this.sb) {
      // The frame on screen reached the core at clock.serverTime + (its media time - clock.mediaTime).
      shownAt = Math.round(this.clock.serverTime + (this.video.currentTime - this.clock.mediaTime) * 1000);
      delayMs = Math.max(0, Math.round(Date.now() + this.offsetMs - shownAt));
    }
    this.set({
      fps: Math.round(fps * 10) / 10,
      delayMs,
      shownAt,
      clock: this.clock ? { mediaTime: this.clock.mediaTime, serverTime: this.clock.serverTime, offsetMs: this.offsetMs } : null,
      width: this.video.videoWidth || this.stats.width,
      height: this.video.videoHeight || this.stats.height,
      ...(playing ? { state: 'playing' as const, message: null } : this.stats.state === 'playing' ? { state: 'waiting' as const } : {}),
    });
    if (playing) this.chase();
  }
}
