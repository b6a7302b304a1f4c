import type { CameraMount } from '../../contract/cameras';
import { rtspDescribe } from '../../analytics/ingest/rtsp-describe';
import { join } from 'node:path';
import type { DemoCamerasStatus } from '../../contract';
import { demoStreams, simulatorAvailable, startSimulator, type SimStreamSpec } from '../../tools/rtsp-sim/sim';
import { startRtspJs } from '../../tools/rtsp-js/server';
import type { CoreStatus } from '../health';
import type { Logger } from '../logger';
import type { CoreContext } from '../feature';
import type { CameraCatalog } from './catalog';

/** Where each demo camera is "mounted", so the map and alerts have something real to show. */
const DEMO_MOUNTS: Record<string, { name: string; mount: CameraMount; location: { lat: number; lon: number } | null }> = {
  'station-platform': {
    name: 'Clark/Lake platform (demo)',
    mount: { kind: 'station', stationId: '40380', platform: 'Inner Loop' },
    location: { lat: 41.885737, lon: -87.630886 },
  },
  'station-entrance': {
    name: 'Jackson Blue Line entrance (demo)',
    mount: { kind: 'station', stationId: '40070', platform: 'Mezzanine' },
    location: { lat: 41.878183, lon: -87.629296 },
  },
  'bus-operator-cab': { name: 'Bus 1234 operator cab (demo)', mount: { kind: 'operator_cab', vehicleId: '1234' }, location: null },
  'railcar-interior': { name: 'Railcar 5001 interior (demo)', mount: { kind: 'railcar', railcarId: '5001', line: 'Red' }, location: null },
};

/**
 * `sentinel serve --demo`: starts the camera simulator (unless one already answers on the
 * demo port, e.g. `sentinel sim cameras` in another terminal) and registers its streams as
 * cameras. The simulator is tied to the core: it stops on close, and dies with the core.
 */
export async function startDemoCameras(ctx: CoreContext, repo: CameraCatalog, coreStatus: CoreStatus): Promise<void> {
  const log = ctx.log.child({ name: 'demo-cameras' });
  if (!ctx.config.assetsDir) {
    log.warn('demo cameras need the assets pack (media/); none registered');
    return;
  }
  const streams = demoStreams(ctx.config.assetsDir);
  if (streams.length === 0) {
    log.warn({ assetsDir: ctx.config.assetsDir }, 'no demo footage found in the assets; no demo cameras');
    return;
  }
  const port = ctx.config.ingest.demoRtspPort;
  const host = '127.0.0.1';
  const already = await rtspDescribe(`rtsp://${host}:${port}/${streams[0]!.name}`, { timeoutMs: 1000 });
  const status = (server: DemoCamerasStatus['server'], note: string | null): void => {
    coreStatus.demoCameras = { server, note };
  };
  if (already.kind === 'ok') {
    log.info({ port }, 'using the camera simulator already running');
    status('external', `a simulator already answers on port ${port}`);
  } else {
    const noGst = simulatorAvailable();
    let gstError = noGst;
    if (!noGst) {
      try {
        const sim = await startSimulator({ host, port, streams, ffmpegPath: ctx.config.ingest.ffmpegPath });
        log.info({ port, pid: sim.pid, streams: sim.streams.map((s) => s.name) }, 'camera simulator started');
        status('gstreamer', null);
        ctx.onClose(() => sim.close());
      } catch (err) {
        gstError = (err as Error).message;
      }
    }
    if (gstError) startBuiltInServer(ctx, log, host, port, streams, gstError, status);
  }
  for (const s of streams) {
    const meta = DEMO_MOUNTS[s.name];
    const name = meta?.name ?? `${s.name} (demo)`;
    if (repo.findByName(name)) continue;
    await repo.create(
      {
        name,
        url: `rtsp://${host}:${port}/${s.name}`,
        mount: meta?.mount ?? { kind: 'other' },
        location: meta?.location ?? null,
        analyticsEnabled: true,
      },
      { demo: true },
    );
  }
}

/**
 * Without GStreamer (a machine with only Node): the built-in TypeScript RTSP server. Its
 * first start encodes each footage file once (seconds per file, cached in the data
 * directory), so it starts in the background: the cameras register at once and connect as
 * soon as it answers (ingest's DESCRIBE check notices within a second).
 */
function startBuiltInServer(
  ctx: CoreContext,
  log: Logger,
  host: string,
  port: number,
  streams: SimStreamSpec[],
  why: string,
  status: (server: DemoCamerasStatus['server'], note: string | null) => void,
): void {
  const note = `GStreamer simulator unavailable (${why}); demo cameras come from the built-in RTSP server`;
  log.warn(
    { port, reason: why },
    'GStreamer camera simulator unavailable: serving the demo footage with the built-in RTSP server (rtsp-js)',
  );
  status('rtsp-js', `${note} (starting)`);
  let closed = false;
  let close: (() => Promise<void>) | null = null;
  ctx.onClose(async () => {
    closed = true;
    await close?.();
  });
  void startRtspJs({
    host,
    port,
    streams: streams.map((s) => ({ name: s.name, file: s.file, fps: s.fps ?? 10 })),
    ffmpegPath: ctx.config.ingest.ffmpegPath,
    cacheDir: join(ctx.config.dataDir, 'demo-cache'),
    log,
  })
    .then(async (srv) => {
      if (closed) return srv.close();
      close = () => srv.close();
      status('rtsp-js', note);
    })
    .catch((err: unknown) => {
      status('none', `${note}, which failed: ${(err as Error).message}`);
      log.error({ err: (err as Error).message }, 'cannot start the built-in RTSP server; demo cameras will show offline');
    });
}
