import { createReadStream, existsSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  alertRoutes,
  CameraModelChoice,
  ModelChoice,
  modelRoutes,
  AlertListQuery,
  OccupancyQuery,
  ZonesFile,
  formatZoneIssue,
  privacyMasks,
  type CameraZones,
  type OccupancySeries,
  type PrivacyMaskList,
} from '../../contract';
import { canSee } from '../access/visibility';
import type { StoredAlert } from '../alerts/store';
import { SentinelError } from '../errors';
import type { CameraCatalog } from '../cameras/catalog';
import type { CoreContext } from '../feature';
import { parseInput } from '../http/errors';
import type { ModelManager } from './models';
import type { OccupancyStore, ZoneStore } from './store';

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
const ZoneParams = z.strictObject({ id: z.string().min(1).max(100), zoneId: z.string().min(1).max(64) });

export function registerAnalyticsRoutes(
  ctx: CoreContext,
  deps: {
    zones: ZoneStore;
    occupancy: OccupancyStore;
    cameraRepo: CameraCatalog;
    models: ModelManager;
    /** Whether a camera is analysed now. */
    analysed(cameraId: string): boolean;
    onZonesChanged(): void;
  },
): void {
  const { http } = ctx;
  const requireCamera = (id: string): void => {
    if (!deps.cameraRepo.get(id)) throw new SentinelError(`no camera with id ${id}`, 'not_found', 'id');
  };
  // Whether the caller may see this alert is decided before the handler, by the route gate
  // (core/access/gate.ts, canSee with the alert's escalation); here an absent alert is a 404.
  const alertOr404 = async (id: string): Promise<StoredAlert> => {
    const a = await ctx.alerts.get(id);
    if (!a) throw new SentinelError(`no alert with id ${id}`, 'not_found', 'id');
    return a;
  };

  http.get(alertRoutes.alerts.path, async (req) => {
    const q = parseInput(AlertListQuery, req.query, 'query');
    // Filtered after the query for liaisons and kinds: ask for more so a page is still full.
    const filtered = q.kind !== undefined || req.auth?.user.role === 'liaison';
    const limit = q.limit ?? 200;
    const rows = await ctx.alerts.list({
      limit: filtered ? 5000 : limit,
      ...(q.afterSeq !== undefined ? { afterSeq: q.afterSeq } : {}),
      ...(q.cameraId ? { cameraId: q.cameraId } : {}),
    });
    const user = req.auth?.user;
    const kindOk = rows.filter((r) => q.kind === undefined || r.alert.kind === q.kind);
    // A liaison's list by the one rule: in scope, or escalated to them as the escalation
    // liaison (asked once for all the out-of-scope ones).
    const outside = user ? kindOk.filter((r) => !canSee(user, { kind: 'alert', scope: r.alert.scope, escalated: false })) : [];
    const escalated =
      user?.scope.escalation && outside.length
        ? await ctx.lifecycle.service.escalatedAmong(outside.map((r) => r.alert.id))
        : new Set<string>();
    const alerts = kindOk
      .filter((r) => !user || canSee(user, { kind: 'alert', scope: r.alert.scope, escalated: escalated.has(r.alert.id) }))
      .slice(0, limit);
    return { alerts: alerts.map((r) => ({ seq: r.seq, alert: r.alert })) };
  });

  http.get(alertRoutes.alert.path, async (req) => (await alertOr404(parseInput(IdParams, req.params, 'params').id)).alert);

  http.get(alertRoutes.alertSnapshot.path, async (req, reply) => {
    const a = await alertOr404(parseInput(IdParams, req.params, 'params').id);
    if (!a.snapshotPath || !existsSync(a.snapshotPath)) throw new SentinelError(`alert ${a.alert.id} has no snapshot`, 'not_found');
    await ctx.audit.view(req, 'alert.snapshot.view', a.alert.id);
    return reply
      .header('content-type', 'image/jpeg')
      .header('cache-control', 'private, max-age=3600')
      .send(createReadStream(a.snapshotPath));
  });

  http.get(alertRoutes.cameraZones.path, async (req): Promise<CameraZones> => {
    const { id } = parseInput(IdParams, req.params, 'params');
    requireCamera(id);
    return { cameraId: id, zones: await deps.zones.list(id) };
  });

  http.get(alertRoutes.cameraPrivacyMasks.path, async (req): Promise<PrivacyMaskList> => {
    const { id } = parseInput(IdParams, req.params, 'params');
    requireCamera(id);
    return { cameraId: id, masks: privacyMasks(await deps.zones.list(id)) };
  });

  http.put(alertRoutes.cameraZonesPut.path, async (req): Promise<CameraZones> => {
    const { id } = parseInput(IdParams, req.params, 'params');
    requireCamera(id);
    // The ZONES.json messages ("zones[1] ("door").polygon: ..."), the same as the CLI's.
    const r = ZonesFile.safeParse(req.body);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new SentinelError(`body: ${formatZoneIssue(r.error, req.body)}`, 'validation_failed', issue?.path.map(String).join('.'));
    }
    await deps.zones.replace(id, r.data.zones);
    await ctx.audit.record(req, 'zones.replace', id, { zones: r.data.zones.map((z) => ({ id: z.id, kind: z.kind })) });
    deps.onZonesChanged();
    return { cameraId: id, zones: await deps.zones.list(id) };
  });

  http.get(alertRoutes.zoneOccupancy.path, async (req): Promise<OccupancySeries> => {
    const { id, zoneId } = parseInput(ZoneParams, req.params, 'params');
    const q = parseInput(OccupancyQuery, req.query, 'query');
    requireCamera(id);
    const zone = (await deps.zones.list(id)).find((z) => z.id === zoneId);
    if (!zone) throw new SentinelError(`camera ${id} has no zone ${zoneId}`, 'not_found', 'zoneId');
    const since = Date.now() - (q.minutes ?? 60) * 60_000;
    return { cameraId: id, zoneId, capacity: zone.capacity ?? null, points: await deps.occupancy.series(id, zoneId, since) };
  });

  registerModelRoutes(ctx, deps.models, requireCamera, deps.onZonesChanged);
}

/**
 * Model swaps. Each answer comes after the new model is running (or refused): a refusal is a
 * 400 naming the model and why, and the trail records who tried what either way.
 */
function registerModelRoutes(ctx: CoreContext, models: ModelManager, requireCamera: (id: string) => void, changed: () => void): void {
  const { http } = ctx;
  const by = (req: FastifyRequest): string | null => req.auth?.user.username ?? null;
  const attempt = async <T>(
    req: FastifyRequest,
    action: string,
    target: string | null,
    to: string | null,
    fn: () => Promise<T>,
  ): Promise<T> => {
    try {
      const r = await fn();
      await ctx.audit.record(req, action, target, { to, ...r });
      return r;
    } catch (err) {
      if (err instanceof SentinelError) await ctx.audit.record(req, action, target, { to, refused: err.message });
      throw err;
    }
  };

  http.get(modelRoutes.analyticsModels.path, async () => models.state());

  http.put(modelRoutes.analyticsDetectorPut.path, async (req) => {
    const { model } = parseInput(ModelChoice, req.body, 'body');
    await attempt(req, 'analytics.model.detector', null, model, () => models.setDetector(model, by(req)));
    changed();
    return models.state();
  });

  http.put(modelRoutes.analyticsFightPut.path, async (req) => {
    const { model } = parseInput(ModelChoice, req.body, 'body');
    await attempt(req, 'analytics.model.fight', null, model, () => models.setFight(model, by(req)));
    return models.state();
  });

  http.get(modelRoutes.cameraModel.path, async (req) => {
    const { id } = parseInput(IdParams, req.params, 'params');
    requireCamera(id);
    return { cameraId: id, ...models.camera(id) };
  });

  http.put(modelRoutes.cameraModelPut.path, async (req) => {
    const { id } = parseInput(IdParams, req.params, 'params');
    requireCamera(id);
    const { model } = parseInput(CameraModelChoice, req.body, 'body');
    await attempt(req, 'analytics.model.camera', id, model, () => models.setCamera(id, model, by(req)));
    changed();
    return { cameraId: id, ...models.camera(id) };
  });
}
