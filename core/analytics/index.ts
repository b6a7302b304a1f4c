import { join } from 'node:path';
import type { Zone } from '../../contract/zones';
import { FightWorker } from '../../analytics/inference';
import type { CameraService } from '../cameras';
import type { CameraCatalog } from '../cameras/catalog';
import type { Feature } from '../feature';
import type { Feeds } from '../feeds/feature';
import { registerAnalyticsRoutes } from './routes';
import type { GateOptions } from '../../analytics/motion/gate';
import { openReid } from './reid';
import { CameraRunner, type AnalysedCamera } from './runner';
import { alertScope, vehicleSpeed } from './scope';
import { ModelManager } from './models';
import { nodeFightStates } from '../nodes/fight';
import type { ZoneStore } from './store';
import { ModelChoiceStore, OccupancyStore } from './store';
import { DEMO_ZONES } from './demo-zones';

/** How often the set of analysed cameras is re-read (a camera added, analytics switched on). */
const REFRESH_MS = 3000;

/**
 * Live analytics: for every camera with analytics enabled and at least one zone, runs the
 * pipeline (detect -> track -> zones -> rules) on its analysis frames, persists alerts
 * through the alert store (which publishes them on the bus), keeps the occupancy series,
 * and serves alerts, snapshots, zones and occupancy over REST (routes.ts).
 */
export interface AnalyticsNeeds {
  /** Frames come from the cameras' ingest; analysis health goes back onto each camera's. */
  cameras: CameraService;
  /** Which cameras to analyse, and where they are. */
  cameraRepo: CameraCatalog;
  feeds: Feeds;
  /** The zones repository (this feature's table; built in core/app.ts, where others read the privacy masks). */
  zones: ZoneStore;
}

export const analyticsFeature: Feature<AnalyticsNeeds> = {
  name: 'analytics',
  async register(ctx) {
    const { sql, log, config, cameras, cameraRepo, feeds, zones } = ctx;
    const occupancy = new OccupancyStore(sql);
    const snapshotsDir = join(config.dataDir, 'alert-snapshots');
    const runners = new Map<string, CameraRunner>();
    const models = new ModelManager(
      {
        detector: config.analytics.model ?? config.inference.defaultModel,
        fight: config.analytics.fightModel ?? null,
        modelsDir: config.inference.modelsDir,
        manifestDir: config.inference.manifestDir,
        assetsDir: config.assetsDir,
        inference: config.inference,
        nodeFight: config.analytics.nodes ? () => nodeFightStates(sql) : undefined,
      },
      new ModelChoiceStore(sql),
      log,
    );
    await models.load();
    const fightWorker = new FightWorker(log);
    let closed = false;
    // Re-ID: one embedder for every camera.
    const { embedder, error: reidError } = await openReid(config, log);
    const reid = embedder ? { embedder, options: config.analytics.reid } : undefined;

    const readCameras = (): AnalysedCamera[] =>
      cameraRepo
        .list()
        .filter((c) => c.analyticsEnabled)
        .map((c) => ({ id: c.id, name: c.name, mount: c.mount, location: c.location }));

    // Demo cameras get zones that make the demo footage raise real alerts (docs/analytics.md).
    if (config.demo) {
      for (const c of cameraRepo.list()) {
        if (!c.demo) continue;
        const preset = DEMO_ZONES[c.url.split('/').pop() ?? ''];
        if (preset && (await zones.list(c.id)).length === 0) await zones.replace(c.id, preset);
      }
    }

    const scopeOf = (c: AnalysedCamera) => alertScope(c.mount, c.location, feeds.geo, feeds.service);

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
      // With analytics nodes the pipeline runs on the nodes (core/nodes), not here.
      if (closed || !config.analytics.enabled || config.analytics.nodes) return;
      const wanted = new Map<string, { cam: AnalysedCamera; zones: Zone[] }>();
      for (const cam of readCameras()) {
        const z = await zones.list(cam.id);
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
            speedOf: (c) => vehicleSpeed(c.mount, feeds.service),
            sampleEveryMs: config.analytics.sampleEveryS * 1000,
            detector: () => models.detectorFor(id),
            fight: () => models.fightChoice(),
            fightWorker,
            gate: gateOf(id),
            ...(reid ? { reid } : {}),
            reidError,
            onAnalysed: (frame) => ctx.bus.emit('analytics:frame', frame),
          }),
        );
        log.info({ cameraId: id, zones: w.zones.map((z) => z.id) }, 'analytics running');
      }
    };

    const unsubscribe = cameras.onFrame((f) => {
      const runner = runners.get(f.cameraId);
      if (runner) runner.onFrame(f);
      else f.release(); // no analytics for this camera: its buffer can go back at once
    });
    if (!config.analytics.nodes) cameras.setAnalysisSource((id) => runners.get(id)?.health() ?? null);

    registerAnalyticsRoutes(ctx, {
      zones,
      occupancy,
      cameraRepo,
      models,
      analysed: (id) => runners.has(id),
      onZonesChanged: () => void refresh().catch((err: unknown) => log.error({ err }, 'analytics refresh failed')),
    });

    const timer = setInterval(() => void refresh().catch((err: unknown) => log.error({ err }, 'analytics refresh failed')), REFRESH_MS);
    timer.unref();
    const sweep = setInterval(() => {
      void occupancy
        .sweep(Date.now() - config.analytics.occupancyRetentionHours * 3_600_000)
        .catch((err: unknown) => log.error({ err }, 'occupancy sweep failed'));
    }, 600_000);
    sweep.unref();
    ctx.onClose(async () => {
      closed = true;
      clearInterval(timer);
      clearInterval(sweep);
      unsubscribe();
      if (!config.analytics.nodes) cameras.setAnalysisSource(null);
      for (const r of runners.values()) r.close();
      runners.clear();
      await models.close();
      await fightWorker.close();
      await embedder?.close();
    });
    await refresh();
  },
};
