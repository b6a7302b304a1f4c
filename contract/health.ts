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

export const HealthResponse = z.strictObject({
  status: z.literal('ok'),
  version: z.string(),
  startedAt: z.string(),
  uptimeS: z.number(),
  database: z.strictObject({ schemaVersion: z.number().int(), journalMode: z.string() }),
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
});
export type HealthResponse = z.infer<typeof HealthResponse>;
