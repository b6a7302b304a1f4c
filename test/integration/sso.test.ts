import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditList, SESSION_COOKIE, SsoInfo, User } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig, SSO_CALLBACK_PATH, type Config } from '../../core/config';
import { createLogger } from '../../core/logger';
import { signIn, type SignedIn } from '../support/auth';
import { CookieJar, ssoSignInWithFetch, startTestIdp, type TestIdp } from '../support/oidc';
import { freePort } from '../support/ports';
import { onTestDatabase } from '../support/core';

// A real OpenID Connect provider (oidc-provider) on a free port, a real core in this process:
// discovery, PKCE, state, nonce, code exchange and userinfo are all the real thing.
describe('single sign-on with the agency OpenID Connect provider', () => {
  let idp: TestIdp;
  let core: CoreHandle;
  let admin: SignedIn;
  let dataDir: string;

  beforeAll(async () => {
    const port = await freePort();
    const redirectUrl = `http://127.0.0.1:${port}${SSO_CALLBACK_PATH}`;
    idp = await startTestIdp({
      redirectUris: [redirectUrl],
      accounts: [
        { sub: 'cta-0001', preferred_username: 'ann.operator', name: 'Ann Operator', groups: ['sentinel-operators'] },
        { sub: 'cpd-0042', preferred_username: 'lee.liaison', name: 'Lee Liaison', groups: ['cpd-liaisons'], cpd_district: '1' },
        { sub: 'cta-0099', preferred_username: 'nobody.special', name: 'No Role', groups: ['cta-everyone'] },
        { sub: 'cta-0100', preferred_username: 'test-admin', name: 'Name Clash', groups: ['sentinel-operators'] },
      ],
    });
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-sso-'));
    const cfg = await onTestDatabase(loadConfig({ port, dataDir, assetsDir: '/nonexistent-assets' }, {}));
    const config: Config = {
      ...cfg,
      sso: {
        label: 'CTA',
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        redirectUrl,
        scopes: ['openid', 'profile', 'email', 'groups', 'cta'],
        usernameClaim: 'preferred_username',
        displayNameClaim: 'name',
        roles: [
          { claim: 'groups', value: 'sentinel-operators', role: 'operator' },
          { claim: 'groups', value: 'cpd-liaisons', role: 'liaison' },
        ],
        scopeClaims: { districts: 'cpd_district' },
      },
    };
    core = await startCore(config, { log: createLogger('silent') });
    admin = await signIn(core);
  });
  afterAll(async () => {
    await core?.close();
    await idp?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    idp.tamperIdToken = null;
  });

  const auditOf = async (action: string) => {
    const res = await admin.api(`/api/v1/audit?action=${action}&limit=50`);
    return AuditList.parse(await res.json()).records;
  };

  it('the sign-in screen learns that SSO is on and for which agency', async () => {
    const res = await fetch(new URL('/api/v1/auth/sso', core.url));
    expect(SsoInfo.parse(await res.json())).toEqual({ enabled: true, label: 'CTA' });
  });

  it('a good login: code + PKCE, a normal Sentinel session, the role from the groups claim, audited', async () => {
    const r = await ssoSignInWithFetch(core.url, 'ann.operator');
    expect(r.status, r.body).toBe(302);
    expect(r.location).toBe('/');
    const token = r.jar.get(core.url, SESSION_COOKIE);
    expect(token).toBeTruthy();
    // The session is the same kind a password sign-in gets: the cookie works, and as a bearer.
    const me = await fetch(new URL('/api/v1/auth/me', core.url), { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    expect(User.parse(await me.json())).toMatchObject({ username: 'ann.operator', displayName: 'Ann Operator', role: 'operator' });
    // A cookie session still needs the CSRF header for writes.
    const logout = await fetch(new URL('/api/v1/auth/logout', core.url), {
      method: 'POST',
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
    expect(logout.status).toBe(403);
    const logins = await auditOf('auth.login');
    expect(logins.find((l) => l.actor === 'ann.operator')?.detail).toMatchObject({ via: 'sso', role: 'operator', issuer: idp.issuer });
    const created = await auditOf('user.create');
    expect(created.find((c) => c.actor === 'ann.operator')?.detail).toMatchObject({ via: 'sso', role: 'operator' });

    // Signing in again reuses the linked account (by subject), no second user.
    const again = await ssoSignInWithFetch(core.url, 'ann.operator');
    expect(again.status).toBe(302);
    const users = (await (await admin.api('/api/v1/users')).json()) as { users: User[] };
    expect(users.users.filter((u) => u.username === 'ann.operator')).toHaveLength(1);
  });

  it('a liaison gets the scope from the provider claim', async () => {
    const r = await ssoSignInWithFetch(core.url, 'lee.liaison');
    expect(r.status, r.body).toBe(302);
    const me = await fetch(new URL('/api/v1/auth/me', core.url), {
      headers: { cookie: `${SESSION_COOKIE}=${r.jar.get(core.url, SESSION_COOKIE)}` },
    });
    expect(User.parse(await me.json())).toMatchObject({ role: 'liaison', scope: { districts: ['1'], lines: [], routes: [] } });
  });

  it('a user with no mapped role is refused with a page saying so; no account, no session', async () => {
    const r = await ssoSignInWithFetch(core.url, 'nobody.special');
    expect(r.status).toBe(403);
    expect(r.body).toContain('Sign-in refused');
    expect(r.body).toContain('Your CTA account has no Sentinel role: none of its groups values is mapped to one.');
    expect(r.jar.get(core.url, SESSION_COOKIE)).toBeUndefined();
    const users = (await (await admin.api('/api/v1/users')).json()) as { users: User[] };
    expect(users.users.map((u) => u.username)).not.toContain('nobody.special');
    const failed = await auditOf('auth.login_failed');
    expect(failed.some((f) => (f.detail as { reason?: string }).reason === 'no_mapped_role')).toBe(true);
  });

  it('a wrong audience is refused, though the provider signed the token', async () => {
    idp.tamperIdToken = (c) => ({ ...c, aud: 'some-other-application' });
    const r = await ssoSignInWithFetch(core.url, 'ann.operator');
    expect(r.status).toBe(401);
    expect(r.body).toContain('CTA&#39;s answer could not be accepted: unexpected JWT &quot;aud&quot; (audience) claim value');
    expect(r.jar.get(core.url, SESSION_COOKIE)).toBeUndefined();
    const failed = await auditOf('auth.login_failed');
    expect(failed[0]?.detail).toEqual({ via: 'sso', reason: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED:aud' });
  });

  it('an expired ID token is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    idp.tamperIdToken = (c) => ({ ...c, iat: now - 7200, exp: now - 3600 });
    const r = await ssoSignInWithFetch(core.url, 'ann.operator');
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/could not be accepted: unexpected JWT &quot;exp&quot; \(expiration time\) claim value/);
    expect(r.jar.get(core.url, SESSION_COOKIE)).toBeUndefined();
  });

  it('a token with another nonce (a replayed answer) is refused', async () => {
    idp.tamperIdToken = (c) => ({ ...c, nonce: 'not-the-one-sentinel-sent' });
    const r = await ssoSignInWithFetch(core.url, 'ann.operator');
    expect(r.status).toBe(401);
    expect(r.body).toContain('could not be accepted: unexpected ID Token &quot;nonce&quot; claim value');
  });

  it('a callback without the browser that started the sign-in (login CSRF) is refused', async () => {
    // Start in one browser, finish in another: the second has no pending-sign-in cookie.
    const started = await fetch(new URL('/api/v1/auth/sso/start', core.url), { redirect: 'manual' });
    const state = new URL(started.headers.get('location')!).searchParams.get('state');
    const res = await fetch(new URL(`${SSO_CALLBACK_PATH}?code=stolen&state=${state}`, core.url), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('This sign-in was not started in this browser');
  });

  it('a provider identity never takes over a local account of the same name', async () => {
    const r = await ssoSignInWithFetch(core.url, 'test-admin');
    expect(r.status).toBe(409);
    expect(r.body).toContain('A Sentinel account named &quot;test-admin&quot; already exists and is not linked');
  });

  it('local accounts keep working beside SSO (break-glass)', async () => {
    const me = await admin.api('/api/v1/auth/me');
    expect(User.parse(await me.json()).role).toBe('admin');
  });

  it('the start redirect carries PKCE S256, state and nonce', async () => {
    const jar = new CookieJar();
    const res = await fetch(new URL('/api/v1/auth/sso/start', core.url), { redirect: 'manual' });
    jar.store(core.url, res);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(idp.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(to.searchParams.get('state')).toBeTruthy();
    expect(to.searchParams.get('nonce')).toBeTruthy();
    expect(jar.get(core.url, 'sentinel_sso')).toBeTruthy();
  });
});
