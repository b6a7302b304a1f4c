import { z } from 'zod';

/** One missing or unusable asset, described for an operator ("what is missing and why it matters"). */
export const AssetProblem = z.strictObject({
  path: z.string(),
  what: z.string(),
  impact: z.string(),
});
export type AssetProblem = z.infer<typeof AssetProblem>;

export const AssetsStatus = z.strictObject({
  dir: z.string().nullable(),
  ok: z.boolean(),
  missing: z.array(AssetProblem),
});
export type AssetsStatus = z.infer<typeof AssetsStatus>;

/** The ffmpeg the core runs: the system's, a configured one, or the one bundled from npm (no system ffmpeg). */
export const FfmpegStatus = z.strictObject({
  source: z.enum(['configured', 'system', 'bundled', 'missing']),
  /** As ffmpeg prints it; null when it cannot run. */
  version: z.string().nullable(),
  /** major.minor ("4.1"), also for snapshot builds whose version string says nothing. */
  release: z.string().nullable(),
  /** Only for a signed-in caller. */
  path: z.string().nullable(),
  /** Whether ffprobe is there (without it, stream parameters come from ffmpeg itself). */
  ffprobe: z.boolean(),
  /** Why the preferred one is not in use, e.g. "no ffmpeg on PATH". */
  note: z.string().nullable(),
});
export type FfmpegStatus = z.infer<typeof FfmpegStatus>;

/** What serves the demo cameras: the GStreamer simulator, the built-in TypeScript RTSP server, or nothing. */
export const DemoCamerasStatus = z.strictObject({
  server: z.enum(['gstreamer', 'rtsp-js', 'external', 'none']),
  note: z.string().nullable(),
});
export type DemoCamerasStatus = z.infer<typeof DemoCamerasStatus>;

export const HealthResponse = z.strictObject({
  status: z.literal('ok'),
  version: z.string(),
  startedAt: z.string(),
  uptimeS: z.number(),
  /** Which database the core runs on; `journalMode` is SQLite's (`wal`), null on Postgres. */
  database: z.strictObject({
    dialect: z.enum(['sqlite', 'postgres']),
    schemaVersion: z.number().int(),
    journalMode: z.string().nullable(),
  }),
  assets: AssetsStatus,
  /**
   * The alert lifecycle's faults: alert writes still being retried, failed attempts since
   * start (and the last error, signed in), webhook deliveries waiting in the outbox, bus
   * listeners that threw. Nothing here is lost; it says what is late.
   */
  lifecycle: z
    .strictObject({
      pendingAlertWrites: z.number().int(),
      failedAlertWrites: z.number().int(),
      lastWriteError: z.string().nullable(),
      webhookPending: z.number().int().nullable(),
      listenerFailures: z.number().int(),
    })
    .optional(),
  ffmpeg: FfmpegStatus.optional(),
  /** Only in demo mode. */
  demoCameras: DemoCamerasStatus.optional(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
