import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { openReplicas } from '../../test/support/replicas';
import { rows } from '../../test/support/rows';
import { newAlert, OPERATOR, spineOn, type Spine } from '../../test/support/spine';
import type { LogEvent } from '../lifecycle/log';
import { createLogger } from '../logger';
import { IDEMPOTENCY_HEADER, WebhookOutbox, type OutboxOptions, type WebhookBody } from './outbox';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook';

const SECRET = 'outbox-test-secret';

interface Delivery {
  key: string;
  body: WebhookBody;
  status: number;
  at: number;
  signed: boolean;
}

/** A real HTTP receiver on a free local port; `answer` picks the status of the n-th request (from 0). */
class Receiver {
  readonly deliveries: Delivery[] = [];
  answer: (n: number, key: string) => number = () => 200;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    let self: Receiver | null = null;
    const server = createServer((req, res) => {
      void readBody(req).then((raw) => {
        const key = String(req.headers[IDEMPOTENCY_HEADER]);
        const ts = String(req.headers[TIMESTAMP_HEADER]);
        const status = self!.answer(self!.deliveries.length, key);
        self!.deliveries.push({
          key,
          body: JSON.parse(raw) as WebhookBody,
          status,
          at: Date.now(),
          signed: req.headers[SIGNATURE_HEADER] === signWebhook(SECRET, ts, raw),
        });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
    return self;
  }

  accepted(): Delivery[] {
    return this.deliveries.filter((d) => d.status === 200);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The log events the outbox turns into deliveries (those about an incident) after a cursor. */
async function incidentEvents(s: Spine, after: number): Promise<LogEvent[]> {
  return (await s.lifecycle.after(after, 1000)).filter((e) => e.incidentId !== null);
}

interface OutboxRow {
  idem_key: string;
  attempts: number;
  last_error: string | null;
  delivered_at: string | null;
}

describeOnBothDatabases('WebhookOutbox', (open, dialect) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const receiver = async (): Promise<Receiver> => {
    const r = await Receiver.start();
    cleanup.push(() => r.close());
    return r;
  };
  const outboxOn = (s: Spine, r: Receiver, opts: Partial<OutboxOptions> = {}): WebhookOutbox => {
    const o = new WebhookOutbox(s.db, s.lifecycle, s.incidents, { url: r.url, secret: SECRET, ...opts }, createLogger('silent'));
    cleanup.push(() => o.drain(0));
    return o;
  };
  /**
   * start() reads where to begin (the table's newest row, else the log's head) asynchronously
   * and tells no one when it has; events committed before that are history it skips. The test
   * waits for its private flag rather than a guessed delay, the machine may be loaded.
   */
  const started = async (o: WebhookOutbox): Promise<void> => {
    o.start();
    await until('the outbox to begin', () => Reflect.get(o, 'begun') === true);
  };
  const outboxRows = (s: Spine) =>
    rows(s.db, sql<OutboxRow>`SELECT idem_key, attempts, last_error, delivered_at FROM webhook_outbox ORDER BY id`);

  it('delivers every incident event once, signed, with its sequence as a stable idempotency key; none from before the first start', async () => {
    const s = spineOn(await open());
    const r = await receiver();
    await s.alerts.create(newAlert({ cameraId: 'cam-history' }));
    const o = outboxOn(s, r);
    await started(o);
    const from = await s.lifecycle.head();

    const a = await s.alerts.create(newAlert());
    await s.alerts.create(newAlert()); // merged into a's incident
    const inc = (await s.incidents.forAlert(a.alert.id))!;
    await s.service.updateIncident(inc.id, { state: 'acknowledged' }, OPERATOR, { actor: 'op' });
    const c = await s.alerts.create(newAlert({ cameraId: 'cam-2', startedAt: new Date(Date.now() - 120_000) }));
    await s.service.escalate(c.alert.id, 'timeout', { rooms: ['escalation'], liaisons: [] }, null);
    const expected = await incidentEvents(s, from);
    expect(expected.map((e) => e.kind)).toEqual([
      'incident.created',
      'incident.merged',
      'incident.state',
      'incident.created',
      'alert.escalated',
    ]);

    await until('every delivery', async () => r.accepted().length >= expected.length && (await o.pending()) === 0);
    await sleep(300); // nothing more comes
    expect(r.deliveries.map((d) => d.key).sort()).toEqual(expected.map((e) => `sentinel-event-${e.seq}`).sort());
    expect(r.deliveries.every((d) => d.signed && d.status === 200)).toBe(true);
    for (const d of r.deliveries) {
      const e = expected.find((x) => `sentinel-event-${x.seq}` === d.key)!;
      expect(d.body).toMatchObject({
        event: e.kind === 'incident.created' ? 'incident.created' : 'incident.updated',
        kind: e.kind,
        seq: e.seq,
        incident: { id: e.incidentId },
      });
    }
    // Per incident, oldest first.
    const ofA = r.deliveries.filter((d) => d.body.incident.id === inc.id).map((d) => d.body.seq);
    expect(ofA).toEqual([...ofA].sort((x, y) => x - y));
    expect(r.deliveries.some((d) => d.body.incident.cameraId === 'cam-history')).toBe(false);

    // The next start resumes from the table: nothing is posted twice, and what is new is posted once.
    expect(await o.drain(1000)).toBe(0);
    const next = outboxOn(s, r);
    await started(next);
    await s.service.updateIncident(inc.id, { note: 'after the restart' }, OPERATOR, { actor: 'op' });
    await until('the new delivery', () => r.deliveries.length === expected.length + 1);
    await sleep(300);
    expect(r.deliveries).toHaveLength(expected.length + 1);
    expect(r.deliveries.at(-1)!.body).toMatchObject({ kind: 'incident.updated', incident: { id: inc.id } });
    expect(new Set(r.deliveries.map((d) => d.key)).size).toBe(r.deliveries.length);
  });

  it('retries a refused delivery with growing backoff, same key, and a later change of the incident never overtakes it', async () => {
    const s = spineOn(await open());
    const r = await receiver();
    r.answer = (n) => (n < 2 ? 500 : 200);
    const o = outboxOn(s, r, { baseDelayMs: 150, maxDelayMs: 5000 });
    await started(o);
    const a = await s.alerts.create(newAlert());
    const inc = (await s.incidents.forAlert(a.alert.id))!;
    await until('the first attempt', () => r.deliveries.length >= 1);
    await s.service.updateIncident(inc.id, { note: 'second change' }, OPERATOR, { actor: 'op' });
    await until('the failure recorded', async () => (await outboxRows(s))[0]?.last_error === 'receiver answered 500');
    expect((await outboxRows(s))[0]).toMatchObject({ attempts: 1, delivered_at: null });

    await until('both delivered', async () => (await o.pending()) === 0);
    const [first, second] = await outboxRows(s);
    expect(first).toMatchObject({ attempts: 3, last_error: null });
    expect(first!.delivered_at).not.toBeNull();
    expect(second).toMatchObject({ attempts: 1, last_error: null });
    const keys = r.deliveries.map((d) => d.key);
    expect(keys).toEqual([first!.idem_key, first!.idem_key, first!.idem_key, second!.idem_key]);
    expect(r.deliveries.map((d) => d.status)).toEqual([500, 500, 200, 200]);
    expect(r.deliveries.map((d) => d.body.kind)).toEqual(['incident.created', 'incident.created', 'incident.created', 'incident.updated']);
    // 150 ms after the first failure, 300 ms after the second (timers may fire a little early).
    const gaps = r.deliveries.slice(1, 3).map((d, i) => d.at - r.deliveries[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(140);
    expect(gaps[1]).toBeGreaterThanOrEqual(290);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
  });

  it('drain() delivers what is due and returns what is left; the rest waits in the table for the next start', async () => {
    const s = spineOn(await open());
    const r = await receiver();
    const o = outboxOn(s, r);
    await started(o);
    const a = await s.alerts.create(newAlert());
    await s.service.updateIncident((await s.incidents.forAlert(a.alert.id))!.id, { note: 'n' }, OPERATOR, { actor: 'op' });
    // Both rows are in the table once the writes returned; drain posts them before it stops.
    expect(await o.drain(5000)).toBe(0);
    expect(r.accepted()).toHaveLength(2);

    // A receiver that is down: drain gives up at once on a row that is backing off.
    r.answer = () => 503;
    const down = outboxOn(s, r, { baseDelayMs: 2500 });
    await started(down);
    const b = await s.alerts.create(newAlert({ cameraId: 'cam-down' }));
    await s.service.updateIncident((await s.incidents.forAlert(b.alert.id))!.id, { note: 'n' }, OPERATOR, { actor: 'op' });
    await until('the refused attempt', () => r.deliveries.some((d) => d.status === 503));
    const t0 = Date.now();
    expect(await down.drain(5000)).toBe(2);
    expect(Date.now() - t0).toBeLessThan(2000);
    const refused = r.deliveries.filter((d) => d.status === 503);
    expect(refused).toHaveLength(1); // the second change waits behind the first

    // Back up: the next start delivers both, in order, the first with the key it was refused under.
    r.answer = () => 200;
    const next = outboxOn(s, r);
    await started(next);
    await until('the rest delivered', async () => (await next.pending()) === 0);
    const after = r.deliveries.slice(r.deliveries.indexOf(refused[0]!) + 1);
    expect(after.map((d) => d.body.kind)).toEqual(['incident.created', 'incident.updated']);
    expect(after[0]!.key).toBe(refused[0]!.key);
    expect(await next.drain(1000)).toBe(0);
  });

  it('pause() hands over: another replica started after it delivers what came meanwhile, each once', async () => {
    const { dbs, close } = await openReplicas(dialect, 2);
    cleanup.push(close);
    const [sa, sb] = [spineOn(dbs[0]!), spineOn(dbs[1]!)];
    const r = await receiver();
    const oa = outboxOn(sa, r);
    await started(oa);
    const a = await sa.alerts.create(newAlert());
    await until('A delivers', () => r.deliveries.length === 1);
    oa.pause();
    // Written on A while no replica holds the lease.
    await sa.service.updateIncident((await sa.incidents.forAlert(a.alert.id))!.id, { note: 'n' }, OPERATOR, { actor: 'op' });
    await sleep(200);
    expect(r.deliveries).toHaveLength(1);
    // A paused outbox is not the deliverer: draining it waits for nothing.
    expect(await oa.drain(5000)).toBe(0);
    const ob = outboxOn(sb, r);
    await started(ob);
    // B reads A's event from the shared log when told of it (here: its own next write).
    await sb.alerts.create(newAlert({ cameraId: 'cam-b' }));
    await until('B delivers both', () => r.deliveries.length === 3);
    await sleep(300);
    expect(r.deliveries.map((d) => d.body.kind)).toEqual(['incident.created', 'incident.updated', 'incident.created']);
    expect(new Set(r.deliveries.map((d) => d.key)).size).toBe(3);
  });
});
