import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database';
import { MIGRATIONS } from './index';

describe('migration 0015 public copies', () => {
  it('adds the public copy to existing exports, which keep their rows and have none', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 14),
    );
    db.prepare(
      "INSERT INTO evidence_exports (id, incident_id, state, created_by, created_at) VALUES ('e1', 'i1', 'ready', 'rev', 'now')",
    ).run();
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 15),
      ),
    ).toBe(15);
    expect(db.prepare("SELECT state, public_state FROM evidence_exports WHERE id = 'e1'").get()).toEqual({
      state: 'ready',
      public_state: null,
    });
    expect(() => db.prepare("UPDATE evidence_exports SET public_state = 'half' WHERE id = 'e1'").run()).toThrow(/CHECK constraint/);
    db.prepare("UPDATE evidence_exports SET public_state = 'building', public_request = '{}' WHERE id = 'e1'").run();
  });
});
