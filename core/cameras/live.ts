import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  roleAllows,
  SESSION_COOKIE,
  cameraRoutes,
  PLAYBACK_END_CODE,
  PlaybackQuery,
  type AlertScope,
  type LiveMessage,
  type RouteAccess,
  type User,
} from '../../contract';
import type { LiveSink } from '../../analytics/ingest/restreamer';
import { RecordingPlayback } from '../../analytics/recording/playback';
import { parseCookies } from '../auth';
import type { UserStore } from '../auth/store';
import type { CoreContext } from '../feature';
import { canSee } from '../access/visibility';
import type { CameraCatalog } from './catalog';
import type { CameraRecord } from './repository';
import type { CameraService } from './service';

/** A viewer this far behind (bytes queued on its socket) skips to the next keyframe. */
const MAX_QUEUED_BYTES = 1.5 * 1024 * 1024;
/** How often the media-time/wall-clock pair goes out (the player's delay read-out). */
const CLOCK_EVERY_MS = 1000;
/**
 * Every viewer socket is pinged this often, and one that has not answered the last ping is
 * dropped. A viewer that vanished without a close (a browser that gave up on the socket mid-
 * handshake, a laptop lid, a dead link) otherwise keeps its hold, and for a camera an
 * analytics node runs, the core's own RTSP session on it, for ever. The `ws` library's own
 * recipe (ping/pong with terminate); browsers answer pings by themselves.
 */
const HEARTBEAT_MS = 5000;

/**
 * The fMP4 stream protocol one viewer socket speaks, for live video and playback alike:
 * `stream` and the init segment, then fragments, with a `clock` message at most once a second
 * mapping media time to wall-clock time. A slow viewer drops whole GOPs and rejoins at a
 * keyframe: it stays current and never stalls the source.
 */
function fmp4Sender(ws: WebSocket) {
  let timescale = 90_000;
  let lastClock = 0;
  let skipping = false;
  const text = (msg: LiveMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  return {
    text,
    init(data: Uint8Array, info: { timescale: number; codec: string; width: number; height: number }): void {
      timescale = info.timescale;
      lastClock = 0;
      skipping = false;
      text({ type: 'stream', codec: info.codec, width: info.width, height: info.height, serverTime: Date.now() });
      if (ws.readyState === ws.OPEN) ws.send(data);
    },
    /** Sends a fragment; `serverTime` is the wall-clock time of its first frame. False when it was dropped. */
    fragment(data: Uint8Array, key: boolean, decodeTime: number, serverTime: number): boolean {
      if (ws.readyState !== ws.OPEN) return false;
      if (ws.bufferedAmount > MAX_QUEUED_BYTES) {
        skipping = true;
        return false;
      }
      if (skipping && !key) return false;
      skipping = false;
      const now = Date.now();
      if (now - lastClock >= CLOCK_EVERY_MS) {
        lastClock = now;
        text({ type: 'clock', mediaTime: decodeTime / timescale, serverTime });
      }
      ws.send(data);
      return true;
    },
  };
}
/** A live view outlasting its session is cut: sessions end (logout, expiry) while video plays. */
const RECHECK_SESSION_MS = 30_000;

const VIDEO_PATH = /^\/api\/v1\/cameras\/([^/?#]+)\/(live|playback)$/;

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason =
    { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * Live video: `GET /api/v1/cameras/:id/live` upgraded to a WebSocket, fed from the camera's
 * restreamer (its one RTSP session). Authenticated like every route (session cookie or
 * bearer, role from the contract's route table), a liaison only for cameras in scope, and
 * audited once per view. The upgrade is handled here because Fastify routes plain requests
 * only; socket.io keeps its own path on the same server.
 */
export function registerLiveVideo(
  ctx: CoreContext,
  repo: CameraCatalog,
  service: CameraService,
  users: UserStore,
  scopeOf: (id: string) => AlertScope,
): void {
  const { http } = ctx;
  const log = ctx.log.child({ name: 'live-video' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  const access = {
    live: cameraRoutes.cameraLive.roles as RouteAccess,
    playback: cameraRoutes.cameraPlayback.roles as RouteAccess,
  };

  for (const path of [cameraRoutes.cameraLive.path, cameraRoutes.cameraPlayback.path])
    http.get(path, async (_req, reply) =>
      reply
        .status(426)
        .header('upgrade', 'websocket')
        .send({ error: { code: 'bad_request', message: 'video is a WebSocket: send an Upgrade: websocket request' } }),
    );

  const who = async (req: IncomingMessage): Promise<{ user: User; tokenHash: string; via: 'bearer' | 'cookie' } | null> => {
    const authz = req.headers.authorization;
    if (authz?.startsWith('Bearer ')) {
      const r = await users.resolve(authz.slice(7).trim());
      return r ? { ...r, via: 'bearer' } : null;
    }
    const cookie = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    const r = cookie ? await users.resolve(cookie) : null;
    return r ? { ...r, via: 'cookie' } : null;
  };

  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const [path, search] = (req.url ?? '').split('?');
    const m = VIDEO_PATH.exec(path ?? '');
    if (!m) return; // socket.io's upgrade, or nobody's (socket.io closes those)
    const mode = m[2] === 'playback' ? 'playback' : 'live';
    let id: string;
    try {
      id = decodeURIComponent(m[1] ?? '');
    } catch {
      return refuse(socket, 404, 'not_found', 'no such camera');
    }
    const ip = req.socket.remoteAddress ?? null;
    const a = await who(req);
    if (!a)
      return refuse(
        socket,
        401,
        'unauthorized',
        'sign in first: this request has no valid session (send the session cookie or Authorization: Bearer <token>)',
      );
    // A cookie rides along on any page's WebSocket; only our own pages may use it (no CSWSH).
    if (a.via === 'cookie') {
      const origin = req.headers.origin;
      let sameHost = false;
      try {
        sameHost = origin !== undefined && new URL(origin).host === req.headers.host;
      } catch {
        sameHost = false;
      }
      if (!sameHost) return refuse(socket, 403, 'forbidden', "cookie-authenticated live video must come from the console's own origin");
    }
    if (!roleAllows(access[mode], a.user.role))
      return refuse(socket, 403, 'forbidden', `role "${a.user.role}" may not watch ${mode === 'live' ? 'live video' : 'recordings'}`);
    const cam = repo.get(id);
    if (!cam) return refuse(socket, 404, 'not_found', `no camera with id ${id}`);
    if (!canSee(a.user, { kind: mode === 'live' ? 'live-video' : 'recording', cameraId: id, scope: scopeOf(id) })) {
      // Audited before the refusal; the refusal does not wait for it (nothing is shown either way).
      void ctx.audit.trail
        .append({
          actorId: a.user.id,
          actor: a.user.username,
          action: mode === 'live' ? 'video.live_denied' : 'video.playback_denied',
          target: `camera:${id}`,
          detail: { reason: 'out of scope' },
          ip,
        })
        .catch((err: unknown) => log.error({ err, cameraId: id }, 'cannot audit a refused video request'));
      // Same answer as an unknown camera: a liaison learns nothing about cameras outside their scope.
      return refuse(socket, 404, 'not_found', `no camera with id ${id}`);
    }
    if (mode === 'playback') {
      const q = PlaybackQuery.safeParse(Object.fromEntries(new URLSearchParams(search ?? '')));
      if (!q.success)
        return refuse(socket, 400, 'validation_failed', 'at: the playback start, in ms since the epoch (?at=1733100000000), is required');
      const at = q.data.at;
      // The socket waits for the segment index read; a failed read is answered (500), not dropped.
      void service.segments
        .overlapping(id, at, Date.now())
        .then((segments) => {
          if (segments.length === 0)
            return refuse(socket, 404, 'not_found', `camera ${id} has no recording at or after ${new Date(at).toISOString()}`);
          wss.handleUpgrade(req, socket, head, (ws) => void watch(ws, id, playback(ws, id, a, ip, at, segments)));
        })
        .catch((err: unknown) => {
          log.error({ err, cameraId: id }, 'cannot read the recording index for playback');
          refuse(socket, 500, 'internal', 'the recording index could not be read');
        });
      return;
    }
    if (!service.liveAvailable(id)) return refuse(socket, 503, 'unavailable', `camera ${id} is not running`);
    wss.handleUpgrade(req, socket, head, (ws) => void watch(ws, id, serve(ws, cam, a, ip)));
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    void upgrade(req, socket, head).catch((err: unknown) => {
      log.error({ err }, 'live video upgrade failed');
      socket.destroy();
    });
  };

  /** A view starts once its audit record is stored; when that fails the viewer is told and nothing is shown. */
  const watch = (ws: WebSocket, id: string, started: Promise<void>): Promise<void> =>
    started.catch((err: unknown) => {
      log.error({ err, cameraId: id }, 'cannot audit a video view; refused');
      ws.close(1011, 'cannot audit the view');
    });

  /** Ends a view when its session does (logout, expiry, revocation). */
  const recheckSession = (ws: WebSocket, tokenHash: string): NodeJS.Timeout =>
    setInterval(() => {
      void users
        .resolveHash(tokenHash)
        .then((s) => {
          if (!s) ws.close(4401, 'session ended');
        })
        .catch((err: unknown) => log.error({ err }, 'live video session check failed'));
    }, RECHECK_SESSION_MS);

  /**
   * The rolling recording from `at`, in the live protocol: `stream`, the init, fragments paced
   * in real time, a `clock` once a second carrying the recorded wall-clock time of the next
   * fragment (so the player shows when it was recorded), and a close with PLAYBACK_END_CODE
   * once everything recorded has been played.
   */
  const playback = async (
    ws: WebSocket,
    id: string,
    a: { user: User; tokenHash: string },
    ip: string | null,
    at: number,
    segments: Awaited<ReturnType<CameraService['segments']['overlapping']>>,
  ): Promise<void> => {
    await ctx.audit.trail.append({
      actorId: a.user.id,
      actor: a.user.username,
      action: 'video.playback',
      target: `camera:${id}`,
      detail: { at: new Date(at).toISOString() },
      ip,
    });
    const out = fmp4Sender(ws);
    const text = out.text;
    const player = new RecordingPlayback({ cameraId: id, segments, fromMs: at, ffmpegPath: ctx.config.ingest.ffmpegPath, log });
    try {
      player.start({
        init: (data, info) => out.init(data, info),
        // The clock carries the recorded time, so the player shows when it was recorded.
        fragment: (data, key, decodeTime, recordedAt) => void out.fragment(data, key, decodeTime, recordedAt),
        end(reason, done) {
          text({ type: 'ended', reason });
          ws.close(done ? PLAYBACK_END_CODE : 1011, done ? 'end of the recording' : 'playback failed');
        },
      });
    } catch (err) {
      text({ type: 'error', code: 'not_found', message: (err as Error).message });
      ws.close(1011, 'nothing recorded');
      return;
    }
    const recheck = recheckSession(ws, a.tokenHash);
    ws.on('message', () => undefined);
    ws.on('error', (err) => log.debug({ err: err.message, cameraId: id }, 'playback viewer socket error'));
    ws.on('close', () => {
      clearInterval(recheck);
      void player.stop();
    });
  };

  const serve = async (ws: WebSocket, cam: CameraRecord, a: { user: User; tokenHash: string }, ip: string | null): Promise<void> => {
    const id = cam.id;
    // Held until the viewer leaves: for a camera an analytics node runs, the core's session for viewers lives that long.
    const hold = service.holdLive(cam);
    if (!hold) return ws.close(1011, 'camera stopped');
    const live = hold.source;
    const started = Date.now();
    try {
      await ctx.audit.trail.append({
        actorId: a.user.id,
        actor: a.user.username,
        action: 'video.live',
        target: `camera:${id}`,
        detail: {},
        ip,
      });
    } catch (err) {
      hold.release();
      throw err;
    }
    // The viewer left while the view was being audited.
    if (ws.readyState !== ws.OPEN) return hold.release();
    let sent = 0;
    const out = fmp4Sender(ws);
    const text = out.text;
    const sink: LiveSink = {
      init: (data, info) => out.init(data, info),
      fragment(data, key, decodeTime) {
        if (out.fragment(data, key, decodeTime, Date.now())) sent++;
      },
      end(reason) {
        text({ type: 'ended', reason });
        // The camera was stopped or reconfigured: a new restreamer replaces this one, so the
        // player reconnects to it. Otherwise the same stream resumes with a new init.
        if (reason === 'stopped') ws.close(1012, 'camera restarted');
      },
    };
    const detach = live.attach(sink);
    const recheck = recheckSession(ws, a.tokenHash);
    ws.on('message', () => undefined); // nothing is expected from the viewer; maxPayload caps it
    ws.on('error', (err) => log.debug({ err: err.message, cameraId: id }, 'live viewer socket error'));
    ws.on('close', () => {
      clearInterval(recheck);
      detach();
      hold.release();
      log.debug(
        { cameraId: id, user: a.user.username, seconds: Math.round((Date.now() - started) / 1000), fragments: sent },
        'live view ended',
      );
    });
  };

  // wss.clients holds every socket handleUpgrade accepted, until it closes.
  const unanswered = new WeakSet<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (unanswered.has(ws)) {
        log.info('a viewer socket did not answer its ping; dropped');
        ws.terminate();
        continue;
      }
      unanswered.add(ws);
      ws.once('pong', () => unanswered.delete(ws));
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  http.server.on('upgrade', onUpgrade);
  ctx.onClose(() => {
    clearInterval(heartbeat);
    http.server.off('upgrade', onUpgrade);
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
}
