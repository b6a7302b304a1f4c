import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import type { AlertEscalated } from '../../contract';
import type { SqlDialect } from '../db/sql';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { openReplicas } from '../../test/support/replicas';
import { rows } from '../../test/support/rows';
import { logSeqs, newAlert, oneTo, spineOn, type Spine } from '../../test/support/spine';
import type { AuditTables } from '../audit/tables';
import { createLogger } from '../logger';
import { LifecycleLog } from './log';
import type { Actor } from './service';

/** Many rounds on a loaded machine: more than the unit project's default time. */
const SLOW = 60_000;
const TOLD = { rooms: ['escalation'], liaisons: ['liaison-1'] };
const LONG_AGO = () => new Date(Date.now() - 10 * 60_000);

/**
 * The alert spine's guarantees across replicas: each replica is its own stack (log, alert
 * store, incidents, lifecycle service, audit trail) over its own `SqlDb` on one database (a
 * pool each on Postgres, a handle each on one SQLite WAL file). On Postgres the replicas act
 * truly at once, so only the serial locks and the conditional writes keep these true. SQLite
 * serialises writers by the file lock across processes; within this one process the replicas
 * take turns (a second handle's BEGIN IMMEDIATE would block the event loop the first one's
 * commit needs), alternating who goes first, so the same assertions hold there too.
 */
describeOnBothDatabases('alert spine shared by replicas', (_open, dialect) => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  const replicas = async (n: number): Promise<Spine[]> => {
    const r = await openReplicas(dialect, n);
    closers.push(r.close);
    return r.dbs.map((db) => spineOn(db));
  };
  /** Runs the operations together on Postgres; one after the other, in the order given, on SQLite. */
  const together = <T>(ops: (() => Promise<T>)[]): Promise<T[]> =>
    dialect === 'postgres' ? Promise.all(ops.map((op) => op())) : inTurn(ops);

  const ESCALATION_ROUNDS = rounds(dialect, 60, 20);
  it(
    `two replicas escalating the same alert at once escalate it once (${ESCALATION_ROUNDS} rounds)`,
    async () => {
      const [a, b] = await replicas(2);
      const ids: string[] = [];
      for (let round = 0; round < ESCALATION_ROUNDS; round++) {
        const alert = (await a!.alerts.create(newAlert({ cameraId: `cam-${round}`, startedAt: LONG_AGO() }))).alert;
        ids.push(alert.id);
        const passes = [a!, b!].map((s) => () => s.service.escalate(alert.id, 'timeout', TOLD, null));
        const [x, y] = await together(round % 2 ? passes : passes.reverse());
        // Both passes answer with the one escalation: the winner's event, read back by the loser.
        expect(x).not.toBeNull();
        expect(y).toEqual(x);
      }
      const events = await rows(
        a!.db,
        sql<{
          alert_id: string;
          n: number;
        }>`SELECT alert_id, count(*) AS n FROM lifecycle_events WHERE kind = 'alert.escalated' GROUP BY alert_id`,
      );
      expect(events.map((e) => [e.alert_id, Number(e.n)]).sort()).toEqual(ids.map((id) => [id, 1]).sort());
      const escalationRows = await rows(a!.db, sql<{ alert_id: string }>`SELECT alert_id FROM alert_escalations`);
      expect(escalationRows.map((r) => r.alert_id).sort()).toEqual([...ids].sort());
      const history = await rows(a!.db, sql<{ n: number }>`SELECT count(*) AS n FROM incident_events WHERE kind = 'escalated'`);
      expect(Number(history[0]!.n)).toBe(ESCALATION_ROUNDS);
      // Only the replica whose write won tells its sockets and logs it.
      const told: AlertEscalated[] = [...a!.escalated, ...b!.escalated];
      expect(told.map((e) => e.alertId).sort()).toEqual([...ids].sort());
    },
    SLOW,
  );

  const ACK_ROUNDS = rounds(dialect, 60, 20);
  it(
    `an alert acknowledged on one replica is never escalated after it by another's pass (${ACK_ROUNDS} rounds)`,
    async () => {
      const [a, b] = await replicas(2);
      const outcomes = { ackFirst: 0, escalationFirst: 0 };
      for (let round = 0; round < ACK_ROUNDS; round++) {
        const alert = (await a!.alerts.create(newAlert({ cameraId: `cam-${round}`, startedAt: LONG_AGO() }))).alert;
        const ack = async (): Promise<AlertEscalated | null> => {
          await a!.service.acknowledgeAlert(OPERATOR_A, alert.id, null);
          return null;
        };
        const pass = (): Promise<AlertEscalated | null> => b!.service.escalate(alert.id, 'timeout', TOLD, null);
        const results = await together(round % 2 ? [ack, pass] : [pass, ack]);
        const escalated = results[round % 2 ? 1 : 0]!;
        const log = (await a!.lifecycle.of({ alertId: alert.id })).filter((e) => e.kind.startsWith('alert.'));
        const ackSeq = log.find((e) => e.kind === 'alert.acknowledged')?.seq;
        const escSeq = log.find((e) => e.kind === 'alert.escalated')?.seq;
        expect(ackSeq).toBeDefined();
        if (escSeq === undefined) {
          // The ack committed first: the pass saw it and did nothing.
          expect(escalated).toBeNull();
          expect(await b!.service.escalated(alert.id)).toBe(false);
          outcomes.ackFirst++;
        } else {
          // The escalation committed first: it happened before the ack, never after.
          expect(escSeq).toBeLessThan(ackSeq!);
          expect(escalated).not.toBeNull();
          outcomes.escalationFirst++;
        }
      }
      expect(outcomes.ackFirst + outcomes.escalationFirst).toBe(ACK_ROUNDS);
      if (dialect === 'sqlite') expect(outcomes).toEqual({ ackFirst: ACK_ROUNDS / 2, escalationFirst: ACK_ROUNDS / 2 });
    },
    SLOW,
  );

  const WRITERS = 4;
  const ALERTS = rounds(dialect, 40, 15);
  it(
    `a follower reading while ${WRITERS} replicas commit alerts sees every event once, in order, without a gap (${WRITERS} x ${ALERTS} alerts)`,
    async () => {
      const spines = await replicas(WRITERS + 1);
      const writers = spines.slice(0, WRITERS);
      // The follower: the log a fifth replica's sockets replay from, reading the shared table by its cursor.
      const follower = new LifecycleLog(spines[WRITERS]!.db, createLogger('silent'));
      await follower.flush();
      const seen: number[] = [];
      follower.subscribe('sockets', (es) => void seen.push(...es.map((e) => e.seq)));
      const stop = follower.follow(5);
      try {
        // Two writers per camera: their alerts merge into one incident across replicas.
        const raise = (w: number, i: number) => () => writers[w]!.alerts.create(newAlert({ cameraId: `cam-${w % 2}`, trackIds: [w, i] }));
        if (dialect === 'postgres')
          await Promise.all(
            writers.map(async (_, w) => {
              for (let i = 0; i < ALERTS; i += 4) await Promise.all([0, 1, 2, 3].map((j) => raise(w, i + j)()));
            }),
          );
        else for (let i = 0; i < ALERTS; i++) await inTurn(writers.map((_, w) => raise(w, i)));
        const head = await follower.head();
        // Each alert is its raise and its filing into an incident.
        expect(head).toBe(WRITERS * ALERTS * 2);
        const deadline = Date.now() + 10_000;
        while (seen.length < head && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      } finally {
        stop();
      }
      expect(seen).toEqual(oneTo(WRITERS * ALERTS * 2));
      expect(await logSeqs(spines[0]!.db)).toEqual(seen);
      const incidents = await rows(
        spines[0]!.db,
        sql<{ camera_id: string; n: number }>`SELECT camera_id, count(*) AS n FROM incidents GROUP BY camera_id ORDER BY camera_id`,
      );
      expect(incidents.map((r) => [r.camera_id, Number(r.n)])).toEqual([
        ['cam-0', 1],
        ['cam-1', 1],
      ]);
    },
    SLOW,
  );

  const AUDIT_REPLICAS = 4;
  const AUDIT_ROUNDS = rounds(dialect, 15, 8);
  it(
    `plain audited actions and spine transactions from ${AUDIT_REPLICAS} replicas make one audit chain and one log, neither with a gap (${AUDIT_REPLICAS} x ${AUDIT_ROUNDS} rounds)`,
    async () => {
      const spines = await replicas(AUDIT_REPLICAS);
      const user = (r: number): Actor => ({ id: `u-${r}`, username: `op${r}`, role: 'operator' });
      /** An action audited on its own: only the audit chain's lock. */
      const plain = (s: Spine, r: number, i: number) => () =>
        s.audit.append({ actorId: `u-${r}`, actor: `op${r}`, action: 'video.view', target: `camera:cam-${r}`, detail: { i } });
      /** An alert with its log event and audit record in one transaction, then its ack (log, incident, audit). */
      const spineWrite = (s: Spine, r: number, i: number) => async () => {
        const a = await s.alerts.create(newAlert({ cameraId: `cam-${r}`, trackIds: [i] }), {
          audit: (x) => ({ actorId: `u-${r}`, actor: `op${r}`, action: 'alert.test', target: `alert:${x.id}` }),
        });
        await s.service.acknowledgeAlert(user(r), a.alert.id, null);
      };
      if (dialect === 'postgres')
        await Promise.all(
          spines.flatMap((s, r) => [
            (async () => {
              for (let i = 0; i < AUDIT_ROUNDS * 2; i++) await plain(s, r, i)();
            })(),
            (async () => {
              for (let i = 0; i < AUDIT_ROUNDS; i++) await spineWrite(s, r, i)();
            })(),
          ]),
        );
      else
        for (let i = 0; i < AUDIT_ROUNDS; i++)
          await inTurn<unknown>(spines.flatMap((s, r) => [plain(s, r, 2 * i), spineWrite(s, r, i), plain(s, r, 2 * i + 1)]));

      // Per replica and round: two plain records, the alert's and the ack's.
      const records = AUDIT_REPLICAS * AUDIT_ROUNDS * 4;
      const db = spines[0]!.db;
      const seqs = (await db.as<AuditTables>().selectFrom('audit').select('seq').orderBy('seq').execute()).map((x) => x.seq);
      expect(seqs).toEqual(oneTo(records));
      expect(await spines[AUDIT_REPLICAS - 1]!.audit.verify()).toEqual({ ok: true, records, firstBroken: null, reason: null });
      for (let r = 0; r < AUDIT_REPLICAS; r++) expect((await spines[0]!.audit.page({ actor: `op${r}` })).total).toBe(AUDIT_ROUNDS * 4);
      // Per alert: raised, filed (created or merged), acknowledged; per replica's incident, its first ack moving it out of "new".
      expect(await logSeqs(db)).toEqual(oneTo(AUDIT_REPLICAS * (AUDIT_ROUNDS * 3 + 1)));
    },
    SLOW,
  );
});

const OPERATOR_A: Actor = { id: 'u-a', username: 'op-a', role: 'operator' };

/** Postgres: many rounds (the race is real there); SQLite: fewer (the replicas take turns). */
function rounds(dialect: SqlDialect, postgres: number, sqlite: number): number {
  return dialect === 'postgres' ? postgres : sqlite;
}

async function inTurn<T>(ops: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const op of ops) out.push(await op());
  return out;
}
