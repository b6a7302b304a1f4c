import { onTestDatabase } from '../support/core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../contract';
import { ApiErrorBody, AuthStatus, PUBLIC, routes, Session, SESSION_COOKIE, SOCKET_PATH, type RouteAccess } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { base32Decode, totp } from '../../core/auth/totp';
import { loadConfig } from '../../core/config';
import type { Feature } from '../../core/feature';
import { createLogger } from '../../core/logger';
import { connected, createAndLogin, login, signedIn, type SignedIn } from '../support/auth';
import { num, rows } from '../support/rows';
import { sql } from 'kysely';

const ADMIN = { username: 'ada', password: 'first-run-admin-password' };
const registered: { method: string; url: string }[] = [];
// Sees every route the features register (it runs before them), to compare with the contract.
const routeCollector: Feature = {
  name: 'route-collector',
  register(ctx) {
    ctx.http.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') registered.push({ method: m, url: r.url });
    });
  },
};

describe('authentication and authorisation on every route and socket', () => {
  let core: CoreHandle;
  let admin: SignedIn;
  const url = (p: string) => new URL(p, core.url);

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-auth-'));
    const cfg = loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {});
    // No MFA policy here: this file is about sessions and roles in general (the admin is made
    // by first-run set-up and used at once); the policy has its own tests in mfa.test.ts.
    core = await startCore(await onTestDatabase({ ...cfg, auth: { ...cfg.auth, freeFailures: 3, mfaRequiredRoles: [] } }), {
      log: createLogger('silent'),
      before: [routeCollector],
    });
  });
  afterAll(async () => {
    await core?.close();
  });

  it('first run: reports set-up needed, creates the admin once, then refuses a second set-up', async () => {
    const status = AuthStatus.parse(await (await fetch(url('/api/v1/auth/status'))).json());
    expect(status).toEqual({ setupRequired: true, user: null, mfaEnrolmentRequired: false, policyNote: null });
    const weak = await fetch(url('/api/v1/auth/setup'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ada', password: 'short' }),
    });
    expect(weak.status).toBe(400);
    expect(ApiErrorBody.parse(await weak.json()).error).toMatchObject({ field: 'password' });
    const res = await fetch(url('/api/v1/auth/setup'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{40,};`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    admin = signedIn(core.url, Session.parse(await res.json()));
    expect(admin.session.user.role).toBe('admin');
    const again = await fetch(url('/api/v1/auth/setup'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'eve', password: 'another-long-password' }),
    });
    expect(again.status).toBe(409);
    // The token is stored hashed: the database never holds it.
    const stored = await rows(core.sql, sql<{ token_hash: string }>`SELECT token_hash FROM sessions`);
    expect(stored.map((s) => s.token_hash)).not.toContain(admin.token);
    expect(stored[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('every registered API route has roles in the contract (deny by default), and only a few are public', () => {
    const table = new Map(Object.values(routes).map((r) => [`${r.method} ${r.path}`, r.roles as RouteAccess]));
    const api = registered.filter((r) => r.url.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(20);
    const missing = api.filter((r) => !table.has(`${r.method} ${r.url}`)).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    const pub = [...table]
      .filter(([, a]) => a === PUBLIC)
      .map(([k]) => k)
      .sort();
    // The rider text webhook is authenticated by its Twilio signature; published statistics are
    // public by design; the SSO routes are how a signed-out browser reaches the provider and back.
    expect(pub).toEqual([
      'GET /api/v1/auth/sso',
      'GET /api/v1/auth/sso/callback',
      'GET /api/v1/auth/sso/start',
      'GET /api/v1/auth/status',
      'GET /api/v1/health',
      'GET /public/statistics/',
      'GET /public/statistics/:file',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/setup',
      'POST /api/v1/sms/inbound',
    ]);
  });

  it('rejects every non-public route without a session (401), and with a forged token', async () => {
    for (const r of Object.values(routes)) {
      if (r.roles === PUBLIC) continue;
      const path = r.path.replace(/:[a-z]+/g, 'x');
      for (const headers of [{}, { authorization: 'Bearer forged-token' }, { cookie: `${SESSION_COOKIE}=forged` }] as Record<
        string,
        string
      >[]) {
        const res = await fetch(url(path), {
          method: r.method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: r.method === 'GET' ? null : '{}',
        });
        expect(res.status, `${r.method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(ApiErrorBody.parse(await res.json()).error.code).toBe('unauthorized');
      }
    }
  });

  it('rejects a socket without a session, and accepts one with a token', async () => {
    for (const auth of [{}, { token: 'forged' }, { token: 42 }]) {
      const s = ioClient(core.url, { path: SOCKET_PATH, transports: ['websocket'], auth, reconnection: false });
      const err = await new Promise<Error>((res) => s.once('connect_error', res));
      expect(err.message).toMatch(/unauthorized/);
      s.close();
    }
    const ok = admin.socket();
    await connected(ok);
    ok.close();
  });

  it('an operator cannot create users or cameras; the admin can; a liaison cannot send test alerts', async () => {
    const op = await createAndLogin(core.url, admin, { username: 'olly', password: 'operator-password-1', role: 'operator' });
    const create = await op.api('/api/v1/users', {
      method: 'POST',
      body: JSON.stringify({ username: 'mallory', password: 'mallory-password-1', role: 'admin' }),
    });
    expect(create.status).toBe(403);
    expect(ApiErrorBody.parse(await create.json()).error.message).toContain('role "operator" may not POST /api/v1/users');
    expect((await op.api('/api/v1/users')).status).toBe(403);
    const cam = await op.api('/api/v1/cameras', { method: 'POST', body: JSON.stringify({ name: 'x', url: 'rtsp://127.0.0.1/x' }) });
    expect(cam.status).toBe(403);
    expect((await op.api('/api/v1/vehicles')).status).toBe(200);
    const li = await createAndLogin(core.url, admin, {
      username: 'lia',
      password: 'liaison-password-1',
      role: 'liaison',
      scope: { districts: ['1'] },
    });
    expect((await li.api('/api/v1/test-alert', { method: 'POST', body: '{}' })).status).toBe(403);
    const users = await admin.api('/api/v1/users');
    expect((await users.json()) as { users: User[] }).toMatchObject({
      users: expect.arrayContaining([expect.objectContaining({ username: 'olly', role: 'operator' })]),
    });
  });

  it('cookie sessions need the CSRF header on writes; bearer tokens do not', async () => {
    const cookie = `${SESSION_COOKIE}=${admin.token}`;
    const body = JSON.stringify({ username: 'cora', password: 'cookie-user-password', role: 'reviewer' });
    const noHeader = await fetch(url('/api/v1/users'), { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body });
    expect(noHeader.status).toBe(403);
    expect(ApiErrorBody.parse(await noHeader.json()).error.message).toContain('x-sentinel-csrf');
    const withHeader = await fetch(url('/api/v1/users'), {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-sentinel-csrf': '1' },
      body,
    });
    expect(withHeader.status).toBe(201);
    expect((await fetch(url('/api/v1/auth/me'), { headers: { cookie } })).status).toBe(200);
  });

  it('throttles repeated bad sign-ins with a growing wait, even for the right password, and audits them', async () => {
    const attempt = (password: string) =>
      fetch(url('/api/v1/auth/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'olly', password }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt(`wrong-${i}`)).status);
    // 3 free failures, then every attempt is refused before the password is checked.
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const right = await attempt('operator-password-1');
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(ApiErrorBody.parse(await right.json()).error.message).toMatch(/too many failed sign-ins; try again in \d+ s/);
    const failed = await num(
      core.sql,
      sql<{ n: number }>`SELECT count(*) AS n FROM audit WHERE action = 'auth.login_failed' AND actor = 'olly'`,
    );
    expect(failed).toBe(4);
  });

  it('unknown users and wrong passwords get the same answer', async () => {
    const a = await fetch(url('/api/v1/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'x' }),
    });
    const b = await fetch(url('/api/v1/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'cora', password: 'x' }),
    });
    expect(a.status).toBe(401);
    expect(await a.json()).toEqual(await b.json());
  });

  it('logout ends the session and disconnects its sockets', async () => {
    const u = await login(core.url, 'cora', 'cookie-user-password');
    const s = u.socket();
    await connected(s);
    const expired = new Promise<void>((res) => s.once('auth:expired', () => res()));
    expect((await u.api('/api/v1/auth/logout', { method: 'POST' })).status).toBe(200);
    await expired;
    expect((await u.api('/api/v1/auth/me')).status).toBe(401);
    s.close();
  });

  it('a TOTP second factor, once enabled, is required at sign-in', async () => {
    const u = await login(core.url, 'lia', 'liaison-password-1');
    const setup = (await (await u.api('/api/v1/auth/totp/setup', { method: 'POST' })).json()) as {
      secret: string;
      otpauthUrl: string;
      qrDataUrl: string;
    };
    expect(setup.otpauthUrl).toContain(`secret=${setup.secret}`);
    const bad = await u.api('/api/v1/auth/totp/enable', { method: 'POST', body: JSON.stringify({ code: '000000' }) });
    expect(bad.status).toBe(400);
    const code = totp(base32Decode(setup.secret), Date.now());
    expect((await u.api('/api/v1/auth/totp/enable', { method: 'POST', body: JSON.stringify({ code }) })).status).toBe(200);
    const post = (body: object) =>
      fetch(url('/api/v1/auth/login'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const without = await post({ username: 'lia', password: 'liaison-password-1' });
    expect(without.status).toBe(401);
    expect(ApiErrorBody.parse(await without.json()).error.field).toBe('totp');
    const withCode = await post({ username: 'lia', password: 'liaison-password-1', totp: totp(base32Decode(setup.secret), Date.now()) });
    expect(withCode.status).toBe(200);
    expect(setup.qrDataUrl).toMatch(/^data:image\/svg\+xml;base64,/);
    // Once on, a session alone cannot replace (and so switch off) the factor.
    for (const body of [
      {},
      { password: 'liaison-password-1' },
      { password: 'wrong-password-here', code: totp(base32Decode(setup.secret), Date.now()) },
    ]) {
      const r = await u.api('/api/v1/auth/totp/setup', { method: 'POST', body: JSON.stringify(body) });
      expect(r.status, JSON.stringify(body)).toBe(401);
    }
    expect((await post({ username: 'lia', password: 'liaison-password-1' })).status).toBe(401);
    const change = await u.api('/api/v1/auth/totp/setup', {
      method: 'POST',
      body: JSON.stringify({ password: 'liaison-password-1', code: totp(base32Decode(setup.secret), Date.now()) }),
    });
    expect(change.status).toBe(200);
  });

  it('malformed socket payloads are answered with an error and the socket keeps working', async () => {
    const s = admin.socket();
    await connected(s);
    for (const bad of [null, 'x', 42, { alertId: 5 }, { alertId: 'a'.repeat(500) }, { alertId: 'x', extra: 1 }]) {
      const reply = (await s.timeout(5000).emitWithAck('alert:ack', bad as never)) as { ok: boolean; error?: string };
      expect(reply.ok).toBe(false);
    }
    // Without an ack callback: ignored, no crash.
    (s.emit as (e: string, ...a: unknown[]) => void)('alert:ack', { nonsense: true });
    (s.emit as (e: string, ...a: unknown[]) => void)('client:ping', 'garbage');
    const pong = (await s.timeout(5000).emitWithAck('client:ping', { sentAt: 7 })) as { sentAt: number };
    expect(pong.sentAt).toBe(7);
    s.close();
    expect((await fetch(url('/api/v1/health'))).status).toBe(200);
  });

  it('a disabled user loses its session at once', async () => {
    const u = await login(core.url, 'olly', 'operator-password-1').catch(() => null);
    // olly may still be throttled from the earlier test; use a fresh user.
    const v = u ?? (await createAndLogin(core.url, admin, { username: 'vic', password: 'victor-password-1', role: 'operator' }));
    const id = v.session.user.id;
    expect((await admin.api(`/api/v1/users/${id}`, { method: 'PATCH', body: JSON.stringify({ disabled: true }) })).status).toBe(200);
    expect((await v.api('/api/v1/auth/me')).status).toBe(401);
  });
});
