import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { typed, type SqlDb } from './sql';

interface T {
  leases: { name: string; holder: string; expires_at_ms: number; fence: number; acquired_at: string; renewed_at: string; info: string };
}
const row = (name: string) => ({ name, holder: 'a', expires_at_ms: 1, fence: 1, acquired_at: 'x', renewed_at: 'x', info: '{}' });

describeOnBothDatabases('SqlDb', (open, dialect) => {
  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const db = await open();
    await db.transaction(async (trx) => void (await typed<T>(trx).insertInto('leases').values(row('kept')).execute()));
    await expect(
      db.transaction(async (trx) => {
        await typed<T>(trx).insertInto('leases').values(row('lost')).execute();
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    const names = await db.as<T>().selectFrom('leases').select('name').execute();
    expect(names.map((r) => r.name)).toEqual(['kept']);
  });

  it('describes itself for health: its dialect and the schema version it was migrated to', async () => {
    const db = await open();
    const d = await db.describe();
    expect(d.dialect).toBe(dialect);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(20);
    expect(d.journalMode).toBe(dialect === 'sqlite' ? 'wal' : null);
  });

  it('reads BIGINT back as numbers', async () => {
    const db = await open();
    await db
      .as<T>()
      .insertInto('leases')
      .values({ ...row('n'), expires_at_ms: 1_790_000_000_123 })
      .execute();
    const r = await db.as<T>().selectFrom('leases').select('expires_at_ms').executeTakeFirstOrThrow();
    expect(r.expires_at_ms).toBe(1_790_000_000_123);
  });

  it('serialises transactions that take the same lock: a read-then-write never loses an update', async () => {
    const db = await open();
    await db.as<T>().insertInto('leases').values(row('counter')).execute();
    // Twenty concurrent increments that read, wait, then write: without serialisation most would be lost.
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction(
          async (trx) => {
            const r = await typed<T>(trx).selectFrom('leases').select('fence').where('name', '=', 'counter').executeTakeFirstOrThrow();
            await sql`SELECT 1`.execute(trx);
            await typed<T>(trx)
              .updateTable('leases')
              .set({ fence: r.fence + 1 })
              .where('name', '=', 'counter')
              .execute();
          },
          { locks: ['log'] },
        ),
      ),
    );
    const r = await db.as<T>().selectFrom('leases').select('fence').where('name', '=', 'counter').executeTakeFirstOrThrow();
    expect(r.fence).toBe(21);
    expect(db.dialect).toBe(dialect);
  });

  it('an urgent transaction goes ahead of the ones queued for its lock, on Postgres; on SQLite it keeps its turn', async () => {
    const db = await open();
    const order: string[] = [];
    const step = (name: string) => async (trx: Parameters<Parameters<SqlDb['transaction']>[0]>[0]) => {
      await sql`SELECT 1`.execute(trx);
      order.push(name);
    };
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // One transaction holds the lock while ten more queue behind it, then one urgent one.
    const first = db.transaction(
      async (trx) => {
        await held;
        await step('first')(trx);
      },
      { locks: ['log'] },
    );
    const queued = Array.from({ length: 10 }, (_, i) => db.transaction(step(`alert-${i}`), { locks: ['log'] }));
    const urgent = db.transaction(step('ack'), { locks: ['log'], urgent: true });
    release();
    await Promise.all([first, ...queued, urgent]);
    expect(order).toHaveLength(12);
    expect(order[0]).toBe('first');
    expect(order.indexOf('ack')).toBe(dialect === 'postgres' ? 1 : 11);
  });
});
