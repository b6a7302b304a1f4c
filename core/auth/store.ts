import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Role, SessionInfo, UserNotice } from '../../contract';
import { LiaisonScope, User, type UserCreate, type UserUpdate } from '../../contract';
import type { Database } from '../db/database';
import { SentinelError } from '../errors';
import { dummyHash, hashPassword, verifyPassword } from './password';
import { verifyTotp } from './totp';

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: string;
  scope: string;
  password_hash: string;
  totp_secret: string | null;
  totp_pending_secret: string | null;
  totp_enabled: number;
  disabled: number;
  created_at: string;
}

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

interface SessionRow {
  token_hash: string;
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  ip: string | null;
  user_agent: string | null;
  method: SessionMethod;
}

/** Users and sessions in SQLite. Tokens are opaque; only their SHA-256 is stored. */
export class UserStore {
  constructor(
    private readonly db: Database,
    readonly policy: SessionPolicy,
  ) {}

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

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  private row(where: 'id' | 'username', value: string): UserRow | undefined {
    return this.db.prepare(`SELECT * FROM users WHERE ${where} = ?`).get(value) as UserRow | undefined;
  }

  get(id: string): User | null {
    const r = this.row('id', id);
    return r ? toUser(r) : null;
  }

  byUsername(username: string): User | null {
    const r = this.row('username', username);
    return r ? toUser(r) : null;
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY username').all() as UserRow[]).map(toUser);
  }

  async create(input: UserCreate & { role: Role }, opts: { onlyIfNoUsers?: boolean } = {}): Promise<User> {
    const hash = await hashPassword(input.password);
    const id = randomUUID();
    const now = new Date().toISOString();
    const scope = LiaisonScope.parse(input.scope ?? {});
    const insert = this.db.transaction(() => {
      if (opts.onlyIfNoUsers && this.count() > 0)
        throw new SentinelError('set-up is already done: an administrator exists; sign in instead', 'conflict');
      if (this.row('username', input.username))
        throw new SentinelError(`a user named "${input.username}" already exists`, 'conflict', 'username');
      this.db
        .prepare(
          'INSERT INTO users (id, username, display_name, role, scope, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(id, input.username, input.displayName ?? input.username, input.role, JSON.stringify(scope), hash, now, now);
    });
    insert.immediate();
    return this.get(id)!;
  }

  async update(id: string, patch: UserUpdate): Promise<User> {
    const cur = this.row('id', id);
    if (!cur) throw new SentinelError(`no user with id ${id}`, 'not_found', 'id');
    const hash = patch.password !== undefined ? await hashPassword(patch.password) : cur.password_hash;
    this.db
      .prepare('UPDATE users SET display_name = ?, role = ?, scope = ?, disabled = ?, password_hash = ?, updated_at = ? WHERE id = ?')
      .run(
        patch.displayName ?? cur.display_name,
        patch.role ?? cur.role,
        patch.scope ? JSON.stringify(LiaisonScope.parse(patch.scope)) : cur.scope,
        patch.disabled === undefined ? cur.disabled : patch.disabled ? 1 : 0,
        hash,
        new Date().toISOString(),
        id,
      );
    // A changed password, role or scope, or a disabled account, ends the user's sessions.
    if (patch.password !== undefined || patch.disabled || patch.role !== undefined || patch.scope !== undefined)
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
    return this.get(id)!;
  }

  async checkLogin(
    username: string,
    password: string,
    totpCode: string | undefined,
    recoveryCode?: string | undefined,
  ): Promise<LoginResult> {
    const r = this.row('username', username);
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
  beginTotp(id: string, secret: string): void {
    this.db.prepare('UPDATE users SET totp_pending_secret = ? WHERE id = ?').run(secret, id);
  }

  /** Is this the user's current second-factor code (for changes that need password + code)? */
  checkTotp(id: string, code: string): boolean {
    const r = this.row('id', id);
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
    const r = this.row('id', id);
    return r ? verifyPassword(password, r.password_hash) : false;
  }

  /**
   * Confirms an enrolment with a code from the pending secret: it becomes the factor, and ten
   * new recovery codes replace any old ones. Returns the codes (shown once), or null when
   * the code does not match or nothing is pending.
   */
  async confirmTotp(id: string, code: string): Promise<string[] | null> {
    const r = this.row('id', id);
    if (!r?.totp_pending_secret || !verifyTotp(r.totp_pending_secret, code)) return null;
    const { codes, hashes } = await this.newRecoveryCodes();
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.db
        .prepare(
          'UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_enabled = 1, updated_at = ? WHERE id = ?',
        )
        .run(now, id);
      this.replaceRecoveryCodes(id, hashes, now);
    })();
    return codes;
  }

  /** Switches the second factor off: secret, pending secret and recovery codes go. */
  disableTotp(id: string): void {
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_enabled = 0, updated_at = ? WHERE id = ?')
        .run(new Date().toISOString(), id);
      this.db.prepare('DELETE FROM recovery_codes WHERE user_id = ?').run(id);
    })();
  }

  /** New recovery codes for a user with a factor on; the old ones stop working. */
  async regenerateRecoveryCodes(id: string): Promise<string[]> {
    const { codes, hashes } = await this.newRecoveryCodes();
    this.db.transaction(() => this.replaceRecoveryCodes(id, hashes, new Date().toISOString()))();
    return codes;
  }

  recoveryCodesLeft(id: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL').get(id) as { n: number }).n;
  }

  private async newRecoveryCodes(): Promise<{ codes: string[]; hashes: string[] }> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const hashes = await Promise.all(codes.map((c) => hashPassword(normaliseRecoveryCode(c), RECOVERY_SCRYPT)));
    return { codes, hashes };
  }

  private replaceRecoveryCodes(id: string, hashes: string[], now: string): void {
    this.db.prepare('DELETE FROM recovery_codes WHERE user_id = ?').run(id);
    const ins = this.db.prepare('INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)');
    for (const h of hashes) ins.run(id, h, now);
  }

  /** Spends one unused recovery code; false when none matches (or it was just spent by a parallel request). */
  private async useRecoveryCode(id: string, code: string): Promise<boolean> {
    const plain = normaliseRecoveryCode(code);
    if (!/^[a-z2-9]{10}$/.test(plain)) return false;
    const rows = this.db.prepare('SELECT id, code_hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL').all(id) as {
      id: number;
      code_hash: string;
    }[];
    for (const row of rows) {
      if (!(await verifyPassword(plain, row.code_hash))) continue;
      // The WHERE makes spending atomic: two sign-ins racing with one code, only one wins.
      return (
        this.db.prepare('UPDATE recovery_codes SET used_at = ? WHERE id = ? AND used_at IS NULL').run(new Date().toISOString(), row.id)
          .changes === 1
      );
    }
    return false;
  }

  /**
   * An administrator's reset of a user's second factor (lost phone): the factor and the
   * recovery codes go, and the user gets a notice for their next sign-in.
   */
  resetMfa(id: string, message: string): UserNotice {
    const at = new Date().toISOString();
    return this.db.transaction(() => {
      this.disableTotp(id);
      const n = this.db
        .prepare("INSERT INTO user_notices (user_id, kind, message, created_at) VALUES (?, 'mfa_reset', ?, ?) RETURNING id")
        .get(id, message, at) as { id: number };
      return { id: n.id, kind: 'mfa_reset' as const, message, at };
    })();
  }

  /** The notices a user has not been shown yet; they count as shown from now on. */
  takeNotices(userId: string): UserNotice[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare('SELECT id, kind, message, created_at FROM user_notices WHERE user_id = ? AND seen_at IS NULL ORDER BY id')
        .all(userId) as { id: number; kind: 'mfa_reset'; message: string; created_at: string }[];
      this.db.prepare('UPDATE user_notices SET seen_at = ? WHERE user_id = ? AND seen_at IS NULL').run(new Date().toISOString(), userId);
      return rows.map((r) => ({ id: r.id, kind: r.kind, message: r.message, at: r.created_at }));
    })();
  }

  createSession(
    userId: string,
    ip: string | null,
    opts: { userAgent?: string | undefined; method?: SessionMethod } = {},
  ): { token: string; tokenHash: string; id: string; expiresAt: Date } {
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    const id = randomBytes(16).toString('hex');
    const now = Date.now();
    const expiresAt = new Date(now + this.policy.ttlMs);
    this.db
      .prepare(
        'INSERT INTO sessions (token_hash, id, user_id, created_at, expires_at, last_seen_at, ip, user_agent, method) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(tokenHash, id, userId, now, expiresAt.getTime(), now, ip, opts.userAgent?.slice(0, 300) ?? null, opts.method ?? 'password');
    return { token, tokenHash, id, expiresAt };
  }

  /**
   * The user behind a token, or null (unknown, expired, idle too long, or user disabled).
   * A session that must still enrol a second factor counts as none unless the caller is the
   * auth hook, which lets it reach the enrolment routes only (`allowMfaPending`).
   */
  resolve(token: string, opts: { allowMfaPending?: boolean } = {}): ResolvedSession | null {
    return this.resolveHash(hashToken(token), opts);
  }

  resolveHash(tokenHash: string, opts: { allowMfaPending?: boolean } = {}): ResolvedSession | null {
    const s = this.db.prepare('SELECT id, user_id, expires_at, last_seen_at, method FROM sessions WHERE token_hash = ?').get(tokenHash) as
      { id: string; user_id: string; expires_at: number; last_seen_at: number; method: SessionMethod } | undefined;
    if (!s) return null;
    const now = Date.now();
    if (now > s.expires_at || now - s.last_seen_at > this.policy.idleMs) {
      this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
      return null;
    }
    const user = this.get(s.user_id);
    if (!user || user.disabled) return null;
    const mfaPending = this.mfaPending(user, s.method);
    if (mfaPending && !opts.allowMfaPending) return null;
    // Touch at most once a minute: a write per request would be wasteful.
    if (now - s.last_seen_at > 60_000) this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?').run(now, tokenHash);
    return { user, tokenHash, sessionId: s.id, method: s.method, mfaPending };
  }

  /** A user's live sessions, newest use first (`current` marks the one asking). */
  listSessions(userId: string, currentHash: string | null): SessionInfo[] {
    const now = Date.now();
    const rows = this.db
      .prepare('SELECT * FROM sessions WHERE user_id = ? AND expires_at >= ? AND last_seen_at >= ? ORDER BY last_seen_at DESC')
      .all(userId, now, now - this.policy.idleMs) as SessionRow[];
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
  endSessionById(userId: string, id: string): string | null {
    const r = this.db.prepare('DELETE FROM sessions WHERE user_id = ? AND id = ? RETURNING token_hash').get(userId, id) as
      { token_hash: string } | undefined;
    return r?.token_hash ?? null;
  }

  /** Ends every session of a user except `keepHash` (null: all); the token hashes ended. */
  endSessions(userId: string, keepHash: string | null): string[] {
    return (
      this.db.prepare('DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ? RETURNING token_hash').all(userId, keepHash) as {
        token_hash: string;
      }[]
    ).map((r) => r.token_hash);
  }

  /** Marks a session as in use (a live socket keeps its session from idling out). */
  touch(tokenHash: string): void {
    this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?').run(Date.now(), tokenHash);
  }

  endSession(tokenHash: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
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
