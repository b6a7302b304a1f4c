import { createHash } from 'node:crypto';
import { io as ioClient, type Socket } from 'socket.io-client';
import { Session, SOCKET_PATH, type ClientToServerEvents, type Role, type ServerToClientEvents, type UserCreate } from '../../contract';
import { UserStore } from '../../core/auth/store';
import { base32Decode, base32Encode, totp } from '../../core/auth/totp';
import { initDataDir } from '../../core/data-dir';
import { openData } from '../../core/db/open';
import type { SqlDb } from '../../core/db/sql';

/**
 * How tests sign in (every route and socket needs a session).
 *
 * - `sentinel serve` children (startServe): before the child starts, the first admin is
 *   created directly in the data directory's database (TEST_ADMIN below), exactly what
 *   `sentinel users create-admin` does; then startServe signs in over HTTP and the returned
 *   RunningServe carries `token`, `api()` (fetch with the bearer token) and `socket()`.
 * - In-process cores (startCore): `signIn(core)` creates the admin in the core's database
 *   and signs in over HTTP, returning the same helpers.
 * - Chromium: `openPage(browser, url, viewport, { token })` puts the session cookie in the
 *   page's context (or drive the real sign-in screen, as test/e2e/auth.test.ts does).
 *
 * Second factor: the MFA policy (auth.mfaRequiredRoles, default admin and liaison) applies
 * in tests as in production. Users made with `ensureUser` are enrolled directly in the
 * database with a secret derived from their name (`testTotpSecret`); users made through the
 * API by `createAndLogin` enrol through the API when the core asks for it, as the console's
 * enrolment screen does. `login` then sends the current code for every user it knows.
 *
 * There is no default password in the product: this one exists only in test data dirs.
 */
export const TEST_ADMIN = { username: 'test-admin', password: 'test-admin-password-not-for-production' } as const;

const noopPolicy = { ttlMs: 12 * 3_600_000, idleMs: 30 * 60_000 };

/** Each test user's authenticator secret and recovery codes, by user name. */
const secrets = new Map<string, string>();
const recoveryCodes = new Map<string, string[]>();

/** The authenticator secret `ensureUser` gives a user (test data only; derived, so every process agrees). */
export function testTotpSecret(username: string): string {
  return base32Encode(createHash('sha1').update(`sentinel-test-totp:${username.toLowerCase()}`).digest());
}

/** The current six-digit code of a test user (the "phone"), or null for a user with no known factor. */
export function totpCodeFor(username: string, atMs = Date.now()): string | null {
  const secret = secrets.get(username.toLowerCase());
  return secret ? totp(base32Decode(secret), atMs) : null;
}

/** The recovery codes a test user got at enrolment (in this process). */
export function recoveryCodesFor(username: string): string[] {
  return recoveryCodes.get(username.toLowerCase()) ?? [];
}

/** Records a secret a test enrolled itself (so `login` can answer for that user). */
export function rememberTotp(username: string, secret: string, codes?: string[]): void {
  secrets.set(username.toLowerCase(), secret);
  if (codes) recoveryCodes.set(username.toLowerCase(), codes);
}

/** Creates a user with a second factor in an open database (no-op when the user name exists). */
export async function ensureUser(db: SqlDb, user: UserCreate & { role: Role }): Promise<void> {
  const store = new UserStore(db, noopPolicy);
  const secret = testTotpSecret(user.username);
  const existing = await store.byUsername(user.username);
  if (existing) {
    if (existing.totpEnabled) secrets.set(user.username.toLowerCase(), secret);
    return;
  }
  const created = await store.create(user);
  await store.beginTotp(created.id, secret);
  const codes = await store.confirmTotp(created.id, totp(base32Decode(secret), Date.now()));
  if (!codes) throw new Error(`enrolling the test user ${user.username} failed`);
  rememberTotp(user.username, secret, codes);
}

/** Creates TEST_ADMIN in a data directory (before `sentinel serve` starts on it). */
export async function seedAdmin(dataDir: string, databaseUrl?: string): Promise<void> {
  const config = { dataDir, database: { url: databaseUrl } };
  initDataDir(config);
  const db = await openData(config, { create: true });
  try {
    await ensureUser(db, { ...TEST_ADMIN, role: 'admin' });
  } finally {
    await db.close();
  }
}

export interface SignedIn {
  token: string;
  session: Session;
  /** fetch with `Authorization: Bearer`, relative to the core's URL. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** A socket.io client with this session (not yet waited for: use `connected(socket)`). */
  socket(opts?: { lastAlertId?: string; lastSeq?: number }): Socket<ServerToClientEvents, ClientToServerEvents>;
}

export async function login(baseUrl: string, username: string, password: string): Promise<SignedIn> {
  const code = totpCodeFor(username);
  const res = await fetch(new URL('/api/v1/auth/login', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, ...(code ? { totp: code } : {}) }),
  });
  if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`);
  const session = Session.parse(await res.json());
  return signedIn(baseUrl, session);
}

/** Enrols the signed-in user's second factor through the API (what the enrolment screen does). */
export async function enrolTotp(who: SignedIn): Promise<{ secret: string; recoveryCodes: string[] }> {
  const setup = await who.api('/api/v1/auth/totp/setup', { method: 'POST', body: '{}' });
  if (setup.status !== 200) throw new Error(`totp set-up failed: ${setup.status} ${await setup.text()}`);
  const { secret } = (await setup.json()) as { secret: string };
  const res = await who.api('/api/v1/auth/totp/enable', {
    method: 'POST',
    body: JSON.stringify({ code: totp(base32Decode(secret), Date.now()) }),
  });
  if (res.status !== 200) throw new Error(`totp enable failed: ${res.status} ${await res.text()}`);
  const { recoveryCodes: codes } = (await res.json()) as { recoveryCodes: string[] };
  rememberTotp(who.session.user.username, secret, codes);
  return { secret, recoveryCodes: codes };
}

export function signedIn(baseUrl: string, session: Session): SignedIn {
  const token = session.token;
  return {
    token,
    session,
    api: (path, init = {}) =>
      fetch(new URL(path, baseUrl), {
        ...init,
        headers: {
          ...(init.body !== undefined && typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}),
          ...(init.headers as Record<string, string> | undefined),
          authorization: `Bearer ${token}`,
        },
      }),
    socket: (opts = {}) => ioClient(baseUrl, { path: SOCKET_PATH, transports: ['websocket'], auth: { token, ...opts }, forceNew: true }),
  };
}

/** Signs in to an in-process core as TEST_ADMIN (creating it in the core's database). */
export async function signIn(
  core: { url: string; sql: SqlDb },
  user: UserCreate & { role: Role } = { ...TEST_ADMIN, role: 'admin' },
): Promise<SignedIn> {
  await ensureUser(core.sql, user);
  return login(core.url, user.username, user.password);
}

/**
 * Creates a user through the admin API (audited, like the console does) and signs in as it;
 * when the MFA policy requires it, enrols the second factor first (the session then reaches
 * everything, as after the console's enrolment screen).
 */
export async function createAndLogin(baseUrl: string, admin: SignedIn, user: UserCreate & { role: Role }): Promise<SignedIn> {
  const res = await admin.api('/api/v1/users', { method: 'POST', body: JSON.stringify(user) });
  if (res.status !== 201) throw new Error(`creating ${user.username} failed: ${res.status} ${await res.text()}`);
  // A user of that name from an earlier core in this process had another secret.
  secrets.delete(user.username.toLowerCase());
  const who = await login(baseUrl, user.username, user.password);
  if (!who.session.mfaEnrolmentRequired) return who;
  await enrolTotp(who);
  return signedIn(baseUrl, { ...who.session, mfaEnrolmentRequired: false });
}

export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(e));
  });
}
