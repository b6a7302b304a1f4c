import type { AlertAcked, AlertEscalated } from '../../contract';
import type { NewAlert } from '../../core/alerts/store';
import { AlertStore } from '../../core/alerts/store';
import { AuditTrail } from '../../core/audit/trail';
import type { SqlDb } from '../../core/db/sql';
import { EventBus } from '../../core/events/bus';
import { IncidentStore } from '../../core/incidents/service';
import { LifecycleLog } from '../../core/lifecycle/log';
import { LifecycleService, type Actor } from '../../core/lifecycle/service';
import { createLogger } from '../../core/logger';

/** One replica's alert spine on a database, wired as core/lifecycle/index.ts wires it (no sockets, no webhook). */
export interface Spine {
  db: SqlDb;
  bus: EventBus;
  lifecycle: LifecycleLog;
  audit: AuditTrail;
  alerts: AlertStore;
  incidents: IncidentStore;
  service: LifecycleService;
  /** What this replica's bus published, in order. */
  acked: AlertAcked[];
  escalated: AlertEscalated[];
}

export function spineOn(db: SqlDb, opts: { mergeWindowMs?: number } = {}): Spine {
  const log = createLogger('silent');
  const bus = new EventBus();
  const lifecycle = new LifecycleLog(db, log);
  const audit = new AuditTrail(db);
  const alerts = new AlertStore({ db, bus, lifecycle, audit, log });
  const incidents = new IncidentStore(db, lifecycle, opts.mergeWindowMs ?? 5 * 60_000);
  alerts.onRaisedInTx((a, trx) => incidents.fileInTx(a, trx));
  const service = new LifecycleService({ db, log, bus, lifecycle, alerts, incidents, audit });
  const acked: AlertAcked[] = [];
  const escalated: AlertEscalated[] = [];
  bus.on('alert:acked', (a) => void acked.push(a));
  bus.on('alert:escalated', (e) => void escalated.push(e));
  return { db, bus, lifecycle, audit, alerts, incidents, service, acked, escalated };
}

export const OPERATOR: Actor = { id: 'u-op', username: 'op', role: 'operator' };
export const SECOND_OPERATOR: Actor = { id: 'u-op2', username: 'op2', role: 'operator' };

/** A crowding alert on cam-1, zone z1, district 1; override what a test varies. */
export function newAlert(over: Partial<NewAlert> = {}): NewAlert {
  return {
    kind: 'crowding',
    cameraId: 'cam-1',
    cameraName: 'Clark/Lake platform',
    zoneId: 'z1',
    zoneName: 'Platform',
    score: 1.2,
    snapshotPath: null,
    trackIds: [1],
    detail: { people: 6, capacity: 5 },
    scope: { placement: null, district: '1', lines: ['Blue'], routes: [] },
    ...over,
  };
}

/** Every lifecycle log sequence, in order (for "no gap" checks). */
export async function logSeqs(db: SqlDb): Promise<number[]> {
  const rows = await db.as<{ lifecycle_events: { seq: number } }>().selectFrom('lifecycle_events').select('seq').orderBy('seq').execute();
  return rows.map((r) => r.seq);
}

/** 1..n. */
export const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
