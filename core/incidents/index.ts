import { z } from 'zod';
import { IncidentUpdate, routes, TestAlertRequest, type Alert, type Incident, type User } from '../../contract';
import { alertRooms, inScope } from '../alerts/deliver';
import { audit } from '../audit';
import { SentinelError } from '../errors';
import type { Feature } from '../feature';
import { parseInput } from '../http/errors';
import { incidentToCap } from './cap';
import { IncidentStore } from './service';
import { WebhookSender } from './webhook';

export { IncidentStore } from './service';

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
const ListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(2000).optional(), open: z.enum(['true', 'false']).optional() });

/** An incident seen as an alert, for scoping: the same rooms its alerts go to. */
function asScopeAlert(inc: Incident): Alert {
  return { id: inc.id, kind: inc.kind, cameraId: inc.cameraId, cameraName: inc.cameraName, zoneId: inc.zoneId, zoneName: null, score: 0, startedAt: inc.createdAt, endedAt: null, snapshotUrl: null, trackIds: [], detail: {}, scope: inc.scope };
}
function visibleTo(user: User, inc: Incident): boolean {
  return user.role !== 'liaison' || inScope(user, asScopeAlert(inc));
}

/**
 * Incidents (issue 7): every raised alert joins an incident; acknowledgements and
 * escalations show in its history; operators move it through its states; CAP 1.2 export and
 * a signed webhook for dispatch systems. Also the admin's "send test alert".
 */
export const incidentsFeature: Feature = {
  name: 'incidents',
  register(ctx) {
    const { http, io, db, bus, log, config } = ctx;
    const store = new IncidentStore(db, config.incidents.mergeWindowS * 1000);
    const hook = config.incidents.webhook ? new WebhookSender(config.incidents.webhook.url, config.incidents.webhook.secret, log.child({ name: 'webhook' })) : null;
    incidentStores.set(db, { store, hook });

    const publish = (inc: Incident, created: boolean): void => {
      io.to(alertRooms(asScopeAlert(inc))).emit('incident:upsert', inc);
      hook?.send(created ? 'incident.created' : 'incident.updated', inc);
    };

    bus.on('alert:raised', (alert) => {
      try {
        const r = store.addAlert(alert);
        publish(r.incident, r.created);
      } catch (err) {
        log.error({ err, alertId: alert.id }, 'could not file the alert into an incident');
      }
    });
    bus.on('alert:acked', (ack) => {
      const inc = store.acknowledgeFromAlert(ack.alertId, ack.by);
      if (inc) publish(inc, false);
    });
    bus.on('alert:escalated', (e) => {
      const inc = store.noteEscalation(e.alertId, e.reason);
      if (inc) publish(inc, false);
    });

    http.get(routes.incidents.path, async (req) => {
      const q = parseInput(ListQuery, req.query, 'query');
      const user = req.auth!.user;
      return { incidents: store.list({ ...(q.limit ? { limit: q.limit } : {}), open: q.open === 'true' }).filter((i) => visibleTo(user, i)) };
    });
    const visible = (id: string, user: User): Incident => {
      const inc = store.get(id);
      // Out of a liaison's scope reads as absent: no probing for other districts' incidents.
      if (!inc || !visibleTo(user, inc)) throw new SentinelError(`no incident with id ${id}`, 'not_found', 'id');
      return inc;
    };
    http.get(routes.incident.path, async (req) => visible(parseInput(IdParams, req.params, 'params').id, req.auth!.user));
    http.patch(routes.incidentUpdate.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const patch = parseInput(IncidentUpdate, req.body);
      const inc = store.update(id, patch, req.auth!.user.username);
      audit(db, req, 'incident.update', `incident:${id}`, patch);
      publish(inc, false);
      return inc;
    });
    http.get(routes.incidentCap.path, async (req, reply) => {
      const inc = visible(parseInput(IdParams, req.params, 'params').id, req.auth!.user);
      audit(db, req, 'incident.export_cap', `incident:${inc.id}`);
      return reply.type('application/xml; charset=utf-8').send(incidentToCap(inc));
    });

    http.post(routes.testAlert.path, async (req, reply) => {
      const t = parseInput(TestAlertRequest, req.body);
      const stored = ctx.alerts.create({
        kind: t.kind,
        cameraId: t.cameraId,
        cameraName: t.cameraName,
        zoneId: t.zoneId,
        zoneName: null,
        score: 1,
        snapshotPath: null,
        trackIds: [],
        detail: { test: true, by: req.auth!.user.username },
        scope: { placement: null, district: t.district, lines: t.lines, routes: t.routes },
      });
      audit(db, req, 'alert.test', `alert:${stored.alert.id}`, { district: t.district, lines: t.lines, routes: t.routes });
      return reply.status(201).send({ id: stored.alert.id, seq: stored.seq });
    });

    ctx.onClose(async () => {
      await hook?.drain();
      incidentStores.delete(db);
    });
  },
};

export const incidentStores = new WeakMap<object, { store: IncidentStore; hook: WebhookSender | null }>();
