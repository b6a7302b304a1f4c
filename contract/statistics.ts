import { z } from 'zod';
import { PUBLIC } from './auth';

/**
 * Monthly statistics for the public: counts only, every count under 5 shown as "<5", no
 * free text and no personal data. An administrator publishes a month; published months are
 * served signed (Ed25519, the installation key) at /public/statistics/ without sign-in.
 */
export const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM, e.g. 2026-11');

/** A count, or "<5" when it is under five (small counts can identify people). */
export const Cell = z.union([z.number().int().min(5), z.literal('<5')]);
export type Cell = z.infer<typeof Cell>;

export const MonthlyStatistics = z.strictObject({
  month: Month,
  timeZone: z.string(),
  generatedAt: z.string(),
  incidents: z.strictObject({
    total: Cell,
    byKind: z.record(z.string(), Cell),
    byLine: z.record(z.string(), Cell),
    byDistrict: z.record(z.string(), Cell),
    byHour: z.array(Cell).length(24),
  }),
  riderReports: Cell,
  escalations: Cell,
  /** Minutes from an incident's creation to its first acknowledgement / dispatch / resolution. */
  response: z.record(
    z.enum(['acknowledge', 'dispatch', 'resolve']),
    z.strictObject({ n: Cell, medianMin: z.number().nullable(), p90Min: z.number().nullable() }),
  ),
  /** Per rule: reviewed true alarms / reviewed alarms; null when fewer than 5 were reviewed. */
  precision: z.record(z.string(), z.strictObject({ reviewed: Cell, precision: z.number().nullable() })),
  /** Per camera group (mount kind): share of the month with recorded video; null when not measurable. */
  uptime: z.record(z.string(), z.strictObject({ cameras: Cell, uptime: z.number().nullable() })),
  uptimeMethod: z.string(),
});
export type MonthlyStatistics = z.infer<typeof MonthlyStatistics>;

export const PublishedMonth = z.strictObject({ month: Month, publishedAt: z.string(), publishedBy: z.string(), fingerprint: z.string() });
export const StatisticsMonths = z.strictObject({ months: z.array(z.strictObject({ month: Month, published: PublishedMonth.nullable() })) });

/** What is signed: the month, the SHA-256 of each published file, and the key's fingerprint. */
export const StatisticsManifest = z.strictObject({
  format: z.literal('sentinel-statistics/1'),
  month: Month,
  files: z.record(z.string(), z.strictObject({ sha256: z.string(), bytes: z.number().int() })),
  fingerprint: z.string(),
  publicKeyPem: z.string(),
  publishedAt: z.string(),
});
export type StatisticsManifest = z.infer<typeof StatisticsManifest>;

export const statisticsRoutes = {
  statisticsMonths: { method: 'GET', path: '/api/v1/statistics/months', response: StatisticsMonths, roles: ['admin'] },
  /** text/html: the report as it would be published (admin page preview). */
  statisticsPreview: { method: 'GET', path: '/api/v1/statistics/:month/report.html', response: z.unknown(), roles: ['admin'] },
  statisticsPublish: { method: 'POST', path: '/api/v1/statistics/:month/publish', response: PublishedMonth, roles: ['admin'] },
  /** Outside the API: published months only, no sign-in (index, YYYY-MM.html / .csv / .manifest.json, key.pem). */
  publicStatistics: { method: 'GET', path: '/public/statistics/', response: z.unknown(), roles: PUBLIC },
  publicStatisticsFile: { method: 'GET', path: '/public/statistics/:file', response: z.unknown(), roles: PUBLIC },
} as const;
