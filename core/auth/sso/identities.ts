import type { Database } from '../../db/database';

/** The sso_identities table: provider identity (issuer, subject) -> Sentinel user. Only this module touches it. */
export class SsoIdentities {
  constructor(private readonly db: Database) {}

  userFor(issuer: string, subject: string): string | null {
    const r = this.db.prepare('SELECT user_id FROM sso_identities WHERE issuer = ? AND subject = ?').get(issuer, subject) as
      { user_id: string } | undefined;
    return r?.user_id ?? null;
  }

  link(issuer: string, subject: string, userId: string): void {
    const now = new Date().toISOString();
    this.db
      .prepare('INSERT INTO sso_identities (issuer, subject, user_id, created_at, last_login_at) VALUES (?, ?, ?, ?, ?)')
      .run(issuer, subject, userId, now, now);
  }

  touch(issuer: string, subject: string): void {
    this.db
      .prepare('UPDATE sso_identities SET last_login_at = ? WHERE issuer = ? AND subject = ?')
      .run(new Date().toISOString(), issuer, subject);
  }

  isLinked(userId: string): boolean {
    return this.db.prepare('SELECT 1 FROM sso_identities WHERE user_id = ?').get(userId) !== undefined;
  }
}
