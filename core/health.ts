import { routes, type DemoCamerasStatus, type FfmpegStatus, type HealthResponse } from '../contract';
import { chooseFfmpeg, ffmpegVersion } from '../analytics/ingest/ffmpeg-binary';
import { schemaVersion } from './db/database';
import type { CoreContext, Feature } from './feature';
import { VERSION } from './version';

function relativeTo(dir: string | null, path: string): string {
  if (dir && path.startsWith(dir)) return path.slice(dir.length).replace(/^[/\\]+/, '') || '.';
  return path.split(/[/\\]/).pop() ?? path;
}

function lifecycleHealth(ctx: CoreContext, signedIn: boolean): NonNullable<HealthResponse['lifecycle']> {
  const w = ctx.lifecycle.alerts.writeStatus();
  let webhookPending: number | null = null;
  try {
    webhookPending = ctx.lifecycle.outbox?.pending() ?? null;
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

/** What serves the demo cameras of a core (set by core/cameras/demo.ts), keyed by its database handle. */
export const demoCamerasStatus = new WeakMap<object, DemoCamerasStatus>();

const ffmpegStatuses = new WeakMap<object, FfmpegStatus>();
/**
 * Which ffmpeg this core runs and its version (`-version` runs once per core): health and the
 * console's status bar (socket hello) both show it.
 */
export function ffmpegStatusOf(ctx: Pick<CoreContext, 'config' | 'db'>): FfmpegStatus {
  let s = ffmpegStatuses.get(ctx.db);
  if (!s) {
    const choice = ctx.config.ffmpeg ?? chooseFfmpeg(ctx.config.ingest);
    const version = ffmpegVersion(ctx.config.ingest.ffmpegPath);
    s = {
      source: version ? choice.source : 'missing',
      version: version?.version ?? null,
      release: version?.major != null ? `${version.major}.${version.minor ?? 0}` : null,
      path: choice.path,
      ffprobe: choice.ffprobe !== null,
      note: choice.note,
    };
    ffmpegStatuses.set(ctx.db, s);
  }
  return s;
}

export const healthFeature: Feature = {
  name: 'health',
  register(ctx) {
    const ffmpeg = ffmpegStatusOf(ctx);
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
      database: { schemaVersion: schemaVersion(ctx.db), journalMode: String(ctx.db.pragma('journal_mode', { simple: true })) },
      // Health is public (load balancers, the Electron shell): signed out, it says what is
      // missing but not where the installation keeps its files.
      assets: req.auth
        ? ctx.assets
        : { dir: null, ok: ctx.assets.ok, missing: ctx.assets.missing.map((m) => ({ ...m, path: relativeTo(ctx.assets.dir, m.path) })) },
      lifecycle: lifecycleHealth(ctx, req.auth !== null),
      ffmpeg: req.auth ? ffmpeg : { ...ffmpeg, path: null },
      ...(demoCamerasStatus.has(ctx.db) ? { demoCameras: demoCamerasStatus.get(ctx.db)! } : {}),
    }));
  },
};
