import { AlertPush } from '../alerts/deliver';
import { AlertStore } from '../alerts/store';
import type { AuditTrail } from '../audit/trail';
import type { Config } from '../config';
import type { SqlDb } from '../db/sql';
import type { EventBus } from '../events/bus';
import type { SentinelIo } from '../feature';
import { WebhookOutbox } from '../incidents/outbox';
import { IncidentStore } from '../incidents/service';
import type { Logger } from '../logger';
import { LifecycleLog } from './log';
import { LifecycleService } from './service';

export { LifecycleLog, type LogEvent, type LogKind } from './log';
export { LifecycleService } from './service';

/** The alert lifecycle's services, built once in core/app.ts and handed to the features that use them. */
export interface Lifecycle {
  log: LifecycleLog;
  alerts: AlertStore;
  incidents: IncidentStore;
  service: LifecycleService;
  push: AlertPush;
  /** Null without a configured dispatch webhook. */
  outbox: WebhookOutbox | null;
}

export interface LifecycleDeps {
  config: Config;
  db: SqlDb;
  bus: EventBus;
  io: SentinelIo;
  audit: AuditTrail;
  log: Logger;
}

/**
 * Wires the alert lifecycle: the log, the alert store (which files each alert into its
 * incident inside the alert's transaction), the acknowledgement/escalation rule, socket
 * delivery and the webhook outbox. Every dependency is a constructor argument.
 */
export function buildLifecycle(d: LifecycleDeps): Lifecycle {
  const log = new LifecycleLog(d.db, d.log.child({ name: 'lifecycle' }));
  const alerts = new AlertStore({ db: d.db, bus: d.bus, lifecycle: log, audit: d.audit, log: d.log.child({ name: 'alerts' }) });
  const incidents = new IncidentStore(d.db, log, d.config.incidents.mergeWindowS * 1000);
  alerts.onRaisedInTx((a, trx) => incidents.fileInTx(a, trx));
  const service = new LifecycleService({
    db: d.db,
    log: d.log.child({ name: 'lifecycle' }),
    bus: d.bus,
    lifecycle: log,
    alerts,
    incidents,
    audit: d.audit,
  });
  const push = new AlertPush(
    { io: d.io, log: d.log.child({ name: 'alert-delivery' }), lifecycle: log, alerts, incidents, service },
    d.config.push.escalateAfterS * 1000,
  );
  const hook = d.config.incidents.webhook;
  const outbox = hook
    ? new WebhookOutbox(d.db, log, incidents, { url: hook.url, secret: hook.secret }, d.log.child({ name: 'webhook' }))
    : null;
  return { log, alerts, incidents, service, push, outbox };
}
