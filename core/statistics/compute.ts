import type { Cell, MonthlyStatistics } from '../../contract';
import { sql } from 'kysely';
import type { SqlDb } from '../db/sql';
import type { StatisticsTables } from './tables';

export const TIME_ZONE = 'America/Chicago';
/** Under this, a count is published as "<5": small counts can point at a person. */
export const SUPPRESS_BELOW = 5;

export function cell(n: number): Cell {
  return n < SUPPRESS_BELOW ? '<5' : n;
}

const local = new Intl.DateTimeFormat('en-US', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  hour: '2-digit',
  hourCycle: 'h23',
});
/** The Chicago month ("2026-11") and hour (0..23) of an instant: the CTA reports in local time. */
export function chicagoMonthHour(iso: string): { month: string; hour: number } {
  const parts = Object.fromEntries(local.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return { month: `${parts.year}-${parts.month}`, hour: Number(parts.hour) % 24 };
}

/**
 * First and last instant (ms) of a Chicago month, found from UTC midnight +- a day. Computed
 * here rather than with a database's date functions, so both databases count the same month.
 */
export function monthBounds(month: string): { start: number; end: number } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const find = (yy: number, mm: number): number => {
    let t = Date.UTC(yy, mm - 1, 1) - 86_400_000;
    // Step an hour at a time to the first instant whose Chicago month is yy-mm (DST-proof).
    const want = `${yy}-${String(mm).padStart(2, '0')}`;
    while (chicagoMonthHour(new Date(t).toISOString()).month !== want) t += 3_600_000;
    return t;
  };
  return { start: find(y, m), end: m === 12 ? find(y + 1, 1) : find(y, m + 1) };
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}
const round1 = (n: number | null): number | null => (n === null ? null : Math.round(n * 10) / 10);

export const UPTIME_METHOD =
  "Sentinel keeps no separate uptime history. A camera group's uptime is the share of the month for which its cameras (those recording) have recorded video segments, " +
  'counted from the segments still kept; when recording retention has already removed part of the month, only the kept part is measured, and a month with nothing kept shows no figure.';

/**
 * The month's figures from the database: incidents by kind, line, district and local hour;
 * rider reports; escalations; response times; each rule's precision from reviewers' verdicts;
 * each camera group's uptime. Every count is suppressed under 5 before it leaves here.
 */
export async function computeMonth(sqlDb: SqlDb, month: string, now = new Date()): Promise<MonthlyStatistics> {
  const db = sqlDb.as<StatisticsTables>();
  const { start, end } = monthBounds(month);
  // A day either side in SQL (ISO text compares the same on both databases), then the exact local month in code.
  const rows = (
    await db
      .selectFrom('incidents')
      .select(['id', 'kind', 'scope', 'created_at', 'acknowledged_at', 'dispatched_at', 'resolved_at'])
      .where('created_at', '>=', new Date(start - 86_400_000).toISOString())
      .where('created_at', '<', new Date(end + 86_400_000).toISOString())
      .execute()
  ).filter((r) => chicagoMonthHour(r.created_at).month === month);

  const count = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const byKind = new Map<string, number>();
  const byLine = new Map<string, number>();
  const byDistrict = new Map<string, number>();
  const byHour = Array<number>(24).fill(0);
  const waits = { acknowledge: [] as number[], dispatch: [] as number[], resolve: [] as number[] };
  for (const r of rows) {
    count(byKind, r.kind);
    const scope = JSON.parse(r.scope) as { district: string | null; lines: string[]; routes: string[] };
    for (const l of scope.lines) count(byLine, l);
    if (scope.routes.length) count(byLine, 'bus');
    count(byDistrict, scope.district ?? 'unknown');
    byHour[chicagoMonthHour(r.created_at).hour]! += 1;
    const created = Date.parse(r.created_at);
    const add = (k: keyof typeof waits, at: string | null): void => {
      if (at) waits[k].push((Date.parse(at) - created) / 60_000);
    };
    add('acknowledge', r.acknowledged_at);
    add('dispatch', r.dispatched_at);
    add('resolve', r.resolved_at);
  }
  const cells = (m: Map<string, number>): Record<string, Cell> =>
    Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => [k, cell(n)]));

  const ids = new Set(rows.map((r) => r.id));
  const escalations = (
    await db
      .selectFrom('incident_events')
      .select(['incident_id', sql<number>`CAST(count(*) AS INTEGER)`.as('n')])
      .where('kind', '=', 'escalated')
      .groupBy('incident_id')
      .execute()
  )
    .filter((e) => ids.has(e.incident_id))
    .reduce((a, e) => a + Number(e.n), 0);

  const verdicts = new Map(
    (await db.selectFrom('verdicts').select(['incident_id', 'verdict']).execute()).map((v) => [v.incident_id, v.verdict]),
  );
  const prec = new Map<string, { t: number; f: number }>();
  for (const r of rows) {
    const v = verdicts.get(r.id);
    if (!v) continue;
    const p = prec.get(r.kind) ?? { t: 0, f: 0 };
    if (v === 'true-alarm') p.t++;
    else p.f++;
    prec.set(r.kind, p);
  }

  return {
    month,
    timeZone: TIME_ZONE,
    generatedAt: now.toISOString(),
    incidents: {
      total: cell(rows.length),
      byKind: cells(byKind),
      byLine: cells(byLine),
      byDistrict: cells(byDistrict),
      byHour: byHour.map(cell),
    },
    riderReports: cell(byKind.get('rider-report') ?? 0),
    escalations: cell(escalations),
    response: Object.fromEntries(
      (['acknowledge', 'dispatch', 'resolve'] as const).map((k) => {
        const s = [...waits[k]].sort((a, b) => a - b);
        // A median of fewer than 5 response times would nearly publish the times themselves.
        const ok = s.length >= SUPPRESS_BELOW;
        return [k, { n: cell(s.length), medianMin: ok ? round1(quantile(s, 0.5)) : null, p90Min: ok ? round1(quantile(s, 0.9)) : null }];
      }),
    ) as MonthlyStatistics['response'],
    precision: Object.fromEntries(
      [...prec]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, p]) => [
          k,
          { reviewed: cell(p.t + p.f), precision: p.t + p.f >= SUPPRESS_BELOW ? Math.round((p.t / (p.t + p.f)) * 1000) / 1000 : null },
        ]),
    ),
    uptime: await uptime(sqlDb, start, Math.min(end, now.getTime())),
    uptimeMethod: UPTIME_METHOD,
  };
}

async function uptime(sqlDb: SqlDb, start: number, end: number): Promise<MonthlyStatistics['uptime']> {
  const db = sqlDb.as<StatisticsTables>();
  const cams = await db
    .selectFrom('cameras')
    .select(['id', 'mount', 'created_at'])
    .where('recording_enabled', '=', 1)
    .orderBy('id')
    .execute();
  const kept = await db
    .selectFrom('segments')
    .select((eb) => eb.fn.min('start_ms').as('t'))
    .executeTakeFirst();
  const earliestKept = kept?.t === null || kept?.t === undefined ? null : Number(kept.t);
  const from = Math.max(start, earliestKept ?? end);
  const seg = (cameraId: string, a: number, b: number) =>
    db
      .selectFrom('segments')
      .select(['start_ms', 'end_ms'])
      .where('camera_id', '=', cameraId)
      .where('end_ms', '>', a)
      .where('start_ms', '<', b)
      .orderBy('start_ms')
      .execute();
  const groups = new Map<string, { cams: number; up: number; span: number }>();
  for (const c of cams) {
    const kind = (JSON.parse(c.mount) as { kind: string }).kind;
    const g = groups.get(kind) ?? { cams: 0, up: 0, span: 0 };
    g.cams++;
    const camFrom = Math.max(from, Date.parse(c.created_at));
    if (end > camFrom) {
      g.span += end - camFrom;
      // Merge overlapping segments so a restart's overlap is not counted twice.
      let cursor = camFrom;
      for (const s of await seg(c.id, camFrom, end)) {
        const a = Math.max(s.start_ms, cursor);
        const b = Math.min(s.end_ms, end);
        if (b > a) g.up += b - a;
        cursor = Math.max(cursor, b);
      }
    }
    groups.set(kind, g);
  }
  return Object.fromEntries(
    [...groups]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, g]) => [k, { cameras: cell(g.cams), uptime: g.span > 0 ? Math.round((g.up / g.span) * 1000) / 1000 : null }]),
  );
}
