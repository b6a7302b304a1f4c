import { z } from 'zod';
import { IncidentUpdate, routes, TestAlertRequest, type Incident, type User } from '../../contract';
import { reaches } from '../alerts/rooms';
import { actorOf } from '../audit';
import { SentinelError } from '../errors';
import type { Feature } from '../feature';
import { parseInput } from '../http/errors';
import { incidentToCap } from './cap';

export { IncidentStore } from './service';
export { WebhookOutbox } from './outbox';

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(2000).optional(),
  open: z.enum(['true', 'false']).optional(),
});

/**
 * Incidents: every raised alert joins an incident in the alert's own transaction (the alert
 * store calls the repository); acknowledgements and escalations show in its history;
 * operators move it through its states (core/lifecycle/service.ts applies the one
 * acknowledgement rule); CAP 1.2 export and the signed webhook (through its outbox) for
 * dispatch systems. Incidents reach sockets through core/alerts/deliver.ts, from the log.
 * Also the admin's "send test alert".
 */
export const incidentsFeature: Feature = {
  name: 'incidents',
  register(ctx) {
    const { http, bus } = ctx;
    const { incidents: store, alerts, service: lifecycle, outbox } = ctx.lifecycle;
    const visibleTo = async (user: User, inc: Incident): Promise<boolean> =>
      user.role !== 'liaison' || reaches(user, await store.rooms(inc.id));

    // Clips are cut by recording (core/analytics); they land in the incident's history and the log.
    const noteClip = (alertId: string, kind: 'clip.ready' | 'clip.failed', payload: Record<string, unknown>): void =>
      void store
        .noteClip(alertId, kind, payload)
        .catch((err: unknown) => ctx.log.error({ err, alertId }, 'cannot note a clip in its incident'));
    bus.on('clip:ready', (c) => noteClip(c.alertId, 'clip.ready', { ...c }));
    bus.on('clip:failed', (c) => noteClip(c.alertId, 'clip.failed', { ...c }));

    http.get(routes.incidents.path, async (req) => {
      const q = parseInput(ListQuery, req.query, 'query');
      const user = req.auth!.user;
      const incidents: Incident[] = [];
      for (const i of await store.list({ ...(q.limit ? { limit: q.limit } : {}), open: q.open === 'true' }))
        if (await visibleTo(user, i)) incidents.push(i);
      return { incidents };
    });
    const visible = async (id: string, user: User): Promise<Incident> => {
      const inc = await store.get(id);
      // Out of a liaison's scope reads as absent: no probing for other districts' incidents.
      if (!inc || !(await visibleTo(user, inc))) throw new SentinelError(`no incident with id ${id}`, 'not_found', 'id');
      return inc;
    };
    http.get(routes.incident.path, async (req) => visible(parseInput(IdParams, req.params, 'params').id, req.auth!.user));
    http.patch(routes.incidentUpdate.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const patch = parseInput(IncidentUpdate, req.body);
      return lifecycle.updateIncident(id, patch, req.auth!.user, actorOf(req));
    });
    http.get(routes.incidentCap.path, async (req, reply) => {
      const inc = await visible(parseInput(IdParams, req.params, 'params').id, req.auth!.user);
      await ctx.audit.record(req, 'incident.export_cap', `incident:${inc.id}`);
      return reply.type('application/xml; charset=utf-8').send(incidentToCap(inc));
    });

    http.post(routes.testAlert.path, async (req, reply) => {
      const t = parseInput(TestAlertRequest, req.body);
      const stored = await alerts.create(
        {
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
        },
        {
          audit: (a) => ({
            ...actorOf(req),
            action: 'alert.test',
            target: `alert:${a.id}`,
            detail: { district: t.district, lines: t.lines, routes: t.routes },
          }),
        },
      );
      return reply.status(201).send({ id: stored.alert.id, seq: stored.seq });
    });
    // A drill's alert is cleared the way a rule clears one (endedAt), so its clear reaches every client.
    http.post(routes.testAlertClear.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const cur = await alerts.get(id);
      if (!cur || (cur.alert.detail as { test?: unknown }).test !== true)
        throw new SentinelError(`no test alert with id ${id}`, 'not_found', 'id');
      const next = cur.alert.endedAt ? cur : await alerts.update(id, { endedAt: new Date() });
      await ctx.audit.record(req, 'alert.test_clear', `alert:${id}`);
      return next.alert;
    });

    // One replica posts the webhook at a time (its lease); another resumes from the table when it dies.
    if (outbox)
      ctx.cluster.leases.job('webhook-outbox', () => {
        outbox.start();
        return () => outbox.pause();
      });
    ctx.onClose(async () => {
      await outbox?.drain((ctx.config.incidents.webhook?.drainTimeoutS ?? 0) * 1000);
    });
  },
};
