import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../../contract';
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

export interface SessionPolicy {
  /** Absolute lifetime of a session. */
  ttlMs: number;
  /** A session unused for this long ends. */
  idleMs: number;
}

export type LoginResult =
  { ok: true; user: User } | { ok: false; reason: 'bad_credentials' | 'totp_required' | 'bad_totp' | 'disabled'; user: User | null };

/** Users and sessions in SQLite. Tokens are opaque; only their SHA-256 is stored. */
export class UserStore {
  constructor(
    private readonly db: Database,
    readonly policy: SessionPolicy,
  ) {}

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

  async checkLogin(username: string, password: string, totpCode: string | undefined): Promise<LoginResult> {
    const r = this.row('username', username);
    // Unknown user: spend the same time hashing so response time does not reveal who exists.
    const ok = await verifyPassword(password, r?.password_hash ?? (await dummyHash()));
    if (!r || !ok) return { ok: false, reason: 'bad_credentials', user: r ? toUser(r) : null };
    const user = toUser(r);
    if (r.disabled) return { ok: false, reason: 'disabled', user };
    if (r.totp_enabled && r.totp_secret) {
      if (!totpCode) return { ok: false, reason: 'totp_required', user };
      if (!verifyTotp(r.totp_secret, totpCode)) return { ok: false, reason: 'bad_totp', user };
    }
    return { ok: true, user };
  }

  setTotpSecret(id: string, secret: string): void {
    this.db.prepare('UPDATE users SET totp_secret = ?, totp_enabled = 0 WHERE id = ?').run(secret, id);
  }

  /** Is this the user's current second-factor code (for changes that need password + code)? */
  checkTotp(id: string, code: string): boolean {
    const r = this.row('id', id);
    return !!(r?.totp_enabled && r.totp_secret && verifyTotp(r.totp_secret, code));
  }

  async checkPassword(id: string, password: string): Promise<boolean> {
    const r = this.row('id', id);
    return r ? verifyPassword(password, r.password_hash) : false;
  }

  enableTotp(id: string, code: string): boolean {
    const r = this.row('id', id);
    if (!r?.totp_secret || !verifyTotp(r.totp_secret, code)) return false;
    this.db.prepare('UPDATE users SET totp_enabled = 1 WHERE id = ?').run(id);
    return true;
  }

  createSession(userId: string, ip: string | null): { token: string; tokenHash: string; expiresAt: Date } {
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    const now = Date.now();
    const expiresAt = new Date(now + this.policy.ttlMs);
    this.db
      .prepare('INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, ip) VALUES (?, ?, ?, ?, ?, ?)')
      .run(tokenHash, userId, now, expiresAt.getTime(), now, ip);
    return { token, tokenHash, expiresAt };
  }

  /** The user behind a token, or null (unknown, expired, idle too long, or user disabled). */
  resolve(token: string): { user: User; tokenHash: string } | null {
    return this.resolveHash(hashToken(token));
  }

  resolveHash(tokenHash: string): { user: User; tokenHash: string } | null {
    const s = this.db.prepare('SELECT user_id, expires_at, last_seen_at FROM sessions WHERE token_hash = ?').get(tokenHash) as
      { user_id: string; expires_at: number; last_seen_at: number } | undefined;
    if (!s) return null;
    const now = Date.now();
    if (now > s.expires_at || now - s.last_seen_at > this.policy.idleMs) {
      this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
      return null;
    }
    const user = this.get(s.user_id);
    if (!user || user.disabled) return null;
    // Touch at most once a minute: a write per request would be wasteful.
    if (now - s.last_seen_at > 60_000) this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?').run(now, tokenHash);
    return { user, tokenHash };
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
