import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { createLogger } from '../logger';
import { CameraCatalog } from './catalog';
import { importCamerasCsv, parseCsv } from './csv-import';
import { CameraRepository } from './repository';
import type { CameraTables } from './tables';
import { CredentialVault } from './secrets';

async function setup(open: () => Promise<SqlDb>) {
  const db = await open();
  const repo = new CameraCatalog(
    new CameraRepository(db, new CredentialVault(mkdtempSync(join(tmpdir(), 'csv-')), null)),
    createLogger('silent'),
  );
  await repo.load();
  return { db, repo };
}

const HEADER = 'name,url,username,password,mount,station_id,platform,vehicle_id,lat,lon,analytics';

describe('CSV parsing', () => {
  it('handles quotes, commas and newlines inside fields, CRLF and a BOM', () => {
    const rows = parseCsv('\ufeffa,b\r\n"x, y","say ""hi""\nthere"\r\n\r\nlast,row');
    expect(rows).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"\nthere'] },
      { line: 5, fields: ['last', 'row'] },
    ]);
    expect(() => parseCsv('a,b\n"open,2')).toThrow(/line 2: a quoted field is never closed/);
  });
});

describeOnBothDatabases('bulk camera import', (open) => {
  it('imports every row in one go, credentials kept encrypted, mounts and locations set', async () => {
    const { db, repo } = await setup(open);
    const csv = [
      HEADER,
      'Bus 4012 cab,rtsp://10.1.2.3/cab,op,"p@ss,w:rd%",operator_cab,,,4012,,,yes',
      'Clark/Lake platform,rtsp://10.9.0.4/main,,,station,40380,Inner Loop,,41.8857,-87.6309,no',
    ].join('\n');
    const r = await importCamerasCsv(repo, csv);
    expect(r.errors).toEqual([]);
    expect(r.imported.map((c) => c.name)).toEqual(['Bus 4012 cab', 'Clark/Lake platform']);
    const cab = repo.findByName('Bus 4012 cab')!;
    expect(cab.mount).toEqual({ kind: 'operator_cab', vehicleId: '4012' });
    expect(cab.credentials).toEqual({ username: 'op', password: 'p@ss,w:rd%' });
    expect(cab.analyticsEnabled).toBe(true);
    const plat = repo.findByName('Clark/Lake platform')!;
    expect(plat.mount).toEqual({ kind: 'station', stationId: '40380', platform: 'Inner Loop' });
    expect(plat.location).toEqual({ lat: 41.8857, lon: -87.6309 });
    expect(plat.analyticsEnabled).toBe(false);
    // The stored row does not hold the password in clear.
    const raw = await db
      .as<CameraTables>()
      .selectFrom('cameras')
      .select('credentials')
      .where('name', '=', 'Bus 4012 cab')
      .executeTakeFirstOrThrow();
    expect(raw.credentials!.toString('latin1')).not.toContain('p@ss');
    // In the database, not only in this process's memory.
    expect((await repo.repo.list()).map((c) => c.name)).toEqual(['Bus 4012 cab', 'Clark/Lake platform']);
  });

  it('reports every bad row by line and column, never echoes a password, and imports nothing', async () => {
    const { repo } = await setup(open);
    await repo.create({ name: 'Existing cam', url: 'rtsp://h/x' });
    const csv = [
      HEADER,
      'Good one,rtsp://10.0.0.1/a,,,other,,,,,,',
      'Bad scheme,http://10.0.0.2/a,,,other,,,,,,',
      'Existing cam,rtsp://10.0.0.3/a,,,other,,,,,,',
      'Good one,rtsp://10.0.0.4/a,,,other,,,,,,',
      'No station,rtsp://10.0.0.5/a,,,station,,,,,,',
      'Half located,rtsp://10.0.0.6/a,,,other,,,,41.8,,',
      'Shell,rtsp://10.0.0.7/a;rm -rf,,,other,,,,,,',
      'Bool,rtsp://10.0.0.8/a,,,other,,,,,,maybe',
      'Short row,rtsp://10.0.0.9/a',
    ].join('\n');
    const r = await importCamerasCsv(repo, csv);
    expect(r.imported).toEqual([]);
    const byLine = (n: number) => r.errors.filter((e) => e.line === n);
    expect(byLine(2)).toEqual([]);
    expect(byLine(3)[0]).toMatchObject({ column: 'url', message: expect.stringMatching(/scheme "http:"/) });
    expect(byLine(4)[0]).toMatchObject({ column: 'name', message: expect.stringMatching(/already exists/) });
    expect(byLine(5)[0]).toMatchObject({ column: 'name', message: expect.stringMatching(/also on line 2/) });
    expect(byLine(6)).toEqual([{ line: 6, column: 'station_id', message: 'station_id is required for a station mount' }]);
    expect(byLine(7)[0]).toMatchObject({ column: 'lon' });
    expect(byLine(8)[0]).toMatchObject({ column: 'url', message: expect.stringMatching(/character ";"/) });
    expect(byLine(9)[0]).toMatchObject({ column: 'analytics' });
    expect(byLine(10)[0]?.message).toMatch(/2 fields, the header has 11/);
    expect(repo.list().map((c) => c.name)).toEqual(['Existing cam']);
    expect((await repo.repo.list()).map((c) => c.name)).toEqual(['Existing cam']);
  });

  it('names unknown or missing columns in the header', async () => {
    const { repo } = await setup(open);
    expect((await importCamerasCsv(repo, 'name,rtsp\nx,y')).errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/unknown column "rtsp"/),
      expect.stringMatching(/no "url" column/),
    ]);
    expect((await importCamerasCsv(repo, '')).errors[0]?.message).toMatch(/empty/);
  });

  it('rolls the whole file back when one insert fails (a name taken meanwhile through another replica)', async () => {
    const { db, repo } = await setup(open);
    // Written behind this catalog's back, as another replica would: the check passes, the insert does not.
    const other = new CameraRepository(db, new CredentialVault(mkdtempSync(join(tmpdir(), 'csv-')), null));
    await other.create({ name: 'Taken', url: 'rtsp://h/t' });
    const csv = [HEADER, 'First,rtsp://10.0.0.1/a,,,other,,,,,,', 'Taken,rtsp://10.0.0.2/a,,,other,,,,,,'].join('\n');
    await expect(importCamerasCsv(repo, csv)).rejects.toThrow(/already exists/);
    expect((await repo.repo.list()).map((c) => c.name)).toEqual(['Taken']);
    expect(repo.list()).toEqual([]);
  });
});
