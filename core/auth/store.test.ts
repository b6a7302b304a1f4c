import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import { hashToken, RECOVERY_CODE_COUNT, UserStore } from './store';
import type { AuthTables } from './tables';
import { base32Decode, newTotpSecret, totp } from './totp';

const PASSWORD = 'correct horse battery staple';
const policy = { ttlMs: 12 * 3_600_000, idleMs: 30 * 60_000, mfaRequiredRoles: ['admin' as const] };
const codeOf = (secret: string): string => totp(base32Decode(secret), Date.now());

/** Moves a session's times back, as if it had been created or used that long ago. */
async function age(db: SqlDb, tokenHash: string, set: Partial<Pick<AuthTables['sessions'], 'last_seen_at' | 'expires_at'>>) {
  await db.as<AuthTables>().updateTable('sessions').set(set).where('token_hash', '=', tokenHash).execute();
}
const lastSeen = async (db: SqlDb, tokenHash: string): Promise<number | undefined> =>
  (await db.as<AuthTables>().selectFrom('sessions').select('last_seen_at').where('token_hash', '=', tokenHash).executeTakeFirst())
    ?.last_seen_at;

/** A user with the second factor on: its secret and its recovery codes. */
async function enrolled(store: UserStore, id: string): Promise<{ secret: string; codes: string[] }> {
  const secret = newTotpSecret();
  await store.beginTotp(id, secret);
  const codes = await store.confirmTotp(id, codeOf(secret));
  if (!codes) throw new Error('enrolment failed');
  return { secret, codes };
}

describeOnBothDatabases('UserStore', (open) => {
  it('creates users and finds them by id and by user name in any case; names are unique regardless of case', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    expect(await store.count()).toBe(0);
    const ann = await store.create({ username: 'Ann.Op', password: PASSWORD, role: 'operator', displayName: 'Ann' });
    await store.create({ username: 'zoe', password: PASSWORD, role: 'liaison', scope: { districts: ['4'] } });
    await store.create({ username: 'Bob', password: PASSWORD, role: 'reviewer' });
    expect(ann).toMatchObject({ username: 'Ann.Op', displayName: 'Ann', role: 'operator', totpEnabled: false, disabled: false });
    expect(await store.count()).toBe(3);
    expect(await store.get(ann.id)).toEqual(ann);
    expect(await store.get('nobody')).toBeNull();
    expect((await store.byUsername('ann.op'))?.id).toBe(ann.id);
    expect((await store.byUsername('ANN.OP'))?.id).toBe(ann.id);
    expect(await store.byUsername('ann')).toBeNull();
    expect((await store.byUsername('ZOE'))?.scope.districts).toEqual(['4']);
    // Ordered by name regardless of case, on both databases.
    expect((await store.list()).map((u) => u.username)).toEqual(['Ann.Op', 'Bob', 'zoe']);
    const dup = store.create({ username: 'ANN.op', password: PASSWORD, role: 'admin' });
    await expect(dup).rejects.toBeInstanceOf(SentinelError);
    await expect(dup).rejects.toMatchObject({ code: 'conflict', field: 'username' });
    expect(await store.count()).toBe(3);
  });

  it('first-run set-up creates the administrator only while there are no users, even when two race', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const results = await Promise.allSettled(
      ['chief', 'deputy'].map((username) => store.create({ username, password: PASSWORD, role: 'admin' }, { onlyIfNoUsers: true })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'conflict' } });
    expect(await store.count()).toBe(1);
  });

  it('commits what is created with a user in the same transaction, or neither', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    await expect(
      store.create(
        { username: 'half', password: PASSWORD, role: 'operator' },
        {
          link: async () => {
            throw new Error('link failed');
          },
        },
      ),
    ).rejects.toThrow('link failed');
    expect(await store.byUsername('half')).toBeNull();
  });

  it('updates a user; a new password, role or scope, or disabling, ends their sessions, a new display name does not', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const u = await store.create({ username: 'olivia', password: PASSWORD, role: 'operator' });
    const s = await store.createSession(u.id, null);
    expect(await store.update(u.id, { displayName: 'Olivia P.' })).toMatchObject({ displayName: 'Olivia P.', role: 'operator' });
    expect(await store.resolve(s.token)).not.toBeNull();
    expect(await store.update(u.id, { role: 'liaison', scope: { lines: ['Red'] } })).toMatchObject({
      role: 'liaison',
      scope: { lines: ['Red'], districts: [] },
    });
    expect(await store.resolve(s.token)).toBeNull();
    const s2 = await store.createSession(u.id, null);
    await store.update(u.id, { password: 'another long password' });
    expect(await store.resolve(s2.token)).toBeNull();
    expect(await store.checkPassword(u.id, 'another long password')).toBe(true);
    expect(await store.checkPassword(u.id, PASSWORD)).toBe(false);
    const s3 = await store.createSession(u.id, null);
    expect(await store.update(u.id, { disabled: true })).toMatchObject({ disabled: true });
    expect(await store.resolve(s3.token)).toBeNull();
    await expect(store.update('nobody', { displayName: 'x' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('checks a sign-in: password, disabled account, second factor, recovery code spent once', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const u = await store.create({ username: 'Chief', password: PASSWORD, role: 'admin' });
    expect(await store.checkLogin('nobody', PASSWORD, undefined)).toEqual({ ok: false, reason: 'bad_credentials', user: null });
    expect(await store.checkLogin('chief', 'wrong password!', undefined)).toMatchObject({ ok: false, reason: 'bad_credentials' });
    expect(await store.checkLogin('CHIEF', PASSWORD, undefined)).toMatchObject({ ok: true, factor: null, user: { id: u.id } });
    const { secret, codes } = await enrolled(store, u.id);
    expect(await store.checkLogin('chief', PASSWORD, undefined)).toMatchObject({ ok: false, reason: 'totp_required' });
    expect(await store.checkLogin('chief', PASSWORD, '000000')).toMatchObject({ ok: false, reason: 'bad_totp' });
    expect(await store.checkLogin('chief', PASSWORD, codeOf(secret))).toMatchObject({ ok: true, factor: 'totp' });
    expect(await store.checkLogin('chief', PASSWORD, undefined, codes[0])).toMatchObject({ ok: true, factor: 'recovery_code' });
    expect(await store.checkLogin('chief', PASSWORD, undefined, codes[0])).toMatchObject({ ok: false, reason: 'bad_recovery_code' });
    expect(await store.recoveryCodesLeft(u.id)).toBe(RECOVERY_CODE_COUNT - 1);
    await store.update(u.id, { disabled: true });
    expect(await store.checkLogin('chief', PASSWORD, codeOf(secret))).toMatchObject({ ok: false, reason: 'disabled' });
  });

  it('enrols, replaces and switches off the second factor; recovery codes are replaced as a whole', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const u = await store.create({ username: 'tess', password: PASSWORD, role: 'technician' });
    const pending = newTotpSecret();
    expect(await store.confirmTotp(u.id, '123456')).toBeNull(); // nothing pending
    await store.beginTotp(u.id, pending);
    expect((await store.get(u.id))?.totpEnabled).toBe(false);
    expect(await store.confirmTotp(u.id, codeOf(newTotpSecret()))).toBeNull(); // a code from another secret
    const codes = await store.confirmTotp(u.id, codeOf(pending));
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    expect((await store.get(u.id))?.totpEnabled).toBe(true);
    expect(await store.checkTotp(u.id, codeOf(pending))).toBe(true);
    expect(await store.checkSecondFactor(u.id, codeOf(pending))).toBe(true);
    // A new secret waits as pending: the old one keeps working until it is confirmed.
    const next = newTotpSecret();
    await store.beginTotp(u.id, next);
    expect(await store.checkTotp(u.id, codeOf(pending))).toBe(true);
    const replaced = (await store.confirmTotp(u.id, codeOf(next)))!;
    expect(await store.checkTotp(u.id, codeOf(next))).toBe(true);
    expect(await store.checkSecondFactor(u.id, codes![0]!)).toBe(false); // the old codes went with the old enrolment
    expect(await store.checkSecondFactor(u.id, replaced[0]!)).toBe(true);
    expect(await store.checkSecondFactor(u.id, replaced[0]!)).toBe(false);
    expect(await store.recoveryCodesLeft(u.id)).toBe(RECOVERY_CODE_COUNT - 1);
    const fresh = await store.regenerateRecoveryCodes(u.id);
    expect(await store.recoveryCodesLeft(u.id)).toBe(RECOVERY_CODE_COUNT);
    expect(await store.checkSecondFactor(u.id, replaced[1]!)).toBe(false);
    expect(await store.checkSecondFactor(u.id, fresh[1]!.toUpperCase().replace('-', ' '))).toBe(true);
    await store.disableTotp(u.id);
    expect((await store.get(u.id))?.totpEnabled).toBe(false);
    expect(await store.checkTotp(u.id, codeOf(next))).toBe(false);
    expect(await store.recoveryCodesLeft(u.id)).toBe(0);
  });

  it('spends a recovery code once when two sign-ins race with it', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const u = await store.create({ username: 'racer', password: PASSWORD, role: 'operator' });
    const { codes } = await enrolled(store, u.id);
    const won = await Promise.all([0, 1, 2].map(() => store.checkSecondFactor(u.id, codes[3]!)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await store.recoveryCodesLeft(u.id)).toBe(RECOVERY_CODE_COUNT - 1);
  });

  it("resets a user's second factor with a notice shown once", async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const u = await store.create({ username: 'lost.phone', password: PASSWORD, role: 'admin' });
    await enrolled(store, u.id);
    expect(await store.takeNotices(u.id)).toEqual([]);
    const first = await store.resetMfa(u.id, 'reset by the chief');
    const second = await store.resetMfa(u.id, 'reset again');
    expect(first).toMatchObject({ kind: 'mfa_reset', message: 'reset by the chief' });
    expect(second.id).toBeGreaterThan(first.id);
    expect((await store.get(u.id))?.totpEnabled).toBe(false);
    expect(await store.recoveryCodesLeft(u.id)).toBe(0);
    expect(await store.takeNotices(u.id)).toEqual([first, second]);
    expect(await store.takeNotices(u.id)).toEqual([]);
  });

  it('resolves a session by its token until it expires, idles out, or its user is disabled', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const u = await store.create({ username: 'olivia', password: PASSWORD, role: 'operator' });
    const s = await store.createSession(u.id, '10.0.0.7', { userAgent: 'x'.repeat(400) });
    expect(s.tokenHash).toBe(hashToken(s.token));
    expect(s.expiresAt.getTime()).toBeGreaterThan(Date.now() + policy.ttlMs - 5_000);
    const r = await store.resolve(s.token);
    expect(r).toMatchObject({ user: { id: u.id, username: 'olivia' }, tokenHash: s.tokenHash, sessionId: s.id, method: 'password' });
    expect(r?.mfaPending).toBe(false);
    expect(await store.resolve('not-a-token')).toBeNull();
    expect((await store.listSessions(u.id, null))[0]).toMatchObject({ ip: '10.0.0.7', userAgent: 'x'.repeat(300) });

    const idle = await store.createSession(u.id, null);
    await age(db, idle.tokenHash, { last_seen_at: Date.now() - policy.idleMs - 1_000 });
    expect(await store.resolveHash(idle.tokenHash)).toBeNull();
    expect(await lastSeen(db, idle.tokenHash)).toBeUndefined(); // an ended session is removed

    const old = await store.createSession(u.id, null);
    await age(db, old.tokenHash, { expires_at: Date.now() - 1 });
    expect(await store.resolve(old.token)).toBeNull();
    expect(await lastSeen(db, old.tokenHash)).toBeUndefined();

    await db.as<AuthTables>().updateTable('users').set({ disabled: 1 }).where('id', '=', u.id).execute();
    expect(await store.resolve(s.token)).toBeNull();
  });

  it('writes last use at most once a minute when resolving; touch always writes', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const u = await store.create({ username: 'olivia', password: PASSWORD, role: 'operator' });
    const s = await store.createSession(u.id, null);
    const recent = Date.now() - 30_000;
    await age(db, s.tokenHash, { last_seen_at: recent });
    await store.resolve(s.token);
    expect(await lastSeen(db, s.tokenHash)).toBe(recent);
    const stale = Date.now() - 5 * 60_000;
    await age(db, s.tokenHash, { last_seen_at: stale });
    await store.resolve(s.token);
    expect(await lastSeen(db, s.tokenHash)).toBeGreaterThan(Date.now() - 5_000);
    await age(db, s.tokenHash, { last_seen_at: recent });
    await store.touch(s.tokenHash);
    expect(await lastSeen(db, s.tokenHash)).toBeGreaterThan(Date.now() - 5_000);
  });

  it('holds a password session of a role that must use a second factor to enrolment; single sign-on is exempt', async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const admin = await store.create({ username: 'chief', password: PASSWORD, role: 'admin' });
    const pw = await store.createSession(admin.id, null);
    const sso = await store.createSession(admin.id, null, { method: 'sso' });
    expect(await store.resolve(pw.token)).toBeNull();
    expect(await store.resolve(pw.token, { allowMfaPending: true })).toMatchObject({ mfaPending: true, method: 'password' });
    expect(await store.resolve(sso.token)).toMatchObject({ mfaPending: false, method: 'sso' });
    await enrolled(store, admin.id);
    expect(await store.resolve(pw.token)).toMatchObject({ mfaPending: false });
  });

  it("lists a user's live sessions newest use first and ends one, all but one, or all", async () => {
    const db = await open();
    const store = new UserStore(db, policy);
    const a = await store.create({ username: 'ann', password: PASSWORD, role: 'operator' });
    const b = await store.create({ username: 'bob', password: PASSWORD, role: 'operator' });
    const s1 = await store.createSession(a.id, null);
    const s2 = await store.createSession(a.id, null);
    const s3 = await store.createSession(a.id, null);
    const other = await store.createSession(b.id, null);
    const now = Date.now();
    await age(db, s1.tokenHash, { last_seen_at: now - 3_000 });
    await age(db, s2.tokenHash, { last_seen_at: now - 1_000 });
    await age(db, s3.tokenHash, { last_seen_at: now - 2_000 });
    const listed = await store.listSessions(a.id, s3.tokenHash);
    expect(listed.map((s) => s.id)).toEqual([s2.id, s3.id, s1.id]);
    expect(listed.map((s) => s.current)).toEqual([false, true, false]);
    expect(listed[0]).toMatchObject({ method: 'password', lastSeenAt: new Date(now - 1_000).toISOString() });

    expect(await store.endSessionById(b.id, s1.id)).toBeNull(); // not bob's
    expect(await store.endSessionById(a.id, s1.id)).toBe(s1.tokenHash);
    expect(await store.endSessionById(a.id, s1.id)).toBeNull();
    expect(await store.endSessions(a.id, s3.tokenHash)).toEqual([s2.tokenHash]);
    expect((await store.listSessions(a.id, null)).map((s) => s.id)).toEqual([s3.id]);
    const s4 = await store.createSession(a.id, null);
    expect((await store.endSessions(a.id, null)).sort()).toEqual([s3.tokenHash, s4.tokenHash].sort());
    expect(await store.listSessions(a.id, null)).toEqual([]);
    await store.endSession(other.tokenHash);
    expect(await store.resolve(other.token)).toBeNull();
  });
});
