import { Month, type StatisticsManifest } from '../../contract';
import type { Database } from '../db/database';
import { SentinelError } from '../errors';
import { loadOrCreateSigningKey } from '../evidence/keys';
import type { KeyProtection } from '../keys/at-rest';
import { computeMonth } from './compute';
import { toCsv, toHtml } from './render';
import { signMonth } from './sign';

export interface MonthFiles {
  csv: string;
  html: string;
}

/** Refuses a malformed month, or one that has not started yet (Chicago time), naming it. */
export function checkMonth(month: string, now = new Date()): string {
  const r = Month.safeParse(month);
  if (!r.success) throw new SentinelError(`month "${month}" is not a month: expected YYYY-MM, e.g. 2026-11`, 'validation_failed', 'month');
  const current = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Chicago', year: 'numeric', month: '2-digit' })
    .format(now)
    .slice(0, 7);
  if (month > current)
    throw new SentinelError(`month ${month} has not started yet (it is ${current} in Chicago)`, 'validation_failed', 'month');
  return month;
}

export function buildMonth(db: Database, month: string, now = new Date()): MonthFiles {
  const stats = computeMonth(db, checkMonth(month, now), now);
  return { csv: toCsv(stats), html: toHtml(stats) };
}

export interface Published {
  month: string;
  csv: string;
  html: string;
  manifest: StatisticsManifest;
  manifestJson: string;
  signature: string;
  publishedBy: string;
  publishedAt: string;
}

/** Computes, signs and stores a month as published (republishing replaces it, re-signed). */
export function publishMonth(db: Database, dataDir: string, protection: KeyProtection | null, month: string, by: string): Published {
  const files = buildMonth(db, month);
  const { manifest, signature } = signMonth(loadOrCreateSigningKey(dataDir, protection), month, {
    [`${month}.csv`]: files.csv,
    [`${month}.html`]: files.html,
  });
  const manifestJson = JSON.stringify(manifest, null, 2);
  db.prepare(
    `INSERT INTO statistics_published (month, csv, html, manifest, signature, published_by, published_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (month) DO UPDATE SET csv = excluded.csv, html = excluded.html, manifest = excluded.manifest, signature = excluded.signature,
       published_by = excluded.published_by, published_at = excluded.published_at`,
  ).run(month, files.csv, files.html, manifestJson, signature, by, manifest.publishedAt);
  return { month, ...files, manifest, manifestJson, signature, publishedBy: by, publishedAt: manifest.publishedAt };
}

interface Row {
  month: string;
  csv: string;
  html: string;
  manifest: string;
  signature: string;
  published_by: string;
  published_at: string;
}

export function published(db: Database, month: string): Published | null {
  const r = db.prepare('SELECT * FROM statistics_published WHERE month = ?').get(month) as Row | undefined;
  if (!r) return null;
  return {
    month: r.month,
    csv: r.csv,
    html: r.html,
    manifest: JSON.parse(r.manifest) as StatisticsManifest,
    manifestJson: r.manifest,
    signature: r.signature,
    publishedBy: r.published_by,
    publishedAt: r.published_at,
  };
}

export function publishedMonths(db: Database): Array<{ month: string; publishedAt: string; publishedBy: string; fingerprint: string }> {
  return (
    db.prepare('SELECT month, published_at, published_by, manifest FROM statistics_published ORDER BY month DESC').all() as Row[]
  ).map((r) => ({
    month: r.month,
    publishedAt: r.published_at,
    publishedBy: r.published_by,
    fingerprint: (JSON.parse(r.manifest) as StatisticsManifest).fingerprint,
  }));
}
