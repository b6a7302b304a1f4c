import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiErrorBody, CameraList, CsvImportReport, CsvImportResult, ProbeResult } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig } from '../../core/config';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { createAndLogin, signIn, type SignedIn } from '../support/auth';
import { assets, freePort, garbageServer, quietLog, skipReason, vtest } from './ingest-helpers';
import { onTestDatabase } from '../support/core';

const SECRET = 'Pa:ss@w%rd-Q7';
const USER = 'tech@cta';

// The technician API against a real core (HTTP, SQLite file) and the real RTSP simulator.
describe.skipIf(skipReason !== null)(`technician API: probe and CSV import${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sim: RunningSim;
  let core: CoreHandle;
  let admin: SignedIn;
  let tech: SignedIn;
  let operator: SignedIn;
  let junk: { port: number; server: Server };

  const post = async (who: SignedIn, path: string, body: unknown) => {
    const res = await who.api(path, { method: 'POST', body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text, json: text ? (JSON.parse(text) as unknown) : null };
  };
  const cameraNames = async () =>
    CameraList.parse(await (await admin.api('/api/v1/cameras')).json())
      .cameras.map((c) => c.name)
      .sort();

  beforeAll(async () => {
    sim = await startSimulator({
      port: await freePort(),
      streams: [
        { name: 'open', file: vtest },
        { name: 'secure', file: vtest, auth: { username: USER, password: SECRET } },
      ],
    });
    junk = await garbageServer();
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-tech-api-'));
    const cfg = await onTestDatabase(loadConfig({ dataDir, port: 0, assetsDir: assets ?? undefined }, {}));
    core = await startCore(cfg, { log: quietLog });
    admin = await signIn(core);
    tech = await createAndLogin(core.url, admin, { username: 'tina-tech', password: 'technician-password-1', role: 'technician' });
    operator = await createAndLogin(core.url, admin, { username: 'oscar-op', password: 'operator-password-1', role: 'operator' });
  });
  afterAll(async () => {
    await core?.close();
    await sim?.close();
    junk?.server.close();
  });

  it('probes the simulator stream: codec, resolution and frame rate', async () => {
    const r = await post(tech, '/api/v1/cameras/probe', { url: sim.url('open') });
    expect(r.status, r.text).toBe(200);
    const info = ProbeResult.parse(r.json);
    expect(info.codec).toBe('h264');
    // vtest.avi is 768x576 (the simulator re-encodes it at its own size).
    expect(info.width).toBe(768);
    expect(info.height).toBe(576);
    expect(info.fps).toBeGreaterThan(0);
  });

  it('probes a stream with credentials in separate fields, and names a wrong password without echoing it', async () => {
    const url = sim.url('secure');
    const wrong = 'not-the-Secret-9';
    const bad = await post(tech, '/api/v1/cameras/probe', { url, username: USER, password: wrong });
    expect(bad.status).toBe(503);
    const err = ApiErrorBody.parse(bad.json).error;
    expect(err.field).toBe('password');
    expect(err.message).toMatch(
      /probe of rtsp:\/\/tech%40cta:\*\*\*@127\.0\.0\.1:\d+\/secure failed: .*(401|credentials|unauthori[sz]ed)/i,
    );
    expect(bad.text).not.toContain(wrong);

    const good = await post(tech, '/api/v1/cameras/probe', { url, username: USER, password: SECRET });
    expect(good.status, good.text).toBe(200);
    expect(ProbeResult.parse(good.json).codec).toBe('h264');
    expect(good.text).not.toContain(SECRET);
    expect(good.text).not.toContain(encodeURIComponent(SECRET));
  });

  it("probes with a saved camera's stored credentials when the form leaves them out", async () => {
    const created = await post(tech, '/api/v1/cameras', {
      name: 'Secure probe cam',
      url: sim.url('secure'),
      username: USER,
      password: SECRET,
      analyticsEnabled: false,
      recordingEnabled: false,
    });
    expect(created.status, created.text).toBe(201);
    const id = (created.json as { id: string }).id;
    const r = await post(tech, '/api/v1/cameras/probe', { url: sim.url('secure'), cameraId: id });
    expect(r.status, r.text).toBe(200);
    const missing = await post(tech, '/api/v1/cameras/probe', { url: sim.url('secure'), cameraId: 'no-such-camera' });
    expect(missing.status).toBe(404);
    expect(ApiErrorBody.parse(missing.json).error.field).toBe('cameraId');
  });

  it('names the exact failure: refused port, a server that is not RTSP, a bad URL', async () => {
    const closed = await freePort();
    const refused = await post(tech, '/api/v1/cameras/probe', { url: `rtsp://127.0.0.1:${closed}/cam` });
    expect(refused.status).toBe(503);
    expect(ApiErrorBody.parse(refused.json).error.message).toMatch(/connection refused by 127\.0\.0\.1:\d+/);

    const notRtsp = await post(tech, '/api/v1/cameras/probe', { url: `rtsp://127.0.0.1:${junk.port}/cam` });
    expect(notRtsp.status).toBe(503);
    expect(ApiErrorBody.parse(notRtsp.json).error.message).toMatch(/not (an )?RTSP/i);

    // A host that accepts and never answers: the probe gives up with "timed out", inside its
    // 9 s budget (the route promises an answer within 10 s; the figure is the probe's own).
    const held: Socket[] = [];
    const silent = createServer((sock) => void held.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const hung = await post(tech, '/api/v1/cameras/probe', { url: `rtsp://127.0.0.1:${(silent.address() as AddressInfo).port}/cam` });
      expect(hung.status).toBe(503);
      expect(ApiErrorBody.parse(hung.json).error.message).toMatch(/no answer from 127\.0\.0\.1:\d+ \(timed out\)/);
    } finally {
      held.forEach((s) => s.destroy());
      silent.close();
    }

    const badUrl = await post(tech, '/api/v1/cameras/probe', { url: 'http://127.0.0.1/cam' });
    expect(badUrl.status).toBe(400);
    const e = ApiErrorBody.parse(badUrl.json).error;
    expect(e.field).toBe('url');
    expect(e.message).toContain('scheme "http:" is not supported');

    const unknownKey = await post(tech, '/api/v1/cameras/probe', { url: sim.url('open'), pasword: 'x' });
    expect(unknownKey.status).toBe(400);
    expect(ApiErrorBody.parse(unknownKey.json).error.message).toContain('"pasword"');
  });

  it('imports nothing from a CSV with a bad row, and reports every bad row by line and column', async () => {
    const before = await cameraNames();
    const csv = [
      'name,url,mount,station_id,vehicle_id',
      `Clark/Lake P1,${sim.url('open')},station,40380,`,
      'Bus 1234 cab,http://10.0.0.9/cam,bus,,1234',
      `Bus 99,${sim.url('open')},bus,,`,
      `Clark/Lake P1,${sim.url('open')},station,40380,`,
    ].join('\n');
    const check = await post(tech, '/api/v1/cameras/import/check', { csv });
    expect(check.status).toBe(200);
    const report = CsvImportReport.parse(check.json);
    expect(report.ok).toBe(false);
    expect(report.rows).toBe(4);
    expect(report.names).toEqual([]);
    expect(report.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 3, column: 'url', message: expect.stringContaining('"http:"') }),
        expect.objectContaining({ line: 4, column: 'vehicle_id', message: 'vehicle_id is required for a bus mount' }),
        expect.objectContaining({ line: 5, column: 'name', message: '"Clark/Lake P1" is also on line 2' }),
      ]),
    );

    const imp = await post(tech, '/api/v1/cameras/import', { csv });
    expect(imp.status).toBe(400);
    const err = ApiErrorBody.parse(imp.json).error;
    expect(err.field).toBe('csv');
    expect(err.message).toMatch(/^nothing was imported: \d+ problems in the CSV: line 3, url: .*line 4, vehicle_id: .*line 5, name: /);
    expect(await cameraNames()).toEqual(before);
  });

  it('imports a good CSV in one go (201), and refuses the same names a second time', async () => {
    const before = await cameraNames();
    const csv = `name,url,mount,station_id,vehicle_id,analytics,recording\nImported A,${sim.url('open')},station,40380,,no,no\nImported B,${sim.url('open')},bus,,8123,no,no\n`;
    const check = CsvImportReport.parse((await post(tech, '/api/v1/cameras/import/check', { csv })).json);
    expect(check).toEqual({ ok: true, rows: 2, errors: [], names: ['Imported A', 'Imported B'] });
    expect(await cameraNames()).toEqual(before); // the dry run wrote nothing

    const imp = await post(tech, '/api/v1/cameras/import', { csv });
    expect(imp.status, imp.text).toBe(201);
    const result = CsvImportResult.parse(imp.json);
    expect(result.imported.map((c) => [c.name, c.mount, c.analyticsEnabled])).toEqual([
      ['Imported A', { kind: 'station', stationId: '40380' }, false],
      ['Imported B', { kind: 'bus', vehicleId: '8123' }, false],
    ]);
    expect(await cameraNames()).toEqual([...before, 'Imported A', 'Imported B'].sort());

    const again = await post(tech, '/api/v1/cameras/import', { csv });
    expect(again.status).toBe(400);
    expect(ApiErrorBody.parse(again.json).error.message).toContain('a camera named "Imported A" already exists');
    expect(await cameraNames()).toEqual([...before, 'Imported A', 'Imported B'].sort());

    // Audited: who imported which cameras, and every probe (with the URL masked).
    const trail = await core.services.audit.trail.list({ limit: 200 });
    const imported = trail.find((r) => r.action === 'camera.import');
    expect(imported?.actor).toBe('tina-tech');
    expect(JSON.stringify(imported?.detail)).toContain('Imported B');
    expect(trail.filter((r) => r.action === 'camera.import_rejected').length).toBeGreaterThanOrEqual(2);
    const probes = trail.filter((r) => r.action === 'camera.probe');
    expect(probes.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(trail)).not.toContain(SECRET);
  });

  it('refuses an empty or missing CSV with the field named', async () => {
    const r = await post(tech, '/api/v1/cameras/import', { csv: '' });
    expect(r.status).toBe(400);
    expect(ApiErrorBody.parse(r.json).error).toMatchObject({ field: 'csv', message: expect.stringContaining('the CSV is empty') });
    const headerOnly = CsvImportReport.parse((await post(tech, '/api/v1/cameras/import/check', { csv: 'name,url\n' })).json);
    expect(headerOnly).toEqual({
      ok: false,
      rows: 0,
      names: [],
      errors: [{ line: 2, column: null, message: 'the CSV has a header but no camera rows' }],
    });
    const headerOnlyImport = await post(tech, '/api/v1/cameras/import', { csv: 'name,url\n' });
    expect(headerOnlyImport.status).toBe(400);
  });

  it('forbids probe and import to an operator (403) and to a signed-out caller (401)', async () => {
    for (const path of ['/api/v1/cameras/probe', '/api/v1/cameras/import', '/api/v1/cameras/import/check']) {
      const body = path.endsWith('probe') ? { url: sim.url('open') } : { csv: `name,url\nX,${sim.url('open')}` };
      const r = await post(operator, path, body);
      expect(r.status, path).toBe(403);
      const anon = await fetch(new URL(path, core.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(anon.status, path).toBe(401);
    }
    expect(await cameraNames()).not.toContain('X');
  });
});
