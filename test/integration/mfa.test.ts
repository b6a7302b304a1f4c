import { onTestDatabase } from '../support/core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiErrorBody,
  AuthStatus,
  MfaStatus,
  RecoveryCodes,
  Session,
  SessionList,
  type AuditRecord,
  type Role,
  type UserNotice,
} from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { UserStore } from '../../core/auth/store';
import { base32Decode, totp } from '../../core/auth/totp';
import { loadConfig } from '../../core/config';
import { createLogger } from '../../core/logger';
import { toRecord, type AuditRow } from '../../core/audit/trail';
import { connected, signedIn, signIn, type SignedIn } from '../support/auth';
import { rows } from '../support/rows';
import { sql } from 'kysely';

/**
 * The MFA policy, enrolment, recovery codes, the administrator's reset and the sessions list,
 * against a real core with the default policy (admin and liaison must use a second factor),
 * real SQLite and real socket.io clients.
 */
const PASSWORD = 'mfa-test-password-long';
const code = (secret: string, atMs = Date.now()): string => totp(base32Decode(secret), atMs);

describe('second factor and sessions', () => {
  let core: CoreHandle;
  let admin: SignedIn;
  let store: UserStore;
  const url = (p: string) => new URL(p, core.url);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const signInAs = async (username: string, extra: object = {}, userAgent = 'vitest'): Promise<{ res: Response; who: SignedIn | null }> => {
    const res = await post('/api/v1/auth/login', { username, password: PASSWORD, ...extra }, { 'user-agent': userAgent });
    return { res, who: res.status === 200 ? signedIn(core.url, Session.parse(await res.clone().json())) : null };
  };
  /** A user made without a second factor (as `sentinel users create` or the admin screen does). */
  const plainUser = async (username: string, role: Role): Promise<string> =>
    (await store.create({ username, password: PASSWORD, role, scope: { districts: ['1'] } })).id;
  const enrol = async (who: SignedIn): Promise<{ secret: string; recoveryCodes: string[] }> => {
    const setup = await who.api('/api/v1/auth/totp/setup', { method: 'POST', body: '{}' });
    expect(setup.status).toBe(200);
    const { secret } = (await setup.json()) as { secret: string };
    const bad = await who.api('/api/v1/auth/totp/enable', { method: 'POST', body: JSON.stringify({ code: '000000' }) });
    expect(bad.status).toBe(400);
    const res = await who.api('/api/v1/auth/totp/enable', { method: 'POST', body: JSON.stringify({ code: code(secret) }) });
    expect(res.status).toBe(200);
    return { secret, recoveryCodes: RecoveryCodes.parse(await res.json()).recoveryCodes };
  };
  const auditOf = async (action: string): Promise<AuditRecord[]> =>
    (await rows(core.sql, sql<AuditRow>`SELECT * FROM audit WHERE action = ${action} ORDER BY seq`)).map(toRecord);

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-mfa-'));
    const cfg = loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {});
    expect(cfg.auth.mfaRequiredRoles).toEqual(['admin', 'liaison']);
    core = await startCore(await onTestDatabase(cfg), { log: createLogger('silent') });
    store = new UserStore(core.sql, { ttlMs: 3_600_000, idleMs: 3_600_000 });
    admin = await signIn(core);
  });
  afterAll(async () => {
    await core?.close();
  });

  it('a liaison without a factor is taken to enrolment and can reach nothing else, on HTTP or socket, until enrolled', async () => {
    await plainUser('lee', 'liaison');
    const { res, who } = await signInAs('lee');
    expect(res.status).toBe(200);
    const session = Session.parse(await res.json());
    expect(session.mfaEnrolmentRequired).toBe(true);
    const u = who!;
    expect(AuthStatus.parse(await (await u.api('/api/v1/auth/status')).json()).mfaEnrolmentRequired).toBe(true);
    expect((await u.api('/api/v1/auth/me')).status).toBe(200);
    for (const path of ['/api/v1/cameras', '/api/v1/incidents', '/api/v1/alerts', '/api/v1/auth/sessions']) {
      const r = await u.api(path);
      expect(r.status, path).toBe(403);
      expect(ApiErrorBody.parse(await r.json()).error.field, path).toBe('mfa');
    }
    // The socket is refused too (and with it the alert push).
    const s = u.socket();
    await expect(connected(s)).rejects.toThrow(/unauthorized/);
    s.close();

    const { recoveryCodes } = await enrol(u);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const c of recoveryCodes) expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    // The same session now reaches its routes and its socket.
    expect((await u.api('/api/v1/incidents')).status).toBe(200);
    const s2 = u.socket();
    await connected(s2);
    s2.close();
    expect(MfaStatus.parse(await (await u.api('/api/v1/auth/mfa')).json())).toEqual({
      enabled: true,
      required: true,
      recoveryCodesLeft: 10,
    });
    // Stored hashed: no code appears in the database.
    const stored = await rows(
      core.sql,
      sql<{ code_hash: string }>`SELECT code_hash FROM recovery_codes WHERE user_id = ${session.user.id}`,
    );
    expect(stored).toHaveLength(10);
    for (const r of stored) {
      expect(r.code_hash).toMatch(/^scrypt\$/);
      for (const c of recoveryCodes) expect(r.code_hash).not.toContain(c.replace('-', ''));
    }
    expect((await auditOf('user.totp_enable')).at(-1)).toMatchObject({ actor: 'lee', detail: { replaced: false, recoveryCodes: 10 } });
  });

  it('an operator (not in the policy) works without a factor', async () => {
    await plainUser('olga', 'operator');
    const { res, who } = await signInAs('olga');
    expect(Session.parse(await res.json()).mfaEnrolmentRequired).toBe(false);
    expect((await who!.api('/api/v1/cameras')).status).toBe(200);
  });

  it('a recovery code signs in once in place of the code; the codes can be regenerated with password and code', async () => {
    await plainUser('rita', 'liaison');
    const u = (await signInAs('rita')).who!;
    const { secret, recoveryCodes } = await enrol(u);
    expect((await signInAs('rita')).res.status).toBe(401);
    const [first, second] = recoveryCodes as [string, string];
    // Printed form, upper case and spaces are all accepted.
    const ok = await signInAs('rita', { recoveryCode: ` ${first.toUpperCase()} ` });
    expect(ok.res.status).toBe(200);
    expect((await auditOf('auth.login')).at(-1)).toMatchObject({
      actor: 'rita',
      detail: { factor: 'recovery_code', recoveryCodesLeft: 9 },
    });
    const again = await signInAs('rita', { recoveryCode: first });
    expect(again.res.status).toBe(401);
    expect(ApiErrorBody.parse(await again.res.json()).error.field).toBe('recoveryCode');
    // Two sign-ins racing with one code: only one gets in.
    const race = await Promise.all([signInAs('rita', { recoveryCode: second }), signInAs('rita', { recoveryCode: second })]);
    expect(race.map((r) => r.res.status).sort()).toEqual([200, 401]);
    expect(MfaStatus.parse(await (await u.api('/api/v1/auth/mfa')).json()).recoveryCodesLeft).toBe(8);

    for (const body of [
      {},
      { password: PASSWORD },
      { code: code(secret) },
      { password: 'wrong-password-123', code: code(secret) },
      { password: PASSWORD, code: '000000' },
    ]) {
      const r = await u.api('/api/v1/auth/recovery-codes', { method: 'POST', body: JSON.stringify(body) });
      expect([400, 401], JSON.stringify(body)).toContain(r.status);
    }
    expect((await auditOf('user.mfa_confirm_failed')).filter((r) => r.actor === 'rita').length).toBeGreaterThanOrEqual(2);
    const regen = await u.api('/api/v1/auth/recovery-codes', {
      method: 'POST',
      body: JSON.stringify({ password: PASSWORD, code: code(secret) }),
    });
    expect(regen.status).toBe(200);
    const fresh = RecoveryCodes.parse(await regen.json()).recoveryCodes;
    expect((await signInAs('rita', { recoveryCode: recoveryCodes[2] })).res.status).toBe(401);
    expect((await signInAs('rita', { recoveryCode: fresh[0] })).res.status).toBe(200);
  });

  it('changing the factor needs password and code and keeps the old one until the new is confirmed; required roles cannot switch it off', async () => {
    await plainUser('carl', 'liaison');
    const u = (await signInAs('carl')).who!;
    const { secret } = await enrol(u);
    for (const body of [{}, { password: PASSWORD }, { password: 'wrong-password-123', code: code(secret) }]) {
      const r = await u.api('/api/v1/auth/totp/setup', { method: 'POST', body: JSON.stringify(body) });
      expect(r.status, JSON.stringify(body)).toBe(401);
    }
    const change = await u.api('/api/v1/auth/totp/setup', {
      method: 'POST',
      body: JSON.stringify({ password: PASSWORD, code: code(secret) }),
    });
    expect(change.status).toBe(200);
    const next = ((await change.json()) as { secret: string }).secret;
    // Abandoned half-way: the old factor still signs in, the new one does not yet.
    expect((await signInAs('carl', { totp: code(secret) })).res.status).toBe(200);
    expect(next).not.toBe(secret);
    const enable = await u.api('/api/v1/auth/totp/enable', { method: 'POST', body: JSON.stringify({ code: code(next) }) });
    expect(enable.status).toBe(200);
    expect((await signInAs('carl', { totp: code(next) })).res.status).toBe(200);

    const off = await u.api('/api/v1/auth/totp/disable', {
      method: 'POST',
      body: JSON.stringify({ password: PASSWORD, code: code(next) }),
    });
    expect(off.status).toBe(409);
    expect(ApiErrorBody.parse(await off.json()).error.message).toMatch(/must use a second factor/);
  });

  it('an operator switches the factor off only with password and code', async () => {
    await plainUser('otto', 'operator');
    const u = (await signInAs('otto')).who!;
    const { secret } = await enrol(u);
    for (const body of [{ password: PASSWORD }, { code: code(secret) }])
      expect((await u.api('/api/v1/auth/totp/disable', { method: 'POST', body: JSON.stringify(body) })).status).toBe(400);
    expect(
      (
        await u.api('/api/v1/auth/totp/disable', {
          method: 'POST',
          body: JSON.stringify({ password: 'wrong-password-123', code: code(secret) }),
        })
      ).status,
    ).toBe(401);
    expect((await signInAs('otto')).res.status).toBe(401);
    const off = await u.api('/api/v1/auth/totp/disable', {
      method: 'POST',
      body: JSON.stringify({ password: PASSWORD, code: code(secret) }),
    });
    expect(off.status).toBe(200);
    expect((await signInAs('otto')).res.status).toBe(200);
    expect((await auditOf('user.totp_disable')).at(-1)).toMatchObject({ actor: 'otto' });
  });

  it("an administrator's reset is audited, told on the open socket and at the next sign-in, and sends a required role back to enrolment", async () => {
    const id = await plainUser('nina', 'liaison');
    const u = (await signInAs('nina')).who!;
    const { secret } = await enrol(u);
    const s = u.socket();
    const notice = new Promise<UserNotice>((res) => s.once('auth:notice', res));
    const expired = new Promise<void>((res) => s.once('auth:expired', () => res()));
    await connected(s);
    // Only an administrator may reset.
    expect((await u.api(`/api/v1/users/${id}/mfa/reset`, { method: 'POST', body: '{}' })).status).toBe(403);
    const reset = await admin.api(`/api/v1/users/${id}/mfa/reset`, { method: 'POST', body: '{}' });
    expect(reset.status).toBe(200);
    expect(((await reset.json()) as { totpEnabled: boolean }).totpEnabled).toBe(false);
    expect((await notice).kind).toBe('mfa_reset');
    await expired;
    s.close();
    expect((await auditOf('user.mfa_reset')).at(-1)).toMatchObject({
      actor: 'test-admin',
      target: `user:${id}`,
      detail: { username: 'nina', hadFactor: true },
    });
    // The old code no longer matters; the next sign-in says what happened and asks to enrol.
    const next = await signInAs('nina', { totp: code(secret) });
    expect(next.res.status).toBe(200);
    const session = Session.parse(await next.res.json());
    expect(session.mfaEnrolmentRequired).toBe(true);
    expect(session.notices.map((n) => n.kind)).toEqual(['mfa_reset']);
    expect(session.notices[0]!.message).toMatch(/reset your two-step sign-in/);
    expect(Session.parse(await (await signInAs('nina')).res.json()).notices).toEqual([]);
    expect((await admin.api('/api/v1/users/no-such-user/mfa/reset', { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('a user lists their sessions and revokes one (its socket ends at once); another user cannot', async () => {
    await plainUser('sam', 'operator');
    const a = (await signInAs('sam', {}, 'Mozilla/5.0 (X11; Linux) Chromium/120 laptop')).who!;
    const b = (await signInAs('sam', {}, 'Mozilla/5.0 (iPad) tablet')).who!;
    const list = SessionList.parse(await (await a.api('/api/v1/auth/sessions')).json()).sessions;
    expect(list).toHaveLength(2);
    const mine = list.find((x) => x.current)!;
    const other = list.find((x) => !x.current)!;
    expect(mine.userAgent).toContain('laptop');
    expect(other.userAgent).toContain('tablet');
    expect(other.ip).toBe('127.0.0.1');
    expect(other).toMatchObject({ method: 'password' });
    expect(JSON.stringify(list)).not.toContain(a.token);
    const sb = b.socket();
    await connected(sb);
    const gone = new Promise<void>((res) => sb.once('disconnect', () => res()));
    // Another user (even an admin) cannot end sam's session through their own list.
    expect((await admin.api(`/api/v1/auth/sessions/${other.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await a.api(`/api/v1/auth/sessions/${other.id}`, { method: 'DELETE' })).status).toBe(200);
    await gone;
    sb.close();
    expect((await b.api('/api/v1/auth/me')).status).toBe(401);
    expect((await a.api('/api/v1/auth/me')).status).toBe(200);
    expect((await auditOf('auth.session_revoke')).at(-1)).toMatchObject({ actor: 'sam', detail: { session: other.id, current: false } });

    const c = (await signInAs('sam')).who!;
    const d = (await signInAs('sam')).who!;
    const others = await a.api('/api/v1/auth/sessions/revoke-others', { method: 'POST', body: '{}' });
    expect(await others.json()).toEqual({ revoked: 2 });
    expect((await c.api('/api/v1/auth/me')).status).toBe(401);
    expect((await d.api('/api/v1/auth/me')).status).toBe(401);
    expect((await a.api('/api/v1/auth/me')).status).toBe(200);
  });

  it('an administrator signs a user out everywhere, and disabling a user ends their sockets at once', async () => {
    const id = await plainUser('pat', 'operator');
    const a = (await signInAs('pat')).who!;
    const b = (await signInAs('pat')).who!;
    expect(SessionList.parse(await (await admin.api(`/api/v1/users/${id}/sessions`)).json()).sessions).toHaveLength(2);
    expect((await a.api(`/api/v1/users/${id}/sessions`)).status).toBe(403);
    const sa = a.socket();
    const sb = b.socket();
    await Promise.all([connected(sa), connected(sb)]);
    const both = Promise.all([sa, sb].map((s) => new Promise<void>((res) => s.once('auth:expired', () => res()))));
    const out = await admin.api(`/api/v1/users/${id}/sign-out`, { method: 'POST', body: '{}' });
    expect(await out.json()).toEqual({ revoked: 2 });
    await both;
    sa.close();
    sb.close();
    expect((await a.api('/api/v1/auth/me')).status).toBe(401);
    expect((await b.api('/api/v1/auth/me')).status).toBe(401);
    expect((await auditOf('user.sign_out_everywhere')).at(-1)).toMatchObject({
      actor: 'test-admin',
      detail: { username: 'pat', sessions: 2 },
    });

    const c = (await signInAs('pat')).who!;
    const sc = c.socket();
    await connected(sc);
    const dropped = new Promise<void>((res) => sc.once('disconnect', () => res()));
    const t0 = Date.now();
    expect((await admin.api(`/api/v1/users/${id}`, { method: 'PATCH', body: JSON.stringify({ disabled: true }) })).status).toBe(200);
    await dropped;
    // "At once": well before the 30 s session sweep.
    expect(Date.now() - t0).toBeLessThan(10_000);
    sc.close();
    expect((await signInAs('pat')).res.status).toBe(401);
  });
});

describe('the demo relaxes the policy, and says so', () => {
  it('serve --demo empties auth.mfaRequiredRoles unless the config file sets it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-mfa-cfg-'));
    const demo = loadConfig({ demo: true, dataDir: dir }, {});
    expect(demo.auth.mfaRequiredRoles).toEqual([]);
    expect(demo.mfaRelaxedForDemo).toBe(true);
    expect(loadConfig({ dataDir: dir }, {}).auth.mfaRequiredRoles).toEqual(['admin', 'liaison']);
    const file = join(dir, 'sentinel.json');
    writeFileSync(file, JSON.stringify({ auth: { mfaRequiredRoles: ['admin'] } }));
    const strict = loadConfig({ demo: true, dataDir: dir, configFile: file }, {});
    expect(strict.auth.mfaRequiredRoles).toEqual(['admin']);
    expect(strict.mfaRelaxedForDemo).toBe(false);
  });
});
