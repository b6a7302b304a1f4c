import { ON_POSTGRES, onTestDatabase, sqliteOf } from '../support/core';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Incident, SmsConversation, SmsConversationList, SmsMessage } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import type { CameraRepository } from '../../core/cameras/repository';
import { loadConfig } from '../../core/config';
import { createLogger } from '../../core/logger';
import { TEXTS } from '../../core/sms/language';
import { createAndLogin, signIn, type SignedIn } from '../support/auth';
import { everyStoredValue } from '../support/rows';
import { sql } from 'kysely';

const ASSETS = process.env.SENTINEL_ASSETS ?? join(process.cwd(), '..', 'shared', 'assets');
const haveGeo = existsSync(join(ASSETS, 'chicago/geo/cta_l_stations.geojson'));
const TOKEN = 'twilio-auth-token-for-tests-0123';
const PUBLIC_URL = 'https://sentinel.example.org/api/v1/sms/inbound';
const SID = 'AC0123456789abcdef0123456789abcdef';

describe.skipIf(!haveGeo)('rider texts: signed webhook, incident at the place, answers, privacy', () => {
  let core: CoreHandle;
  let admin: SignedIn;
  let op: SignedIn;
  let liaison: SignedIn;
  let provider: Server;
  let dataDir: string;
  const sent: { url: string; headers: IncomingHttpHeaders; form: URLSearchParams }[] = [];
  let sidSeq = 0;
  const cams: Record<string, string> = {};

  /** Posts a form as Twilio does, signed with the twilio package's own helper (or not, or wrongly). */
  const inbound = async (from: string, body: string, sign: 'good' | 'none' | 'bad' = 'good'): Promise<Response> => {
    const params = {
      From: from,
      To: '+13125550100',
      Body: body,
      MessageSid: `SM${String(++sidSeq).padStart(32, '0')}`,
      NumMedia: '0',
      AccountSid: SID,
    };
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (sign === 'good') headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(TOKEN, PUBLIC_URL, params);
    if (sign === 'bad') headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature('another-token-entirely', PUBLIC_URL, params);
    if (sign === 'good') expect(twilio.validateRequest(TOKEN, headers['x-twilio-signature']!, PUBLIC_URL, params)).toBe(true);
    return fetch(new URL('/api/v1/sms/inbound', core.url), { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  };
  const message = (twimlText: string): string | null => /<Message>([\s\S]*?)<\/Message>/.exec(twimlText)?.[1] ?? null;
  const conversations = async (who: SignedIn = op) =>
    SmsConversationList.parse(await (await who.api('/api/v1/sms/conversations')).json()).conversations;
  const byNumber = async (last4: string) => (await conversations()).find((c) => c.numberMasked.endsWith(last4))!;
  const incident = async (id: string) => Incident.parse(await (await op.api(`/api/v1/incidents/${id}`)).json());

  beforeAll(async () => {
    // A real HTTP server standing in for Twilio's REST API.
    provider = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        sent.push({ url: req.url ?? '', headers: req.headers, form: new URLSearchParams(body) });
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `SMout${sent.length}`, status: 'queued' }));
      });
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-sms-'));
    const cfg = loadConfig({ port: 0, dataDir, assetsDir: ASSETS }, {});
    core = await startCore(
      await onTestDatabase({
        ...cfg,
        sms: {
          ...cfg.sms,
          authToken: TOKEN,
          publicUrl: PUBLIC_URL,
          accountSid: SID,
          apiBaseUrl: `http://127.0.0.1:${(provider.address() as AddressInfo).port}`,
          rateLimit: { max: 6, windowS: 60 },
          blockList: ['+13125559999'],
        },
      }),
      { log: createLogger(process.env.SMS_TEST_LOG ? 'error' : 'silent') },
    );
    admin = await signIn(core);
    op = await createAndLogin(core.url, admin, { username: 'op', password: 'operator-password-1', role: 'operator' });
    liaison = await createAndLogin(core.url, admin, {
      username: 'cpd19',
      password: 'liaison-password-1',
      role: 'liaison',
      scope: { districts: [], lines: ['Red'], routes: [] },
    });
    // Cameras registered in the core's own database (no stream: none is needed to list them).
    const repo = core.services.cameraRepo;
    const mk = async (
      name: string,
      mount: Parameters<CameraRepository['create']>[0]['mount'],
      location: { lat: number; lon: number } | null = null,
    ) =>
      (await repo.create({ name, url: 'rtsp://127.0.0.1:9/none', mount, location, analyticsEnabled: false, recordingEnabled: false })).id;
    cams.belmont = await mk('Belmont platform', { kind: 'station', stationId: '41320' }, { lat: 41.939751, lon: -87.65338 });
    cams.bus = await mk('Bus 1234 operator cab', { kind: 'operator_cab', vehicleId: '1234' });
    cams.car = await mk('Railcar 5001 interior', { kind: 'railcar', railcarId: '5001', line: 'Red' });
    // Bus 1234 on route 9, reported by a feed into the live fleet (Ashland Ave at Cermak).
    core.services.feeds.service.vehicles('test-feed', {
      vehicles: [
        {
          id: 'bus:1234',
          mode: 'bus',
          route: '9',
          lat: 41.8526,
          lon: -87.6665,
          heading: 0,
          destination: 'Irving Park',
          timestamp: new Date().toISOString(),
          delayed: false,
        },
      ],
      errors: [],
    });
  });
  afterAll(async () => {
    await core?.close();
    await new Promise<void>((r) => provider?.close(() => r()));
  });

  it('refuses an unsigned or wrongly signed webhook with 403, and audits it', async () => {
    const none = await inbound('+13125550101', 'Belmont', 'none');
    expect(none.status).toBe(403);
    const bad = await inbound('+13125550101', 'Belmont', 'bad');
    expect(bad.status).toBe(403);
    const audit = (await (await admin.api('/api/v1/audit?action=sms.signature_rejected')).json()) as {
      records: { detail: { reason: string } }[];
    };
    expect(audit.records.map((r) => r.detail.reason).sort()).toEqual(['invalid signature', 'missing signature']);
    expect(await conversations()).toEqual([]);
  });

  it('files a signed text as a rider-report incident at the station it names, with its cameras, and answers in TwiML', async () => {
    const res = await inbound('+13125551111', 'man with a knife on the belmnot red line platform');
    expect(res.status).toBe(200);
    expect(res.headers['get']('content-type')).toMatch(/xml/);
    expect(message(await res.text())).toBe(TEXTS.en.received);
    const c = await byNumber('1111');
    expect(c.location).toMatchObject({ stationId: '41320', stationName: 'Belmont', line: 'Red' });
    expect(c.cameras[0]).toMatchObject({ id: cams.belmont, why: 'station' });
    const inc = await incident(c.incidentId!);
    expect(inc).toMatchObject({ kind: 'rider-report', cameraId: cams.belmont, stationId: '41320', title: 'Rider report at Belmont' });
    expect(inc.scope.lines).toEqual(['Red']);
    expect(inc.scope.placement?.nearestStation?.name).toBe('Belmont');
    // A second rider about the same station joins the open incident.
    await inbound('+13125552222', 'fight at belmont');
    expect((await byNumber('2222')).incidentId).toBe(c.incidentId);
  });

  it('places "#9 bus 1234" at the bus\'s live position with the bus camera first', async () => {
    await inbound('+13125553333', '#9 bus 1234 guy threatening the driver');
    const c = await byNumber('3333');
    expect(c.cameras[0]).toMatchObject({ id: cams.bus, why: 'vehicle' });
    const inc = await incident(c.incidentId!);
    expect(inc.vehicleId).toBe('bus:1234');
    expect(inc.scope.routes).toEqual(['9']);
    expect(inc.scope.placement).toMatchObject({ lat: 41.8526, lon: -87.6665, vehicleId: 'bus:1234' });
  });

  it('places "Red Line car 5001" by the railcar camera and its line', async () => {
    await inbound('+13125554444', 'Red Line car 5001 two men fighting');
    const c = await byNumber('4444');
    expect(c.cameras[0]).toMatchObject({ id: cams.car, why: 'vehicle' });
    expect((await incident(c.incidentId!)).scope.lines).toEqual(['Red']);
  });

  it.each([
    ['es', '+13125555501', 'Estoy en Belmont, un hombre me sigue', 'received'],
    ['pl', '+13125555502', 'Jestem na stacji Belmont, ktoś mnie śledzi', 'received'],
    ['zh', '+13125555503', '我在Belmont站，有人跟踪我', 'received'],
    ['en', '+13125555504', 'someone is following me please', 'askPlace'],
    ['es', '+13125555505', 'hay un hombre armado, ayuda por favor', 'askPlace'],
  ] as const)('answers at once in %s (%s)', async (lang, from, body, which) => {
    const res = await inbound(from, body);
    expect(message(await res.text())).toBe(TEXTS[lang][which]);
    const c = await byNumber(from.slice(-4));
    expect(c.language).toBe(lang);
    expect(c.needsLocation).toBe(which === 'askPlace');
  });

  it('re-files an unplaced report once the rider names the place', async () => {
    const before = await byNumber('5504');
    const res = await inbound('+13125555504', 'red line car 5001');
    expect(message(await res.text())).toBeNull();
    const after = await byNumber('5504');
    expect(after.needsLocation).toBe(false);
    expect(after.incidentId).not.toBe(before.incidentId);
    expect(after.messages.map((m) => m.direction)).toEqual(['in', 'out', 'in']);
  });

  it("sends the operator's reply through the provider to the full number, and records it", async () => {
    const c = await byNumber('1111');
    const res = await op.api(`/api/v1/sms/conversations/${c.id}/reply`, {
      method: 'POST',
      body: JSON.stringify({ body: 'Help is on the way. Are you safe?' }),
    });
    expect(res.status).toBe(200);
    expect(SmsMessage.parse(await res.json())).toMatchObject({ direction: 'out', status: 'sent', author: 'op' });
    const last = sent.at(-1)!;
    expect(last.url).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(Object.fromEntries(last.form)).toEqual({ To: '+13125551111', From: '+13125550100', Body: 'Help is on the way. Are you safe?' });
    expect(Buffer.from(last.headers.authorization!.slice(6), 'base64').toString()).toBe(`${SID}:${TOKEN}`);
    const tooLong = await op.api(`/api/v1/sms/conversations/${c.id}/reply`, {
      method: 'POST',
      body: JSON.stringify({ body: 'x'.repeat(161) }),
    });
    expect(tooLong.status).toBe(400);
  });

  it('honours HELP and STOP: no reply can be sent after STOP, START resumes', async () => {
    expect(message(await (await inbound('+13125552222', 'HELP')).text())).toBe(TEXTS.en.help);
    expect(message(await (await inbound('+13125552222', 'STOP')).text())).toBe(TEXTS.en.stopped);
    const c = await byNumber('2222');
    expect(c.optedOut).toBe(true);
    const n = sent.length;
    const res = await op.api(`/api/v1/sms/conversations/${c.id}/reply`, {
      method: 'POST',
      body: JSON.stringify({ body: 'Are you safe?' }),
    });
    expect(res.status).toBe(409);
    expect(sent.length).toBe(n);
    await inbound('+13125552222', 'START');
    expect((await byNumber('2222')).optedOut).toBe(false);
  });

  it('keeps numbers encrypted at rest, masked in lists, hidden from liaisons until shared, revealed only audited', async () => {
    // Every stored row, on either database; the texts themselves are there, so the dump is real.
    const stored = await everyStoredValue(core.sql);
    expect(stored.includes(Buffer.from('man with a knife'))).toBe(true);
    for (const n of ['3125551111', '3125553333']) expect(stored.includes(Buffer.from(n))).toBe(false);
    if (!ON_POSTGRES) {
      // The SQLite file too, where a deleted or rewritten page could still hold an old value.
      sqliteOf(core).pragma('wal_checkpoint(TRUNCATE)');
      const raw = readFileSync(join(dataDir, 'sentinel.db'));
      for (const n of ['3125551111', '3125553333']) expect(raw.includes(Buffer.from(n))).toBe(false);
    }
    const c = await byNumber('1111');
    expect(c.numberMasked).toBe('•••• 1111');
    expect(JSON.stringify(await conversations())).not.toContain('3125551111');
    // The liaison for the Red Line sees the Belmont report's text and place, not the number.
    const seen = (await conversations(liaison)).find((x) => x.id === c.id)!;
    expect(seen.numberMasked).toBe('hidden');
    expect(seen.messages[0]!.body).toContain('knife');
    expect(seen.location.stationName).toBe('Belmont');
    // Out of scope (bus route 9) reads as absent.
    expect((await conversations(liaison)).some((x) => x.cameras[0]?.id === cams.bus)).toBe(false);
    expect(
      (await op.api(`/api/v1/sms/conversations/${c.id}/share`, { method: 'POST', body: JSON.stringify({ shared: true }) })).status,
    ).toBe(200);
    expect(SmsConversation.parse(await (await liaison.api(`/api/v1/sms/conversations/${c.id}`)).json()).numberMasked).toBe('•••• 1111');
    expect(
      (await liaison.api(`/api/v1/sms/conversations/${c.id}/reveal`, { method: 'POST', body: JSON.stringify({ reason: 'call back' }) }))
        .status,
    ).toBe(403);
    const reveal = await op.api(`/api/v1/sms/conversations/${c.id}/reveal`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'rider stopped answering; calling back' }),
    });
    expect(await reveal.json()).toEqual({ number: '+13125551111' });
    const audit = (await (await admin.api('/api/v1/audit?action=sms.number_reveal')).json()) as {
      records: { actor: string; detail: { reason: string } }[];
    };
    expect(audit.records[0]).toMatchObject({ actor: 'op', detail: { reason: 'rider stopped answering; calling back' } });
  });

  it('limits texts per number and drops blocked numbers', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await inbound('+13125556666', `message ${i} at belmont`)).status);
    expect(codes.slice(0, 6).every((s) => s === 200)).toBe(true);
    expect(codes.slice(6)).toEqual([429, 429]);
    expect((await inbound('+13125556667', 'fullerton')).status).toBe(200);
    const blocked = await inbound('+13125559999', 'belmont');
    expect(blocked.status).toBe(200);
    expect(message(await blocked.text())).toBeNull();
    expect((await conversations()).some((c) => c.numberMasked.endsWith('9999'))).toBe(false);
    // An operator's block takes effect on the next text.
    const c = await byNumber('6667');
    expect(
      (await op.api(`/api/v1/sms/conversations/${c.id}/block`, { method: 'POST', body: JSON.stringify({ reason: 'abusive texts' }) }))
        .status,
    ).toBe(200);
    await inbound('+13125556667', 'fullerton again');
    expect((await byNumber('6667')).messages.filter((m) => m.direction === 'in')).toHaveLength(1);
  });

  it('deletes conversations past the retention period, and audits the deletion', async () => {
    const c = await byNumber('4444');
    await sql`UPDATE sms_conversations SET last_message_at = ${new Date(Date.now() - 200 * 86_400_000).toISOString()} WHERE id = ${c.id}`.execute(
      core.sql.as(),
    );
    await core.services.sms.sweep();
    expect((await op.api(`/api/v1/sms/conversations/${c.id}`)).status).toBe(404);
    const audit = (await (await admin.api('/api/v1/audit?action=sms.retention_delete')).json()) as {
      records: { detail: { conversations: number; messages: number } }[];
    };
    expect(audit.records[0]!.detail).toMatchObject({ conversations: 1, messages: 2 });
  });
});
