import { expect, it } from 'vitest';
import { z } from 'zod';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { createLogger } from '../logger';
import { UserPrefs } from './prefs';
import type { WallTables } from './tables';

interface UserRow {
  users: {
    id: string;
    username: string;
    display_name: string;
    role: string;
    password_hash: string;
    created_at: string;
    updated_at: string;
  };
}
/** A preference belongs to a user (foreign key): a bare user row. */
const user = async (db: SqlDb, id: string): Promise<void> => {
  const at = new Date(0).toISOString();
  await db
    .as<UserRow>()
    .insertInto('users')
    .values({ id, username: id, display_name: id, role: 'operator', password_hash: 'x', created_at: at, updated_at: at })
    .execute();
};

const Wall = z.strictObject({ layout: z.enum(['2x2', '3x3']), tiles: z.array(z.string()) });
const fallback = { layout: '2x2' as const, tiles: [] };

describeOnBothDatabases('user preferences', (open) => {
  it('keeps one document per user and key, replaced on save', async () => {
    const db = await open();
    await user(db, 'u1');
    await user(db, 'u2');
    const prefs = new UserPrefs(db, createLogger('silent'));
    expect(await prefs.get('u1', 'wall', Wall, fallback)).toEqual(fallback);
    await prefs.put('u1', 'wall', { layout: '3x3', tiles: ['c1'] });
    await prefs.put('u2', 'wall', { layout: '2x2', tiles: ['c9'] });
    await prefs.put('u1', 'wall', { layout: '3x3', tiles: ['c1', 'c2'] });
    await prefs.put('u1', 'other', { layout: '2x2', tiles: [] });
    expect(await prefs.get('u1', 'wall', Wall, fallback)).toEqual({ layout: '3x3', tiles: ['c1', 'c2'] });
    expect(await prefs.get('u2', 'wall', Wall, fallback)).toEqual({ layout: '2x2', tiles: ['c9'] });
    const rows = await db.as<WallTables>().selectFrom('user_prefs').select(['user_id', 'key']).orderBy('user_id').orderBy('key').execute();
    expect(rows).toEqual([
      { user_id: 'u1', key: 'other' },
      { user_id: 'u1', key: 'wall' },
      { user_id: 'u2', key: 'wall' },
    ]);
  });

  it('answers the defaults for a stored document of another shape', async () => {
    const db = await open();
    await user(db, 'u1');
    const prefs = new UserPrefs(db, createLogger('silent'));
    await prefs.put('u1', 'wall', { layout: '5x5', tiles: 'all' });
    expect(await prefs.get('u1', 'wall', Wall, fallback)).toEqual(fallback);
  });
});
