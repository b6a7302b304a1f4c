import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { openReplicas } from '../../test/support/replicas';
import type { SqlDb } from '../db/sql';
import type { AuditTables } from './tables';
import { AuditTrail } from './trail';

const WRITERS = 4;
const APPENDS = 50;

/**
 * Each writer is its own `SqlDb` (its own pool on Postgres, its own handle on the shared SQLite
 * file), as replicas are. On Postgres they append truly at once (several transactions in flight
 * per writer): without the chain's lock two of them read the same head, and one append fails on
 * the primary key or the chain forks. SQLite serialises writers by the file lock across
 * processes; within this one process the writers take turns, since a second handle's
 * BEGIN IMMEDIATE would block the event loop the first one's commit needs.
 */
describeOnBothDatabases('audit trail shared by replicas', (_open, dialect) => {
  it(`${WRITERS} writers x ${APPENDS} appends: one chain, seq 1..N without a gap, verified`, async () => {
    const { dbs, close } = await openReplicas(dialect, WRITERS);
    try {
      const trails = dbs.map((db) => new AuditTrail(db));
      const appendAll = async (t: AuditTrail, w: number) => {
        for (let i = 0; i < APPENDS; i += 5)
          await Promise.all([0, 1, 2, 3, 4].map((j) => t.append({ action: 'video.view', actor: `w${w}`, detail: { i: i + j } })));
      };
      if (dialect === 'postgres') await Promise.all(trails.map((t, w) => appendAll(t, w)));
      else
        for (let i = 0; i < APPENDS; i++)
          for (const [w, t] of trails.entries()) await t.append({ action: 'video.view', actor: `w${w}`, detail: { i } });
      const seqs = await allSeqs(dbs[0]!);
      expect(seqs).toEqual(Array.from({ length: WRITERS * APPENDS }, (_, i) => i + 1));
      expect(await trails[1]!.verify()).toEqual({ ok: true, records: WRITERS * APPENDS, firstBroken: null, reason: null });
      for (let w = 0; w < WRITERS; w++) expect((await trails[0]!.page({ actor: `w${w}` })).total).toBe(APPENDS);
    } finally {
      await close();
    }
  });
});

async function allSeqs(db: SqlDb): Promise<number[]> {
  return (await db.as<AuditTables>().selectFrom('audit').select('seq').orderBy('seq').execute()).map((r) => r.seq);
}
