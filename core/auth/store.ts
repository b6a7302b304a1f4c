import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Role, SessionInfo, UserNotice } from '../../contract';
import { LiaisonScope, User, type UserCreate, type UserUpdate } from '../../contract';
import { sql, type Kysely } from 'kysely';
import { typed, type Executor, type SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import { dummyHash, hashPassword, verifyPassword } from './password';
import type { AuthTables } from './tables';
import { verifyTotp } from './totp';

type UserRow = Omit<AuthTables['users'], 'updated_at'>;
const USER_COLUMNS = [
  'id',
  'username',
  'display_name',
  'role',
  'scope',
  'password_hash',
  'totp_secret',
  'totp_pending_secret',
  'totp_enabled',
  'disabled',
  'created_at',
] as const satisfies readonly (keyof UserRow)[];

export function toUser(r: UserRow): User {
  return User.parse({
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    role: r.role,
    scope: LiaisonScope.parse(JSON.parse(r.scope)),
    totpEnabled: r.totp_enabled === 1,
    disabled: r.disabled === 1,
    createdAt: r.created_at,
  });
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The roles that must use a second factor when config does not say (auth.mfaRequiredRoles). */
export const DEFAULT_MFA_ROLES: readonly Role[] = ['admin', 'liaison'];

export interface SessionPolicy {
  /** Absolute lifetime of a session. */
  ttlMs: number;
  /** A session unused for this long ends. */
  idleMs: number;
  /** Roles whose password sessions may do nothing but enrol until a second factor is on. */
  mfaRequiredRoles?: readonly Role[];
}

export type SessionMethod = 'password' | 'sso';

export interface ResolvedSession {
  user: User;
  tokenHash: string;
  /** The public id shown in the sessions list. */
  sessionId: string;
  method: SessionMethod;
  /** The policy requires a second factor and the user has none: only enrolment is allowed. */
  mfaPending: boolean;
}

export type SecondFactor = 'totp' | 'recovery_code';

export type LoginResult =
  | { ok: true; user: User; factor: SecondFactor | null }
  | { ok: false; reason: 'bad_credentials' | 'totp_required' | 'bad_totp' | 'bad_recovery_code' | 'disabled'; user: User | null };

/**
 * Recovery codes: 10 characters from an alphabet without look-alikes (no 0/o, 1/l/i), about
 * 49 bits each. Online guessing meets the sign-in throttle; offline, 2^49 scrypt hashes even
 * at 1 MiB each (N=2^10) are decades of GPU time, so the password cost (N=2^15, 32 MiB,
 * ~100 ms) is not needed: ten of them at every enrolment, and checking up to ten at a
 * sign-in, stay cheap on a loaded control-room server.
 */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
export const RECOVERY_CODE_COUNT = 10;

export function newRecoveryCode(): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

const normaliseRecoveryCode = (code: string): string => code.replace(/[\s-]/g, '').toLowerCase();
const isRecoveryCode = (code: string): boolean => /^[a-z2-9]{10}$/.test(normaliseRecoveryCode(code));

/** Users, sessions, second factors and notices, on either database. Tokens are opaque; only their SHA-256 is stored. */
export class UserStore {
  constructor(
    private readonly db: SqlDb,
    readonly policy: SessionPolicy,
  ) {}

  private get q(): Kysely<AuthTables> {
    return this.db.as<AuthTables>();
  }

  /**
   * Must this user enrol a second factor before doing anything else? Single sign-on sessions
   * are exempt: the agency's identity provider applies its own second factor.
   */
  mfaPending(user: User, method: SessionMethod): boolean {
    return method === 'password' && !user.totpEnabled && (this.policy.mfaRequiredRoles ?? DEFAULT_MFA_ROLES).includes(user.role);
  }

  mfaRequired(user: User): boolean {
    return (this.policy.mfaRequiredRoles ?? DEFAULT_MFA_ROLES).includes(user.role);
  }

  async count(ex: Executor = this.db.as()): Promise<number> {
    const r = await typed<AuthTables>(ex)
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private async rowById(id: string, ex: Executor = this.db.as()): Promise<UserRow | undefined> {
    return typed<AuthTables>(ex).selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  /** By user name, whatever its case: lower() on both sides is what the Postgres unique index holds, and equals SQLite's NOCASE (both fold ASCII; user names are ASCII). */
  private async rowByUsername(username: string, ex: Executor = this.db.as()): Promise<UserRow | undefined> {
    return typed<AuthTables>(ex)
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where(sql<string>`lower(username)`, '=', sql<string>`lower(${username})`)
      .executeTakeFirst();
  }

  async get(id: string): Promise<User | null> {
    const r = await this.rowById(id);
    return r ? toUser(r) : null;
  }

  async byUsername(username: string): Promise<User | null> {
    const r = await this.rowByUsername(username);
    return r ? toUser(r) : null;
  }

  /** Every user, by name regardless of case (SQLite's NOCASE order; Postgres's C collation would put "Zoe" before "adam"). */
  async list(): Promise<User[]> {
    const rows = await this.q
      .selectFrom('users')
      .select(USER_COLUMNS)
      .orderBy(sql`lower(username)`)
      .orderBy('username')
      .execute();
    return rows.map(toUser);
  }

  /**
   * Creates a user. `link` runs in the same transaction with the new user's id (single sign-on
   * links the provider identity), so a user and what is created with it commit together.
   */
  async create(
    input: UserCreate & { role: Role },
    opts: { onlyIfNoUsers?: boolean; link?: (ex: Executor, userId: string) => Promise<void> } = {},
  ): Promise<User> {
    const hash = await hashPassword(input.password);
    const id = randomUUID();
    const now = new Date().toISOString();
    const scope = LiaisonScope.parse(input.scope ?? {});
    // A refusal is returned, not thrown, so the transaction commits (having written nothing)
    // instead of rolling back.
    const refused = await this.db.transaction(async (trx): Promise<'set-up done' | 'name taken' | null> => {
      // SQLite's immediate transaction already serialises writers. Postgres: without the lock,
      // two first-run set-ups could both count no users and create two administrators.
      if (this.db.dialect === 'postgres') await sql`LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
      if (opts.onlyIfNoUsers && (await this.count(trx)) > 0) return 'set-up done';
      if (await this.rowByUsername(input.username, trx)) return 'name taken';
      await typed<AuthTables>(trx)
        .insertInto('users')
        .values({
          id,
          username: input.username,
          display_name: input.displayName ?? input.username,
          role: input.role,
          scope: JSON.stringify(scope),
          password_hash: hash,
          totp_secret: null,
          totp_pending_secret: null,
          totp_enabled: 0,
          disabled: 0,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await opts.link?.(trx, id);
      return null;
    });
    if (refused === 'set-up done') throw new SentinelError('set-up is already done: an administrator exists; sign in instead', 'conflict');
    if (refused === 'name taken') throw new SentinelError(`a user named "${input.username}" already exists`, 'conflict', 'username');
    return (await this.get(id))!;
  }

  async update(id: string, patch: UserUpdate): Promise<User> {
    const cur = await this.rowById(id);
    if (!cur) throw new SentinelError(`no user with id ${id}`, 'not_found', 'id');
    const hash = patch.password !== undefined ? await hashPassword(patch.password) : cur.password_hash;
    await this.db.transaction(async (trx) => {
      const t = typed<AuthTables>(trx);
      await t
        .updateTable('users')
        .set({
          display_name: patch.displayName ?? cur.display_name,
          role: patch.role ?? cur.role,
          scope: patch.scope ? JSON.stringify(LiaisonScope.parse(patch.scope)) : cur.scope,
          disabled: patch.disabled === undefined ? cur.disabled : patch.disabled ? 1 : 0,
          password_hash: hash,
          updated_at: new Date().toISOString(),
        })
        .where('id', '=', id)
        .execute();
      // A changed password, role or scope, or a disabled account, ends the user's sessions.
      if (patch.password !== undefined || patch.disabled || patch.role !== undefined || patch.scope !== undefined)
        await t.deleteFrom('sessions').where('user_id', '=', id).execute();
    });
    return (await this.get(id))!;
  }

  async checkLogin(
    username: string,
    password: string,
    totpCode: string | undefined,
    recoveryCode?: string | undefined,
  ): Promise<LoginResult> {
    const r = await this.rowByUsername(username);
    // Unknown user: spend the same time hashing so response time does not reveal who exists.
    const ok = await verifyPassword(password, r?.password_hash ?? (await dummyHash()));
    if (!r || !ok) return { ok: false, reason: 'bad_credentials', user: r ? toUser(r) : null };
    const user = toUser(r);
    if (r.disabled) return { ok: false, reason: 'disabled', user };
    if (r.totp_enabled && r.totp_secret) {
      if (totpCode) {
        if (!verifyTotp(r.totp_secret, totpCode)) return { ok: false, reason: 'bad_totp', user };
        return { ok: true, user, factor: 'totp' };
      }
      if (recoveryCode) {
        if (!(await this.useRecoveryCode(r.id, recoveryCode))) return { ok: false, reason: 'bad_recovery_code', user };
        return { ok: true, user, factor: 'recovery_code' };
      }
      return { ok: false, reason: 'totp_required', user };
    }
    return { ok: true, user, factor: null };
  }

  /**
   * Starts an enrolment: the new secret waits as pending until a code from it is confirmed
   * (confirmTotp), so the factor in use (if any) keeps working meanwhile.
   */
  async beginTotp(id: string, secret: string): Promise<void> {
    await this.q.updateTable('users').set({ totp_pending_secret: secret }).where('id', '=', id).execute();
  }

  /** Is this the user's current second-factor code (for changes that need password + code)? */
  async checkTotp(id: string, code: string): Promise<boolean> {
    const r = await this.rowById(id);
    return !!(r?.totp_enabled && r.totp_secret && verifyTotp(r.totp_secret, code));
  }

  /**
   * The second half of "password plus a code": a current authenticator code or, for someone
   * who lost the phone, a recovery code (which is then spent).
   */
  async checkSecondFactor(id: string, code: string): Promise<boolean> {
    if (/^\d{6}$/.test(code)) return this.checkTotp(id, code);
    return isRecoveryCode(code) ? this.useRecoveryCode(id, code) : false;
  }

  async checkPassword(id: string, password: string): Promise<boolean> {
    const r = await this.rowById(id);
    return r ? verifyPassword(password, r.password_hash) : false;
  }

  /**
   * Confirms an enrolment with a code from the pending secret: it becomes the factor, and ten
   * new recovery codes replace any old ones. Returns the codes (shown once), or null when
   * the code does not match or nothing is pending.
   */
  async confirmTotp(id: string, code: string): Promise<string[] | null> {
    const r = await this.rowById(id);
    if (!r?.totp_pending_secret || !verifyTotp(r.totp_pending_secret, code)) return null;
    const { codes, hashes } = await this.newRecoveryCodes();
    const now = new Date().toISOString();
    await this.db.transaction(async (trx) => {
      await typed<AuthTables>(trx)
        .updateTable('users')
        .set((eb) => ({ totp_secret: eb.ref('totp_pending_secret'), totp_pending_secret: null, totp_enabled: 1, updated_at: now }))
        .where('id', '=', id)
        .execute();
      await this.replaceRecoveryCodes(trx, id, hashes, now);
    });
    return codes;
  }

  /** Switches the second factor off: secret, pending secret and recovery codes go. */
  async disableTotp(id: string): Promise<void> {
    await this.db.transaction((trx) => this.clearTotp(trx, id));
  }

  private async clearTotp(ex: Executor, id: string): Promise<void> {
    const t = typed<AuthTables>(ex);
    await t
      .updateTable('users')
      .set({ totp_secret: null, totp_pending_secret: null, totp_enabled: 0, updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
    await t.deleteFrom('recovery_codes').where('user_id', '=', id).execute();
  }

  /** New recovery codes for a user with a factor on; the old ones stop working. */
  async regenerateRecoveryCodes(id: string): Promise<string[]> {
    const { codes, hashes } = await this.newRecoveryCodes();
    await this.db.transaction((trx) => this.replaceRecoveryCodes(trx, id, hashes, new Date().toISOString()));
    return codes;
  }

  async recoveryCodesLeft(id: string): Promise<number> {
    const r = await this.q
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private async newRecoveryCodes(): Promise<{ codes: string[]; hashes: string[] }> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const hashes = await Promise.all(codes.map((c) => hashPassword(normaliseRecoveryCode(c), RECOVERY_SCRYPT)));
    return { codes, hashes };
  }

  /** Inside the caller's transaction: the old codes go and the new ones come in one commit. */
  private async replaceRecoveryCodes(ex: Executor, id: string, hashes: string[], now: string): Promise<void> {
    const t = typed<AuthTables>(ex);
    await t.deleteFrom('recovery_codes').where('user_id', '=', id).execute();
    await t
      .insertInto('recovery_codes')
      .values(hashes.map((code_hash) => ({ user_id: id, code_hash, created_at: now })))
      .execute();
  }

  /** Spends one unused recovery code; false when none matches (or it was just spent by a parallel request). */
  private async useRecoveryCode(id: string, code: string): Promise<boolean> {
    const plain = normaliseRecoveryCode(code);
    if (!/^[a-z2-9]{10}$/.test(plain)) return false;
    const rows = await this.q
      .selectFrom('recovery_codes')
      .select(['id', 'code_hash'])
      .where('user_id', '=', id)
      .where('used_at', 'is', null)
      .execute();
    for (const row of rows) {
      if (!(await verifyPassword(plain, row.code_hash))) continue;
      // The WHERE makes spending atomic: two sign-ins racing with one code, only one wins.
      const r = await this.q
        .updateTable('recovery_codes')
        .set({ used_at: new Date().toISOString() })
        .where('id', '=', row.id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    }
    return false;
  }

  /**
   * An administrator's reset of a user's second factor (lost phone): the factor and the
   * recovery codes go, and the user gets a notice for their next sign-in, in one commit.
   */
  async resetMfa(id: string, message: string): Promise<UserNotice> {
    const at = new Date().toISOString();
    return this.db.transaction(async (trx) => {
      await this.clearTotp(trx, id);
      const n = await typed<AuthTables>(trx)
        .insertInto('user_notices')
        .values({ user_id: id, kind: 'mfa_reset', message, created_at: at, seen_at: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: n.id, kind: 'mfa_reset' as const, message, at };
    });
  }

  /**
   * The notices a user has not been shown yet; they count as shown from now on. One UPDATE ...
   * RETURNING: two sign-ins at once cannot both take the same notice, on either database.
   */
  async takeNotices(userId: string): Promise<UserNotice[]> {
    const rows = await this.q
      .updateTable('user_notices')
      .set({ seen_at: new Date().toISOString() })
      .where('user_id', '=', userId)
      .where('seen_at', 'is', null)
      .returning(['id', 'kind', 'message', 'created_at'])
      .execute();
    return rows.sort((a, b) => a.id - b.id).map((r) => ({ id: r.id, kind: r.kind, message: r.message, at: r.created_at }));
  }

  async createSession(
    userId: string,
    ip: string | null,
    opts: { userAgent?: string | undefined; method?: SessionMethod } = {},
  ): Promise<{ token: string; tokenHash: string; id: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    const id = randomBytes(16).toString('hex');
    const now = Date.now();
    const expiresAt = new Date(now + this.policy.ttlMs);
    await this.q
      .insertInto('sessions')
      .values({
        token_hash: tokenHash,
        id,
        user_id: userId,
        created_at: now,
        expires_at: expiresAt.getTime(),
        last_seen_at: now,
        ip,
        user_agent: opts.userAgent?.slice(0, 300) ?? null,
        method: opts.method ?? 'password',
      })
      .execute();
    return { token, tokenHash, id, expiresAt };
  }

  /**
   * The user behind a token, or null (unknown, expired, idle too long, or user disabled).
   * A session that must still enrol a second factor counts as none unless the caller is the
   * auth hook, which lets it reach the enrolment routes only (`allowMfaPending`).
   */
  resolve(token: string, opts: { allowMfaPending?: boolean } = {}): Promise<ResolvedSession | null> {
    return this.resolveHash(hashToken(token), opts);
  }

  /**
   * Runs for every request and socket: one query by the sessions primary key, joined to its
   * user, and a write only for an ended session or a touch (at most once a minute).
   */
  async resolveHash(tokenHash: string, opts: { allowMfaPending?: boolean } = {}): Promise<ResolvedSession | null> {
    const s = await this.q
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(USER_COLUMNS.map((c) => `u.${c}` as const))
      .select(['s.id as session_id', 's.expires_at', 's.last_seen_at', 's.method'])
      .where('s.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!s) return null;
    const now = Date.now();
    if (now > s.expires_at || now - s.last_seen_at > this.policy.idleMs) {
      await this.endSession(tokenHash);
      return null;
    }
    const user = toUser(s);
    if (user.disabled) return null;
    const mfaPending = this.mfaPending(user, s.method);
    if (mfaPending && !opts.allowMfaPending) return null;
    // Touch at most once a minute: a write per request would be wasteful.
    if (now - s.last_seen_at > 60_000) await this.touch(tokenHash, now);
    return { user, tokenHash, sessionId: s.session_id, method: s.method, mfaPending };
  }

  /** A user's live sessions, newest use first (`current` marks the one asking). */
  async listSessions(userId: string, currentHash: string | null): Promise<SessionInfo[]> {
    const now = Date.now();
    const rows = await this.q
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('expires_at', '>=', now)
      .where('last_seen_at', '>=', now - this.policy.idleMs)
      .orderBy('last_seen_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      current: r.token_hash === currentHash,
      userAgent: r.user_agent,
      ip: r.ip,
      method: r.method,
      createdAt: new Date(r.created_at).toISOString(),
      lastSeenAt: new Date(r.last_seen_at).toISOString(),
      expiresAt: new Date(r.expires_at).toISOString(),
    }));
  }

  /** Ends one of a user's sessions by its public id; the token hash (for its socket room) or null. */
  async endSessionById(userId: string, id: string): Promise<string | null> {
    const r = await this.q
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .returning('token_hash')
      .executeTakeFirst();
    return r?.token_hash ?? null;
  }

  /** Ends every session of a user except `keepHash` (null: all); the token hashes ended. */
  async endSessions(userId: string, keepHash: string | null): Promise<string[]> {
    let q = this.q.deleteFrom('sessions').where('user_id', '=', userId);
    if (keepHash !== null) q = q.where('token_hash', '<>', keepHash);
    return (await q.returning('token_hash').execute()).map((r) => r.token_hash);
  }

  /** Marks a session as in use (a live socket keeps its session from idling out). */
  async touch(tokenHash: string, now = Date.now()): Promise<void> {
    await this.q.updateTable('sessions').set({ last_seen_at: now }).where('token_hash', '=', tokenHash).execute();
  }

  async endSession(tokenHash: string): Promise<void> {
    await this.q.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }
}

/**
 * Login throttling per user name and per client address: after a few failures each further
 * attempt waits twice as long as the previous one (1 s, 2 s, 4 s... capped), and the wait is
 * enforced before the password is even checked.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { failures: number; lockedUntil: number; last: number }>();
  constructor(
    private readonly freeFailures = 5,
    private readonly maxLockMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds to wait before another attempt for any of the keys (0 = go ahead). */
  waitMs(keys: string[]): number {
    const t = this.now();
    return Math.max(0, ...keys.map((k) => (this.entries.get(k)?.lockedUntil ?? 0) - t));
  }

  fail(keys: string[], freeFailures = this.freeFailures): void {
    const t = this.now();
    for (const k of keys) {
      const e = this.entries.get(k);
      // Failures an hour old are forgotten.
      const failures = e && t - e.last < 3_600_000 ? e.failures + 1 : 1;
      const over = failures - (k.startsWith('ip:') ? freeFailures * 4 : freeFailures);
      const lockedUntil = over > 0 ? t + Math.min(1000 * 2 ** (over - 1), this.maxLockMs) : 0;
      this.entries.set(k, { failures, lockedUntil, last: t });
    }
    if (this.entries.size > 10_000) for (const [k, e] of this.entries) if (t - e.last > 3_600_000) this.entries.delete(k);
  }

  succeed(keys: string[]): void {
    for (const k of keys) this.entries.delete(k);
  }
}
