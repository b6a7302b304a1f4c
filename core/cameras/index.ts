import { createReadStream, existsSync } from 'node:fs';
import { z } from 'zod';
import {
  CameraCreate,
  CameraUpdate,
  ClipRequest,
  cameraRoutes,
  type Camera,
  type CameraHealth,
  type RecordingSpans,
} from '../../contract/cameras';
import { ClipError } from '../../analytics/recording/clips';
import { CAMERAS_ALL_ROOM, canSee, scopedViewers, socketSees, type CameraScopes } from '../access';
import { SentinelError } from '../errors';
import type { UserStore } from '../auth/store';
import type { Feature } from '../feature';
import { parseInput } from '../http/errors';
import { alertScope } from '../analytics/scope';
import type { Feeds } from '../feeds/feature';
import type { CoreStatus } from '../health';
import { startDemoCameras } from './demo';
import { registerLiveVideo } from './live';
import { AutoEvidence, registerEvidenceRoutes, type EvidenceRefs } from './evidence';
import type { CameraCatalog } from './catalog';
import { CameraService } from './service';
import { registerTechnicianRoutes } from './technician-routes';
import { registerWallRoutes } from '../wall/routes';
import type { Point } from '../../contract/zones';
import { maskJpeg } from '../../analytics/redaction/redact';

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });

/** Segments closer than this are one span on the scrub bar (the segmenter's own cut is ~0 ms). */
const SPAN_GAP_MS = 2000;

/** Joins a camera's segments (oldest first) into the contiguous spans the scrub bar draws. */
export function recordedSpans(segments: readonly { startMs: number; endMs: number }[]): RecordingSpans['spans'] {
  const out: Array<{ from: number; to: number }> = [];
  for (const s of segments) {
    const last = out.at(-1);
    if (last && s.startMs - last.to <= SPAN_GAP_MS) last.to = Math.max(last.to, s.endMs);
    else out.push({ from: s.startMs, to: s.endMs });
  }
  return out.map((s) => ({ from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString() }));
}

function toMs(v: string | number): number {
  return typeof v === 'number' ? v : Date.parse(v);
}

/**
 * Cameras: CRUD under /api/v1/cameras, health and changes over socket.io, one ingest
 * supervisor and one recorder per camera, snapshots for the console tiles, clips. Every
 * camera leaving the core goes through CameraService.toPublic (URLs masked, no secrets).
 */
export interface CamerasNeeds {
  /** The camera records, in memory (built in core/app.ts: the visibility rule places cameras from it). */
  cameraRepo: CameraCatalog;
  /** Where each camera is, for the visibility rule: camera records and health reach only the sockets whose user may see the camera. */
  scopes: CameraScopes;
  feeds: Feeds;
  /** Sessions, for the live-video WebSocket (authenticated outside Fastify's hooks). */
  users: UserStore;
  /** The demo cameras' server is reported here (health, socket hello). */
  status: CoreStatus;
  /** A camera's privacy masks (the analytics' zones of kind `privacy`), pixelated in its snapshots. */
  privacyMasks: (cameraId: string) => Promise<Point[][]>;
  /** Whether an alert's footage must still be kept, from the alerts', incidents' and review's own stores. */
  evidenceRefs: EvidenceRefs;
}

export const camerasFeature: Feature<CamerasNeeds, { cameras: CameraService }> = {
  name: 'cameras',
  async register(ctx) {
    const { http, io, log, bus, cameraRepo: repo, scopes, feeds } = ctx;
    const sendUpsert = (c: Camera): void => {
      scopes.forget(c.id);
      io.to(CAMERAS_ALL_ROOM).emit('camera:upsert', c);
      for (const s of scopedViewers(io, scopes, c.id, 'camera')) s.emit('camera:upsert', c);
    };
    const service = new CameraService(ctx.config, ctx.sql, log, (cameraId: string, health: CameraHealth) => {
      io.to(CAMERAS_ALL_ROOM).emit('camera:health', { cameraId, health });
      for (const s of scopedViewers(io, scopes, cameraId, 'camera-health')) s.emit('camera:health', { cameraId, health });
      bus.emit('camera:health', { cameraId, health });
    });
    const pub = (id: string): Camera => {
      const c = repo.get(id);
      if (!c) throw new SentinelError(`no camera with id ${id}`, 'not_found', 'id');
      return service.toPublic(c);
    };

    // A camera another replica changed: this process's copy of it is already re-read (catalog.ts);
    // what runs here follows it as the writing replica's own did (restart on a new connection,
    // stop when deleted, start when new: with analytics nodes start is a no-op).
    const offChange = repo.onChange(({ id, before, after, origin }) => {
      scopes.forget(id);
      if (origin !== 'replica') return;
      const reconnect =
        !before ||
        !after ||
        before.url !== after.url ||
        before.subUrl !== after.subUrl ||
        before.recordingEnabled !== after.recordingEnabled ||
        JSON.stringify(before.credentials) !== JSON.stringify(after.credentials);
      if (!reconnect) return;
      const p = after ? (before ? service.restart(after) : Promise.resolve(service.start(after))) : service.stop(id);
      void p.catch((err: unknown) => log.error({ err, cameraId: id }, 'cannot follow a camera another replica changed'));
    });

    registerTechnicianRoutes(ctx, repo, service, sendUpsert);
    registerLiveVideo(ctx, repo, service, ctx.users, (id) => {
      const c = repo.get(id);
      return c ? alertScope(c.mount, c.location, feeds.geo, feeds.service) : { placement: null, district: null, lines: [], routes: [] };
    });
    registerWallRoutes(ctx, {
      list: () => repo.list(),
      scopeOf: (id) => scopes.of(id),
      stationName: (stationId) => feeds.geo?.stationById.get(stationId)?.name ?? null,
    });
    http.get(cameraRoutes.cameras.path, async (req) => {
      const user = req.auth?.user;
      const list = repo.list().filter((c) => {
        if (!user) return false;
        const scope = scopes.of(c.id);
        return scope !== null && canSee(user, { kind: 'camera', cameraId: c.id, scope });
      });
      return { cameras: list.map((c) => service.toPublic(c)) };
    });
    http.get(cameraRoutes.camera.path, async (req) => pub(parseInput(IdParams, req.params, 'params').id));
    http.post(cameraRoutes.cameraCreate.path, async (req, reply) => {
      const input = parseInput(CameraCreate, req.body);
      const c = await repo.create(input);
      service.start(c);
      const out = service.toPublic(c);
      log.info({ cameraId: c.id, name: c.name, url: out.url }, 'camera registered');
      await ctx.audit.record(req, 'camera.create', `camera:${c.id}`, { name: c.name, url: out.url });
      sendUpsert(out);
      return reply.status(201).send(out);
    });
    http.patch(cameraRoutes.cameraUpdate.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const patch = parseInput(CameraUpdate, req.body);
      const c = await repo.update(id, patch);
      // A new URL or credentials needs a new connection; the rest is metadata.
      if (
        patch.url !== undefined ||
        patch.subUrl !== undefined ||
        patch.username !== undefined ||
        patch.password !== undefined ||
        patch.recordingEnabled !== undefined
      ) {
        await service.restart(c);
      }
      const out = service.toPublic(c);
      // What changed, never the secret itself.
      await ctx.audit.record(req, 'camera.update', `camera:${id}`, { fields: Object.keys(patch), url: out.url });
      sendUpsert(out);
      return out;
    });
    http.delete(cameraRoutes.cameraDelete.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      if (!repo.get(id)) throw new SentinelError(`no camera with id ${id}`, 'not_found', 'id');
      // Who saw the camera is decided before it is gone.
      const viewers = scopedViewers(io, scopes, id, 'camera');
      await service.stop(id);
      await repo.delete(id);
      scopes.forget(id);
      await ctx.audit.record(req, 'camera.delete', `camera:${id}`);
      io.to(CAMERAS_ALL_ROOM).emit('camera:removed', { id });
      for (const s of viewers) s.emit('camera:removed', { id });
      return { deleted: true as const };
    });
    http.get(cameraRoutes.cameraSnapshot.path, async (req, reply) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const record = repo.get(id);
      if (!record) throw new SentinelError(`no camera with id ${id}`, 'not_found', 'id');
      const frame = await service.snapshot(id, record);
      if (!frame) throw new SentinelError(`camera ${id} has no frame yet (${service.health(id).state})`, 'unavailable');
      const masks = await ctx.privacyMasks(id);
      const jpeg = masks.length > 0 ? await maskJpeg(frame, masks) : frame;
      await ctx.audit.view(req, 'video.view', `camera:${id}`);
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store').send(jpeg);
    });
    http.post(cameraRoutes.cameraClipCreate.path, async (req, reply) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      if (!repo.get(id)) throw new SentinelError(`no camera with id ${id}`, 'not_found', 'id');
      const r = parseInput(ClipRequest, req.body);
      const rec = ctx.config.recording;
      const postRollMs = (r.postRollS ?? rec.postRollS) * 1000;
      try {
        const clip = await service.clips.cut(id, toMs(r.from), toMs(r.to), {
          preRollMs: (r.preRollS ?? rec.preRollS) * 1000,
          postRollMs,
          waitForMs: postRollMs + rec.segmentSeconds * 2000,
        });
        await ctx.audit.record(req, 'clip.export', `clip:${clip.id}`, { cameraId: id, from: clip.startAt, to: clip.endAt });
        return reply.status(201).send(clip);
      } catch (err) {
        if (err instanceof ClipError) throw new SentinelError(err.message, err.code);
        throw err;
      }
    });
    http.get(cameraRoutes.cameraRecording.path, async (req): Promise<RecordingSpans> => {
      const { id } = parseInput(IdParams, req.params, 'params');
      if (!repo.get(id)) throw new SentinelError(`no camera with id ${id}`, 'not_found', 'id');
      return { spans: recordedSpans(await service.segments.list(id)), now: new Date().toISOString() };
    });
    http.get(cameraRoutes.cameraClips.path, async (req) => ({
      clips: await service.clips.list(parseInput(IdParams, req.params, 'params').id),
    }));
    const clipOr404 = async (id: string) => {
      const c = await service.clips.get(id);
      if (!c) throw new SentinelError(`no clip with id ${id}`, 'not_found', 'id');
      return c;
    };
    http.get(cameraRoutes.clip.path, async (req) => {
      const { path: _p, snapshotPath: _s, ...clip } = await clipOr404(parseInput(IdParams, req.params, 'params').id);
      return clip;
    });
    http.get(cameraRoutes.clipVideo.path, async (req, reply) => {
      const c = await clipOr404(parseInput(IdParams, req.params, 'params').id);
      if (!existsSync(c.path)) throw new SentinelError(`the file of clip ${c.id} is missing`, 'not_found');
      await ctx.audit.view(req, 'clip.play', `clip:${c.id}`, 60_000);
      return reply.header('content-type', 'video/mp4').header('x-content-sha256', c.sha256).send(createReadStream(c.path));
    });
    http.get(cameraRoutes.clipSnapshot.path, async (req, reply) => {
      const c = await clipOr404(parseInput(IdParams, req.params, 'params').id);
      if (!c.snapshotPath || !existsSync(c.snapshotPath)) throw new SentinelError(`clip ${c.id} has no snapshot`, 'not_found');
      return reply.header('content-type', 'image/jpeg').send(createReadStream(c.snapshotPath));
    });

    io.on('connection', (socket) => {
      socket.emit(
        'cameras:snapshot',
        repo
          .list()
          .filter((c) => socketSees(socket, scopes, c.id, 'camera'))
          .map((c) => service.toPublic(c)),
      );
    });

    // Closers run in reverse: registering the demo simulator's first stops it after the
    // cameras that read from it.
    if (ctx.config.demo) await startDemoCameras(ctx, repo, ctx.status);
    ctx.onClose(() => service.stopAll());
    // Closers run in reverse: remote changes stop being followed before the cameras stop.
    ctx.onClose(offChange);
    // Every alert's footage: held at once, cut as a clip once its post-roll is recorded.
    const refs = ctx.evidenceRefs;
    const rec = ctx.config.recording;
    const evidence = new AutoEvidence(
      ctx.sql,
      bus,
      service.clips,
      refs,
      { preRollMs: rec.alertClip.preRollS * 1000, postRollMs: rec.alertClip.postRollS * 1000, segmentSeconds: rec.segmentSeconds },
      log.child({ name: 'evidence' }),
      ctx.audit,
    );
    registerEvidenceRoutes(ctx, evidence, refs, (id) => repo.get(id) !== null);
    if (rec.alertClip.enabled) {
      const off = await evidence.start();
      ctx.onClose(async () => {
        off();
        await evidence.close();
      });
    }
    await service.startDepth();
    for (const c of repo.list()) service.start(c);
    // One replica sweeps the shared recordings at a time (its lease, core/cluster).
    ctx.cluster.leases.job('retention', () => {
      service.startRetention(() => evidence.releaseAndListHeld());
      return () => service.stopRetention();
    });
    return { cameras: service };
  },
};

export { CameraService };
