import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { computeMonth, monthBounds } from './compute';
import { published, publishedMonths, publishMonth } from './publish';
import { verifyMonth } from './sign';

interface SeedTables {
  incidents: {
    id: string;
    title: string;
    kind: string;
    state: string;
    camera_id: string;
    camera_name: string;
    scope: string;
    created_at: string;
    updated_at: string;
    last_alert_at: string;
    acknowledged_at: string | null;
    resolved_at: string | null;
  };
  incident_events: { incident_id: string; at: string; kind: string };
  verdicts: { incident_id: string; verdict: string; reason: string; by_user: string; at: string };
  cameras: { id: string; name: string; url: string; mount: string; recording_enabled: number; created_at: string; updated_at: string };
  segments: { camera_id: string; path: string; start_ms: number; end_ms: number; bytes: number; session: number };
}

const MIN = 60_000;

/**
 * November 2026 in Chicago runs from 2026-11-01T05:00Z (CDT; DST ends that morning) to
 * 2026-12-01T06:00Z (CST): incidents on each side of both edges, so a month computed with UTC
 * or with the wrong offset counts differently.
 */
async function seed(db: SqlDb): Promise<void> {
  const t = db.as<SeedTables>();
  const incident = (id: string, kind: string, at: string, lines: string[], district: string | null, ackMin?: number) => ({
    id,
    title: id,
    kind,
    state: 'new',
    camera_id: 'c1',
    camera_name: 'Camera 1',
    scope: JSON.stringify({ district, lines, routes: kind === 'bus' ? ['66'] : [] }),
    created_at: at,
    updated_at: at,
    last_alert_at: at,
    acknowledged_at: ackMin === undefined ? null : new Date(Date.parse(at) + ackMin * MIN).toISOString(),
    resolved_at: null,
  });
  await t
    .insertInto('incidents')
    .values([
      incident('oct-last', 'fight', '2026-11-01T04:59:59.000Z', ['red'], '1'),
      incident('nov-first', 'fight', '2026-11-01T05:00:00.000Z', ['red'], '1', 2),
      incident('nov-last', 'barrier', '2026-12-01T05:59:59.000Z', ['blue'], null, 4),
      incident('dec-first', 'fight', '2026-12-01T06:00:00.000Z', ['red'], '1'),
      ...[1, 2, 3, 4].map((i) => incident(`nov-${i}`, 'fight', `2026-11-1${i}T18:30:00.000Z`, ['red'], '1', i * 2)),
      incident('nov-bus', 'bus', '2026-11-20T12:00:00.000Z', [], '2', 10),
    ])
    .execute();
  await t
    .insertInto('incident_events')
    .values(
      ['oct-last', 'nov-first', 'nov-first', 'nov-2', 'nov-last', 'dec-first'].map((id) => ({
        incident_id: id,
        at: '2026-11-15T00:00:00.000Z',
        kind: 'escalated',
      })),
    )
    .execute();
  await t
    .insertInto('verdicts')
    .values(
      ['nov-first', 'nov-1', 'nov-2', 'nov-3', 'nov-4', 'oct-last'].map((id, i) => ({
        incident_id: id,
        verdict: i === 3 ? 'false-alarm' : 'true-alarm',
        reason: 'seen',
        by_user: 'reviewer',
        at: '2026-12-02T00:00:00.000Z',
      })),
    )
    .execute();
  await t
    .insertInto('cameras')
    .values({
      id: 'c1',
      name: 'Camera 1',
      url: 'rtsp://127.0.0.1/c1',
      mount: '{"kind":"fixed"}',
      recording_enabled: 1,
      created_at: '2026-10-01T00:00:00.000Z',
      updated_at: '2026-10-01T00:00:00.000Z',
    })
    .execute();
  // Recorded from the 15th: the earliest kept segment bounds the measured part of the month; two overlapping segments count once.
  const from = Date.parse('2026-11-15T06:00:00.000Z');
  await t
    .insertInto('segments')
    .values([
      { camera_id: 'c1', path: 'c1/a.mp4', start_ms: from, end_ms: from + 60 * MIN, bytes: 1, session: 1 },
      { camera_id: 'c1', path: 'c1/b.mp4', start_ms: from + 30 * MIN, end_ms: from + 90 * MIN, bytes: 1, session: 2 },
    ])
    .execute();
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describeOnBothDatabases('monthly statistics', (open) => {
  it('counts the Chicago month, edges and DST included, the same on either database', async () => {
    const db = await open();
    await seed(db);
    expect(monthBounds('2026-11')).toEqual({ start: Date.parse('2026-11-01T05:00:00Z'), end: Date.parse('2026-12-01T06:00:00Z') });
    const now = new Date('2026-12-02T12:00:00Z');
    const s = await computeMonth(db, '2026-11', now);
    expect(s.incidents.total).toBe(7);
    expect(s.incidents.byKind).toEqual({ barrier: '<5', bus: '<5', fight: 5 });
    expect(s.incidents.byLine).toEqual({ blue: '<5', bus: '<5', red: 5 });
    expect(s.incidents.byDistrict).toEqual({ '1': 5, '2': '<5', unknown: '<5' });
    // Every hour has fewer than 5 (0 included): suppressed alike.
    expect(s.incidents.byHour).toEqual(Array(24).fill('<5'));
    // nov-first twice, nov-2 and nov-last: not October's nor December's.
    expect(s.escalations).toBe('<5');
    expect(s.response.acknowledge).toEqual({ n: 7, medianMin: 4, p90Min: 8.8 });
    expect(s.precision).toEqual({ fight: { reviewed: 5, precision: 0.8 } });
    expect(s.uptime).toEqual({
      fixed: {
        cameras: '<5',
        uptime: Math.round(((90 * MIN) / (Date.parse('2026-12-01T06:00:00Z') - Date.parse('2026-11-15T06:00:00Z'))) * 1000) / 1000,
      },
    });
    // Five escalations make a number.
    await db.as<SeedTables>().insertInto('incident_events').values({ incident_id: 'nov-3', at: 'x', kind: 'escalated' }).execute();
    expect((await computeMonth(db, '2026-11', now)).escalations).toBe(5);
  });

  it('publishes a month signed, replaces it when republished, and lists what is published', async () => {
    const db = await open();
    await seed(db);
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-stats-'));
    dirs.push(dataDir);
    expect(await published(db, '2026-11')).toBeNull();
    const p = await publishMonth(db, dataDir, null, '2026-11', 'admin');
    const again = await publishMonth(db, dataDir, null, '2026-11', 'admin2');
    await publishMonth(db, dataDir, null, '2026-10', 'admin');
    const stored = await published(db, '2026-11');
    expect(stored).toMatchObject({ month: '2026-11', publishedBy: 'admin2', csv: again.csv, signature: again.signature });
    expect(p.csv).toBe(again.csv);
    const v = verifyMonth(stored!.manifestJson, stored!.signature, { '2026-11.csv': stored!.csv, '2026-11.html': stored!.html });
    expect(v).toMatchObject({ ok: true, fingerprint: p.manifest.fingerprint });
    expect((await publishedMonths(db)).map((m) => [m.month, m.publishedBy, m.fingerprint])).toEqual([
      ['2026-11', 'admin2', p.manifest.fingerprint],
      ['2026-10', 'admin', p.manifest.fingerprint],
    ]);
  });
});
