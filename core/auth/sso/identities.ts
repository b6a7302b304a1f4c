import { typed, type Executor, type SqlDb } from '../../db/sql';
import type { SsoTables } from './tables';

/** The sso_identities table: provider identity (issuer, subject) -> Sentinel user. Only this module touches it. */
export class SsoIdentities {
  constructor(private readonly db: SqlDb) {}

  async userFor(issuer: string, subject: string): Promise<string | null> {
    const r = await this.db
      .as<SsoTables>()
      .selectFrom('sso_identities')
      .select('user_id')
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return r?.user_id ?? null;
  }

  /** Links an identity to a user; `ex` is the transaction that creates the user, so both commit together. */
  async link(issuer: string, subject: string, userId: string, ex: Executor = this.db.as()): Promise<void> {
    const now = new Date().toISOString();
    await typed<SsoTables>(ex)
      .insertInto('sso_identities')
      .values({ issuer, subject, user_id: userId, created_at: now, last_login_at: now })
      .execute();
  }

  async touch(issuer: string, subject: string): Promise<void> {
    await this.db
      .as<SsoTables>()
      .updateTable('sso_identities')
      .set({ last_login_at: new Date().toISOString() })
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .execute();
  }

  async isLinked(userId: string): Promise<boolean> {
    const r = await this.db.as<SsoTables>().selectFrom('sso_identities').select('user_id').where('user_id', '=', userId).executeTakeFirst();
    return r !== undefined;
  }
}
