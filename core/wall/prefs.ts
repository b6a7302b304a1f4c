import type { z } from 'zod';
import type { Database } from '../db/database';
import type { Logger } from '../logger';

/**
 * Per-user console preferences (table `user_prefs`): one JSON document per user and key,
 * read back through the caller's contract schema. A stored document that no longer parses
 * (an older console's shape) is logged and answered with the defaults, never an error: a
 * preference must not lock anyone out of the wall.
 */
export class UserPrefs {
  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  get<S extends z.ZodType>(userId: string, key: string, schema: S, fallback: z.infer<S>): z.infer<S> {
    const row = this.db.prepare('SELECT value FROM user_prefs WHERE user_id = ? AND key = ?').get(userId, key) as
      { value: string } | undefined;
    if (!row) return fallback;
    const r = schema.safeParse(JSON.parse(row.value));
    if (r.success) return r.data;
    this.log.warn({ userId, key, problem: r.error.issues[0]?.message }, 'stored preference does not match its schema; using defaults');
    return fallback;
  }

  put(userId: string, key: string, value: unknown): void {
    this.db
      .prepare(
        'INSERT INTO user_prefs (user_id, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      )
      .run(userId, key, JSON.stringify(value), new Date().toISOString());
  }
}
