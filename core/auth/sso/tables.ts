/** The table single sign-on owns (core/db/migrations/0014; core/db/postgres/0020_baseline.ts). */
export interface SsoTables {
  sso_identities: {
    /** The provider's issuer URL and its subject: together, one person at one provider. */
    issuer: string;
    subject: string;
    /** One identity per Sentinel user (UNIQUE). */
    user_id: string;
    created_at: string;
    last_login_at: string;
  };
}
