import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig } from '../../core/config';
import { openData } from '../../core/db/open';
import type { SqlDb } from '../../core/db/sql';
import { createLogger } from '../../core/logger';
import { createAndLogin, signIn, type SignedIn } from '../support/auth';
import { ON_POSTGRES, testDatabaseUrl } from '../support/core';
import { runSentinel, tempDir } from '../support/serve';

/** Seeds a real Sentinel database (migrated) with a month of incidents, verdicts and recordings. */
async function seed(db: SqlDb): Promise<void> {
  const run = (q: ReturnType<typeof sql>): Promise<unknown> => q.execute(db.as());
  const add = async (
    kind: string,
    at: string,
    scope: object,
    ackMin: number | null,
    opts: { verdict?: string; escalations?: number } = {},
  ): Promise<string> => {
    const id = randomUUID();
    const t = Date.parse(at);
    const plus = (m: number | null) => (m === null ? null : new Date(t + m * 60_000).toISOString());
    await run(sql`INSERT INTO incidents (id, title, kind, state, camera_id, camera_name, scope, created_at, updated_at, last_alert_at, acknowledged_at, dispatched_at, resolved_at)
      VALUES (${id}, ${'Fight involving John Q. Public'}, ${kind}, 'resolved', 'cam', 'Camera',
        ${JSON.stringify({ placement: null, lines: [], routes: [], district: null, ...scope })}, ${at}, ${at}, ${at},
        ${plus(ackMin)}, ${plus(ackMin === null ? null : ackMin + 5)}, ${plus(ackMin === null ? null : ackMin + 30)})`);
    for (let i = 0; i < (opts.escalations ?? 0); i++)
      await run(sql`INSERT INTO incident_events (incident_id, at, actor, kind, state, text)
        VALUES (${id}, ${at}, NULL, 'escalated', NULL, 'no acknowledgement in 60 s')`);
    if (opts.verdict)
      await run(sql`INSERT INTO verdicts (incident_id, verdict, reason, by_user, at)
        VALUES (${id}, ${opts.verdict}, 'Jane Rider was seen on the platform', 'rev', ${at})`);
    return id;
  };
  // October 2026 (Chicago, CDT = UTC-5): 12 crowding incidents on the Red Line in district 19 at 08:xx local.
  for (let i = 0; i < 12; i++)
    await add(
      'crowding',
      `2026-10-${String(2 + i).padStart(2, '0')}T13:${String(i).padStart(2, '0')}:00.000Z`,
      { lines: ['Red'], district: '19' },
      i + 1,
      { verdict: i < 5 ? 'true-alarm' : i === 5 ? 'false-alarm' : undefined, escalations: i < 3 ? 1 : 0 },
    );
  // Three fights on the Blue Line in district 1 (a small count), two reviewed.
  for (let i = 0; i < 3; i++)
    await add('fight', `2026-10-20T0${i}:30:00.000Z`, { lines: ['Blue'], district: '1' }, 2, { verdict: i < 2 ? 'true-alarm' : undefined });
  // Six rider text reports on bus route 9.
  for (let i = 0; i < 6; i++) await add('rider-report', `2026-10-25T18:0${i}:00.000Z`, { routes: ['9'], district: '12' }, null);
  // Local time decides the month: 23:30 on 31 October in Chicago is already November in UTC...
  await add('fight', '2026-11-01T04:30:00.000Z', { lines: ['Blue'], district: '1' }, 1);
  // ...and 03:00 UTC on 1 October is still 30 September (22:00) in Chicago: not in October.
  await add('crowding', '2026-10-01T03:00:00.000Z', { lines: ['Red'], district: '19' }, 1);
  // A station camera that recorded the first half of October.
  const cam = 'cam-station';
  await run(sql`INSERT INTO cameras (id, name, url, mount, created_at, updated_at)
    VALUES (${cam}, 'Belmont platform', 'rtsp://127.0.0.1:9/x', ${JSON.stringify({ kind: 'station', stationId: '41320' })},
      '2026-09-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z')`);
  const start = Date.parse('2026-10-01T05:00:00.000Z');
  const end = Date.parse('2026-11-01T05:00:00.000Z');
  await run(sql`INSERT INTO segments (camera_id, path, start_ms, end_ms, bytes, session)
    VALUES (${cam}, 'seg-1.mp4', ${start}, ${start + (end - start) / 2}, 1, 1)`);
}

// The CLI loads jsdom and Plot; on a shared 2-core machine a run can take tens of seconds.
const CLI_TIMEOUT_MS = 150_000;

const rows = (csv: string): Map<string, string> =>
  new Map(
    csv
      .trim()
      .split('\r\n')
      .slice(1)
      .map((l) => {
        const [s, k, v] = l.split(',');
        return [`${s}/${k}`, v ?? ''];
      }),
  );

describe('monthly statistics: CLI report, small-count suppression, signed publishing', () => {
  const dataDir = tempDir('sentinel-stats-');
  // The installation's Postgres database on a Postgres run, else undefined (the data directory's
  // SQLite file): the seed, the CLI and the core all use the one database.
  let databaseUrl: string | undefined;
  let core: CoreHandle;
  let admin: SignedIn;
  let op: SignedIn;
  const CLI = (): { timeoutMs: number; env: NodeJS.ProcessEnv } => ({
    timeoutMs: CLI_TIMEOUT_MS,
    env: databaseUrl ? { SENTINEL_DATABASE_URL: databaseUrl } : {},
  });
  beforeAll(async () => {
    databaseUrl = await testDatabaseUrl();
    const db = await openData({ dataDir, database: { url: databaseUrl } }, { create: true });
    try {
      await seed(db);
    } finally {
      await db.close();
    }
  });
  afterAll(async () => {
    await core?.close();
  });

  it('writes the month as CSV and offline HTML, every count under 5 shown as "<5", no free text', async () => {
    const out = join(tempDir('sentinel-stats-out-'), 'reports');
    const r = await runSentinel(['report', 'monthly', '--month', '2026-10', '--out', out, '--data-dir', dataDir], CLI());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const csv = readFileSync(join(out, '2026-10.csv'), 'utf8');
    const html = readFileSync(join(out, '2026-10.html'), 'utf8');
    const c = rows(csv);
    expect(c.get('incidents/total')).toBe('22');
    expect(c.get('incidents_by_kind/crowding')).toBe('12');
    expect(c.get('incidents_by_kind/fight')).toBe('<5');
    expect(c.get('incidents_by_kind/rider-report')).toBe('6');
    expect(c.get('rider_reports/total')).toBe('6');
    expect(c.get('incidents_by_line/Red')).toBe('12');
    expect(c.get('incidents_by_line/Blue')).toBe('<5');
    expect(c.get('incidents_by_line/bus')).toBe('6');
    expect(c.get('incidents_by_district/19')).toBe('12');
    expect(c.get('incidents_by_district/1')).toBe('<5');
    expect(c.get('incidents_by_hour/08')).toBe('12');
    expect(c.get('incidents_by_hour/13')).toBe('6');
    expect(c.get('incidents_by_hour/23')).toBe('<5');
    expect(c.get('incidents_by_hour/22')).toBe('<5');
    expect(c.get('escalations/total')).toBe('<5');
    // 16 October incidents acknowledged after 1..12, 2, 2, 2 and 1 minutes.
    expect(c.get('time_to_acknowledge/incidents')).toBe('16');
    expect(c.get('time_to_acknowledge/median')).toBe('4.5');
    expect(c.get('time_to_resolve/median')).toBe('34.5');
    expect(c.get('rule_precision/crowding')).toBe('0.833');
    expect(c.get('rule_precision/fight_reviewed')).toBe('<5');
    expect(c.get('rule_precision/fight')).toBe('');
    expect(c.get('camera_uptime/station')).toBe('0.5');
    // No cell anywhere holds a count of 1..4.
    for (const [k, v] of c)
      if (!/median|p90|precision\/|uptime\/(?!.*_cameras)|month/.test(k))
        expect(v === '<5' || v === '' || Number(v) >= 5 || v === '0').toBe(true);
    expect(csv + html).not.toMatch(/John|Jane/);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|\b(src|href)="https?:/);
    expect(html).toContain('Under 5 (not drawn)');
  }, 200_000);

  it('refuses a bad month and one that has not started yet, saying which', async () => {
    const out = tempDir('sentinel-stats-bad-');
    const bad = await runSentinel(['report', 'monthly', '--month', '2026-13', '--out', out, '--data-dir', dataDir], CLI());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/month "2026-13" is not a month: expected YYYY-MM/);
    const future = await runSentinel(['report', 'monthly', '--month', '2999-01', '--out', out, '--data-dir', dataDir], CLI());
    expect(future.stderr).toMatch(/has not started yet/);
    expect(existsSync(join(out, '2999-01.csv'))).toBe(false);
  }, 300_000);

  // These check the data directory's SQLite file itself (absent, or another program's): with a
  // Postgres database named, the report reads that and never opens the file.
  it.skipIf(ON_POSTGRES)(
    "refuses a missing data directory and one that is not Sentinel's, saying which (SQLite file only)",
    async () => {
      const out = tempDir('sentinel-stats-bad-');
      const file = { timeoutMs: CLI_TIMEOUT_MS };
      const missing = await runSentinel(['report', 'monthly', '--month', '2026-10', '--out', out, '--data-dir', join(out, 'nope')], file);
      expect(missing.stderr).toMatch(/data directory .*nope does not exist/);
      const empty = tempDir('sentinel-stats-empty-');
      expect((await runSentinel(['report', 'monthly', '--month', '2026-10', '--out', out, '--data-dir', empty], file)).stderr).toMatch(
        /is not a Sentinel data directory: it has no sentinel.db/,
      );
      const other = tempDir('sentinel-stats-other-');
      const foreign = new BetterSqlite3(join(other, 'sentinel.db'));
      foreign.exec('CREATE TABLE recipes (name TEXT)');
      foreign.close();
      const r = await runSentinel(['report', 'monthly', '--month', '2026-10', '--out', out, '--data-dir', other], file);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/not a usable Sentinel database: it has no installation table/);
      expect(existsSync(join(out, '2026-10.csv'))).toBe(false);
    },
    500_000,
  );

  it('serves only published months without sign-in, signed with the installation key, publishing audited', async () => {
    // The seeded database, not a fresh one (onTestDatabase would make one).
    const cfg = loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {});
    core = await startCore({ ...cfg, database: { ...cfg.database, url: databaseUrl } }, { log: createLogger('silent') });
    admin = await signIn(core);
    op = await createAndLogin(core.url, admin, { username: 'op', password: 'operator-password-1', role: 'operator' });
    const pub = (f: string) => fetch(new URL(`/public/statistics/${f}`, core.url));
    expect((await pub('2026-10.html')).status).toBe(404);
    expect((await fetch(new URL('/api/v1/statistics/2026-10/report.html', core.url))).status).toBe(401);
    expect((await op.api('/api/v1/statistics/2026-10/publish', { method: 'POST' })).status).toBe(403);
    const preview = await admin.api('/api/v1/statistics/2026-10/report.html');
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain('<svg');
    const published = await admin.api('/api/v1/statistics/2026-10/publish', { method: 'POST' });
    expect(published.status).toBe(200);
    const audit = (await (await admin.api('/api/v1/audit?action=statistics.publish')).json()) as {
      records: { actor: string; target: string }[];
    };
    expect(audit.records[0]).toMatchObject({ actor: 'test-admin', target: 'statistics:2026-10' });

    const index = await (await pub('')).text();
    expect(index).toContain('href="2026-10.html"');
    const html = await pub('2026-10.html');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect((await pub('2026-09.html')).status).toBe(404);
    expect((await pub('2026-09.csv')).status).toBe(404);
    expect((await pub('..%2Fsentinel.db')).status).toBe(404);
    expect((await pub('2026-10.db')).status).toBe(404);

    // What a reader downloads, checked with the verify command against the published key.
    const dl = tempDir('sentinel-stats-dl-');
    for (const f of ['2026-10.html', '2026-10.csv', '2026-10.manifest.json', '2026-10.sig', 'key.pem'])
      writeFileSync(join(dl, f), await (await pub(f)).text());
    const ok = await runSentinel(['report', 'verify', join(dl, '2026-10.manifest.json'), '--key', join(dl, 'key.pem')], CLI());
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/2026-10: OK — signed by key [0-9a-f:]+ \(the trusted key\)/);
    writeFileSync(
      join(dl, '2026-10.csv'),
      readFileSync(join(dl, '2026-10.csv'), 'utf8').replace('incidents,total,22', 'incidents,total,2'),
    );
    const tampered = await runSentinel(['report', 'verify', join(dl, '2026-10.manifest.json'), '--key', join(dl, 'key.pem')], CLI());
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/2026-10.csv does not match the signed manifest/);
  }, 400_000);
});
