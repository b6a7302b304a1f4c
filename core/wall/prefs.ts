import type { z } from 'zod';
import type { SqlDb } from '../db/sql';
import type { Logger } from '../logger';
import type { WallTables } from './tables';

/**
 * Per-user console preferences (table `user_prefs`): one JSON document per user and key,
 * read back through the caller's contract schema. A stored document that no longer parses
 * (an older console's shape) is logged and answered with the defaults, never an error: a
 * preference must not lock anyone out of the wall.
 */
export class UserPrefs {
  constructor(
    private readonly db: SqlDb,
    private readonly log: Logger,
  ) {}

  async get<S extends z.ZodType>(userId: string, key: string, schema: S, fallback: z.infer<S>): Promise<z.infer<S>> {
    const row = await this.db
      .as<WallTables>()
      .selectFrom('user_prefs')
      .select('value')
      .where('user_id', '=', userId)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return fallback;
    const r = schema.safeParse(JSON.parse(row.value));
    if (r.success) return r.data;
    this.log.warn({ userId, key, problem: r.error.issues[0]?.message }, 'stored preference does not match its schema; using defaults');
    return fallback;
  }

  async put(userId: string, key: string, value: unknown): Promise<void> {
    const doc = JSON.stringify(value);
    const at = new Date().toISOString();
    await this.db
      .as<WallTables>()
      .insertInto('user_prefs')
      .values({ user_id: userId, key, value: doc, updated_at: at })
      .onConflict((oc) => oc.columns(['user_id', 'key']).doUpdateSet({ value: doc, updated_at: at }))
      .execute();
  }
}
