import { z } from 'zod';
import type { Role } from './auth';
import { Camera, RtspUrl } from './cameras';

/**
 * Technician tools: probing an RTSP URL before a camera is saved, and the bulk CSV
 * import. Spread into the route table in contract/api.ts. The probe takes credentials in
 * separate fields (or percent-encoded in the URL) and never sends them back.
 */

const TECHNICIANS: readonly Role[] = ['technician'];

export const ProbeRequest = z.strictObject({
  url: RtspUrl,
  username: z.string().max(256).optional(),
  password: z.string().max(256).optional(),
  /**
   * Editing a camera: probe with that camera's stored credentials where the form leaves
   * them out (the console never has the stored password to send).
   */
  cameraId: z.string().min(1).max(100).optional(),
});
export type ProbeRequest = z.input<typeof ProbeRequest>;

/** What the camera sends, as ffprobe reads it. */
export const ProbeResult = z.strictObject({
  codec: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  fps: z.number(),
  /** How long the probe took, so a technician sees a slow camera for what it is. */
  tookMs: z.number().int(),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

/** The CSV text (the console reads a picked file in the browser, or takes a paste). */
export const CsvImportRequest = z.strictObject({
  csv: z
    .string()
    .min(1, 'the CSV is empty')
    .max(5 * 1024 * 1024, 'the CSV is larger than 5 MiB; split it'),
});
export type CsvImportRequest = z.infer<typeof CsvImportRequest>;

export const CsvRowError = z.strictObject({
  /** 1-based line in the file (the header is line 1). */
  line: z.number().int(),
  column: z.string().nullable(),
  message: z.string(),
});
export type CsvRowError = z.infer<typeof CsvRowError>;

/** A dry run: every row checked, nothing written. `ok` when an import would succeed. */
export const CsvImportReport = z.strictObject({
  ok: z.boolean(),
  rows: z.number().int(),
  errors: z.array(CsvRowError),
  /** Names of the cameras an import would create (empty when any row is bad). */
  names: z.array(z.string()),
});
export type CsvImportReport = z.infer<typeof CsvImportReport>;

export const CsvImportResult = z.strictObject({ rows: z.number().int(), imported: z.array(Camera) });
export type CsvImportResult = z.infer<typeof CsvImportResult>;

export const technicianRoutes = {
  /** Connects to a stream: codec, size and fps, or 503 with the exact failure (within 10 s). */
  cameraProbe: { method: 'POST', path: '/api/v1/cameras/probe', body: ProbeRequest, response: ProbeResult, roles: TECHNICIANS },
  /** Checks a CSV without writing anything: the per-row report. */
  cameraImportCheck: {
    method: 'POST',
    path: '/api/v1/cameras/import/check',
    body: CsvImportRequest,
    response: CsvImportReport,
    roles: TECHNICIANS,
  },
  /**
   * Imports every row in one transaction (201), or none: 400 whose message lists the bad rows
   * (`line 3, url: ...`); the structured report is what `cameraImportCheck` answers.
   */
  cameraImport: { method: 'POST', path: '/api/v1/cameras/import', body: CsvImportRequest, response: CsvImportResult, roles: TECHNICIANS },
} as const;
