import { Month, type StatisticsManifest } from '../../contract';
import type { SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import { loadOrCreateSigningKey } from '../evidence/keys';
import type { KeyProtection } from '../keys/at-rest';
import { computeMonth } from './compute';
import { toCsv, toHtml } from './render';
import { signMonth } from './sign';
import type { StatisticsTables } from './tables';

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

export async function buildMonth(db: SqlDb, month: string, now = new Date()): Promise<MonthFiles> {
  const stats = await computeMonth(db, checkMonth(month, now), now);
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
export async function publishMonth(
  db: SqlDb,
  dataDir: string,
  protection: KeyProtection | null,
  month: string,
  by: string,
): Promise<Published> {
  const files = await buildMonth(db, month);
  const { manifest, signature } = signMonth(loadOrCreateSigningKey(dataDir, protection), month, {
    [`${month}.csv`]: files.csv,
    [`${month}.html`]: files.html,
  });
  const manifestJson = JSON.stringify(manifest, null, 2);
  const row = { csv: files.csv, html: files.html, manifest: manifestJson, signature, published_by: by, published_at: manifest.publishedAt };
  await db
    .as<StatisticsTables>()
    .insertInto('statistics_published')
    .values({ month, ...row })
    .onConflict((oc) => oc.column('month').doUpdateSet(row))
    .execute();
  return { month, ...files, manifest, manifestJson, signature, publishedBy: by, publishedAt: manifest.publishedAt };
}

export async function published(db: SqlDb, month: string): Promise<Published | null> {
  const r = await db.as<StatisticsTables>().selectFrom('statistics_published').selectAll().where('month', '=', month).executeTakeFirst();
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

export async function publishedMonths(
  db: SqlDb,
): Promise<Array<{ month: string; publishedAt: string; publishedBy: string; fingerprint: string }>> {
  return (
    await db
      .as<StatisticsTables>()
      .selectFrom('statistics_published')
      .select(['month', 'published_at', 'published_by', 'manifest'])
      .orderBy('month', 'desc')
      .execute()
  ).map((r) => ({
    month: r.month,
    publishedAt: r.published_at,
    publishedBy: r.published_by,
    fingerprint: (JSON.parse(r.manifest) as StatisticsManifest).fingerprint,
  }));
}
