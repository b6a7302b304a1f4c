import { join } from 'node:path';
import { CameraMount, GeoPoint } from '../../contract';
import type { Zone } from '../../contract/zones';
import { FightWorker } from '../../analytics/inference';
import { cameraServices } from '../cameras';
import type { CoreContext, Feature } from '../feature';
import { feedsOf } from '../feeds/feature';
import { registerAnalyticsRoutes } from './routes';
import type { GateOptions } from '../../analytics/motion/gate';
import { CameraRunner, type AnalysedCamera } from './runner';
import { alertScope } from './scope';
import { ModelManager } from './models';
import { ModelChoiceStore, OccupancyStore, ZoneStore } from './store';
import { DEMO_ZONES } from './demo-zones';

interface CameraRow {
  id: string;
  name: string;
  url: string;
  mount: string;
  location: string | null;
  analytics_enabled: number;
  demo: number;
}

/** How often the set of analysed cameras is re-read (a camera added, analytics switched on). */
const REFRESH_MS = 3000;

/**
 * Live analytics: for every camera with analytics enabled and at least one zone, runs the
 * pipeline (detect -> track -> zones -> rules) on its analysis frames, persists alerts
 * through the alert store (which publishes them on the bus), keeps the occupancy series,
 * and serves alerts, snapshots, zones and occupancy over REST (routes.ts).
 */
export const analyticsFeature: Feature = {
  name: 'analytics',
  async register(ctx: CoreContext) {
    const { db, log, config } = ctx;
    const zones = new ZoneStore(db);
    const occupancy = new OccupancyStore(db);
    const snapshotsDir = join(config.dataDir, 'alert-snapshots');
    const runners = new Map<string, CameraRunner>();
    const models = new ModelManager(
      {
        detector: config.analytics.model ?? config.inference.defaultModel,
        fight: config.analytics.fightModel ?? null,
        modelsDir: config.inference.modelsDir,
        assetsDir: config.assetsDir,
        inference: config.inference,
      },
      new ModelChoiceStore(db),
      log,
    );
    const fightWorker = new FightWorker(log);
    let closed = false;

    const readCameras = (): AnalysedCamera[] => {
      const rows = db
        .prepare('SELECT id, name, url, mount, location, analytics_enabled, demo FROM cameras ORDER BY name')
        .all() as CameraRow[];
      return rows
        .filter((r) => r.analytics_enabled === 1)
        .map((r) => ({
          id: r.id,
          name: r.name,
          mount: CameraMount.parse(JSON.parse(r.mount)),
          location: r.location ? GeoPoint.parse(JSON.parse(r.location)) : null,
        }));
    };

    // Demo cameras get zones that make the demo footage raise real alerts (docs/analytics.md).
    if (config.demo) {
      const rows = db.prepare('SELECT id, url FROM cameras WHERE demo = 1').all() as Pick<CameraRow, 'id' | 'url'>[];
      for (const r of rows) {
        const stream = r.url.split('/').pop() ?? '';
        const preset = DEMO_ZONES[stream];
        if (preset && zones.list(r.id).length === 0) zones.replace(r.id, preset);
      }
    }

    const scopeOf = (c: AnalysedCamera) => {
      const f = feedsOf(ctx.bus);
      return alertScope(c.mount, c.location, f?.geo ?? null, f?.feeds ?? null);
    };

    const motion = config.analytics.motion;
    const gateOf = (cameraId: string): GateOptions => ({
      enabled: motion.enabled,
      threshold: motion.threshold,
      keepAliveMs: motion.keepAliveS * 1000,
      holdMs: motion.holdS * 1000,
      masks: motion.masks[cameraId] ?? [],
    });

    /** Brings the runners in line with the cameras and their zones. */
    const refresh = async (): Promise<void> => {
      if (closed || !config.analytics.enabled) return;
      const wanted = new Map<string, { cam: AnalysedCamera; zones: Zone[] }>();
      for (const cam of readCameras()) {
        const z = zones.list(cam.id);
        if (z.length) wanted.set(cam.id, { cam, zones: z });
      }
      for (const [id, r] of runners) {
        if (!wanted.has(id)) {
          r.close();
          runners.delete(id);
        }
      }
      await models.sync(wanted.keys());
      if (closed) return;
      for (const [id, w] of wanted) {
        // A camera whose model cannot run is not analysed (the models page and the log say why).
        if (!models.detectorFor(id)) continue;
        const r = runners.get(id);
        if (r) {
          r.camera = w.cam;
          if (JSON.stringify(r.zones) !== JSON.stringify(w.zones)) r.setZones(w.zones);
          continue;
        }
        runners.set(
          id,
          new CameraRunner(w.cam, w.zones, {
            alerts: ctx.alerts,
            occupancy,
            snapshotsDir,
            log,
            scope: scopeOf,
            sampleEveryMs: config.analytics.sampleEveryS * 1000,
            detector: () => models.detectorFor(id),
            fight: () => models.fightChoice(),
            fightWorker,
            gate: gateOf(id),
            onAnalysed: (frame) => ctx.bus.emit('analytics:frame', frame),
          }),
        );
        log.info({ cameraId: id, zones: w.zones.map((z) => z.id) }, 'analytics running');
      }
    };

    const cameras = cameraServices.get(db);
    const unsubscribe = cameras?.onFrame((f) => runners.get(f.cameraId)?.onFrame(f));
    cameras?.setAnalysisSource((id) => runners.get(id)?.health() ?? null);
    if (!cameras) log.warn('no camera service: analytics has no frames');

    registerAnalyticsRoutes(ctx, {
      zones,
      occupancy,
      models,
      analysed: (id) => runners.has(id),
      onZonesChanged: () => void refresh().catch((err: unknown) => log.error({ err }, 'analytics refresh failed')),
    });

    const timer = setInterval(() => void refresh().catch((err: unknown) => log.error({ err }, 'analytics refresh failed')), REFRESH_MS);
    timer.unref();
    const sweep = setInterval(() => {
      try {
        occupancy.sweep(Date.now() - config.analytics.occupancyRetentionHours * 3_600_000);
      } catch (err) {
        log.error({ err }, 'occupancy sweep failed');
      }
    }, 600_000);
    sweep.unref();
    ctx.onClose(async () => {
      closed = true;
      clearInterval(timer);
      clearInterval(sweep);
      unsubscribe?.();
      cameras?.setAnalysisSource(null);
      for (const r of runners.values()) r.close();
      runners.clear();
      await models.close();
      await fightWorker.close();
    });
    await refresh();
  },
};
