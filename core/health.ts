import { routes, type DemoCamerasStatus, type FfmpegStatus, type HealthResponse } from '../contract';
import { chooseFfmpeg, ffmpegVersion } from '../analytics/ingest/ffmpeg-binary';
import type { CoreContext, Feature } from './feature';
import { VERSION } from './version';

function relativeTo(dir: string | null, path: string): string {
  if (dir && path.startsWith(dir)) return path.slice(dir.length).replace(/^[/\\]+/, '') || '.';
  return path.split(/[/\\]/).pop() ?? path;
}

async function lifecycleHealth(ctx: CoreContext, signedIn: boolean): Promise<NonNullable<HealthResponse['lifecycle']>> {
  const w = ctx.lifecycle.alerts.writeStatus();
  let webhookPending: number | null = null;
  try {
    webhookPending = (await ctx.lifecycle.outbox?.pending()) ?? null;
  } catch {
    // A database that cannot answer is what health is for: say unknown, do not fail.
  }
  return {
    pendingAlertWrites: w.pending,
    failedAlertWrites: w.failedAttempts,
    lastWriteError: signedIn ? w.lastError : null,
    webhookPending,
    listenerFailures: ctx.bus.failures,
  };
}

/** What the core runs on, shown by health and the console's status bar (socket hello). */
export interface CoreStatus {
  readonly ffmpeg: FfmpegStatus;
  /** What serves the demo cameras (set by core/cameras/demo.ts); null until then, and without --demo. */
  demoCameras: DemoCamerasStatus | null;
}

/** Which ffmpeg this core runs and its version (`-version` runs once, at start). */
function probeFfmpeg(config: CoreContext['config']): FfmpegStatus {
  const choice = config.ffmpeg ?? chooseFfmpeg(config.ingest);
  const version = ffmpegVersion(config.ingest.ffmpegPath);
  return {
    source: version ? choice.source : 'missing',
    version: version?.version ?? null,
    release: version?.major != null ? `${version.major}.${version.minor ?? 0}` : null,
    path: choice.path,
    ffprobe: choice.ffprobe !== null,
    note: choice.note,
  };
}

export const healthFeature: Feature<object, { status: CoreStatus }> = {
  name: 'health',
  register(ctx) {
    const ffmpeg = probeFfmpeg(ctx.config);
    const status: CoreStatus = { ffmpeg, demoCameras: null };
    if (!ffmpeg.version)
      ctx.log.error(
        { ffmpeg: ctx.config.ingest.ffmpegPath, note: ffmpeg.note },
        'no usable ffmpeg: cameras, recording and clips will not work',
      );
    else
      ctx.log.info(
        { ffmpeg: ffmpeg.path, source: ffmpeg.source, version: ffmpeg.version, ffprobe: ffmpeg.ffprobe, note: ffmpeg.note },
        'using ffmpeg',
      );
    ctx.http.get(routes.health.path, async (req): Promise<HealthResponse> => ({
      status: 'ok',
      version: VERSION,
      startedAt: ctx.startedAt.toISOString(),
      uptimeS: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
      database: await ctx.sql.describe(),
      // Health is public (load balancers, the Electron shell): signed out, it says what is
      // missing but not where the installation keeps its files.
      assets: req.auth
        ? ctx.assets
        : { dir: null, ok: ctx.assets.ok, missing: ctx.assets.missing.map((m) => ({ ...m, path: relativeTo(ctx.assets.dir, m.path) })) },
      lifecycle: await lifecycleHealth(ctx, req.auth !== null),
      ffmpeg: req.auth ? ffmpeg : { ...ffmpeg, path: null },
      ...(status.demoCameras ? { demoCameras: status.demoCameras } : {}),
    }));
    return { status };
  },
};
