import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { routes, type Session, type SsoInfo, type User } from '../../../contract';
import type { AuditTrail } from '../../audit/trail';
import type { SsoConfig } from '../../config';
import type { SqlDb } from '../../db/sql';
import { SentinelError } from '../../errors';
import type { Logger } from '../../logger';
import type { UserStore } from '../store';
import { SsoIdentities } from './identities';
import { mapClaims, usernameFrom, type Claims } from './mapping';

/** Binds the browser that started a sign-in to the callback (login CSRF): only it holds this cookie. */
export const SSO_COOKIE = 'sentinel_sso';
/** A sign-in not finished within this long must start again. */
const PENDING_MS = 10 * 60_000;
/** The start route is public: a flood only pushes out older pending sign-ins, memory stays bounded. */
const MAX_PENDING = 2000;

interface Pending {
  state: string;
  nonce: string;
  codeVerifier: string;
  at: number;
}

export interface SsoDeps {
  sso: SsoConfig | undefined;
  sql: SqlDb;
  users: UserStore;
  trail: Pick<AuditTrail, 'append'>;
  log: Logger;
  /** The same session a password sign-in gets (cookie, CSRF rules, expiry). */
  startSession(req: FastifyRequest, reply: FastifyReply, user: User): Promise<Session>;
}

/** Loopback only: a provider on this machine (a test, a local IdP) may use plain HTTP; any other must be https. */
function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A refusal is a page of its own (the browser arrived by redirect, not through the console's client). */
function refusalPage(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Sentinel</title></head>
<body><main><h1>${escapeHtml(title)}</h1><p data-testid="sso-refused">${escapeHtml(message)}</p>
<p><a href="/">Back to the Sentinel sign-in</a></p></main></body></html>`;
  return reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

/** Why a sign-in failed, for the refusal page and the audit record (the library's words, never a token). */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Single sign-on with the agency's OpenID Connect provider, through openid-client:
 * authorization code with PKCE (S256), state and nonce. The provider authenticates; Sentinel
 * maps the claims to a role and scope on every sign-in (the provider stays the authority: a
 * person moved out of a group loses the role at the next sign-in) and issues its own normal
 * session. Local accounts keep working beside it (first run, break-glass).
 */
export function registerSso(http: FastifyInstance, deps: SsoDeps): void {
  const { sso, users, trail, log } = deps;
  const identities = new SsoIdentities(deps.sql);
  const pending = new Map<string, Pending>();
  let discovered: Promise<oidc.Configuration> | null = null;

  http.get(routes.ssoInfo.path, async (): Promise<SsoInfo> => ({ enabled: sso !== undefined, label: sso?.label ?? null }));

  const configuration = (s: SsoConfig): Promise<oidc.Configuration> => {
    // Discovered on first use, not at start-up: a provider that is down must not stop the core
    // (local accounts still work); a failed discovery is tried again on the next sign-in.
    discovered ??= (async () => {
      const issuer = new URL(s.issuer);
      const insecure = issuer.protocol === 'http:';
      if (insecure && !isLoopback(issuer))
        throw new SentinelError(`sso.issuer ${s.issuer} must use https (plain http only for a provider on this machine)`);
      return oidc.discovery(
        issuer,
        s.clientId,
        { redirect_uris: [s.redirectUrl], response_types: ['code'] },
        s.clientSecret ? oidc.ClientSecretBasic(s.clientSecret) : oidc.None(),
        insecure ? { execute: [oidc.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      );
    })();
    discovered.catch(() => (discovered = null));
    return discovered;
  };

  const cookieOpts = { httpOnly: true, path: '/api/v1/auth/sso', secure: false, maxAge: PENDING_MS / 1000 } as const;

  http.get(routes.ssoStart.path, async (req, reply) => {
    if (!sso) throw new SentinelError('single sign-on is not configured on this Sentinel (config "sso")', 'not_found');
    let config: oidc.Configuration;
    try {
      config = await configuration(sso);
    } catch (err) {
      log.warn({ issuer: sso.issuer, err: (err as Error).message }, 'SSO discovery failed');
      return refusalPage(
        reply,
        502,
        'Single sign-on is unavailable',
        `Sentinel cannot reach ${sso.label}'s sign-in service (${sso.issuer}). Try again in a moment, or sign in with a local account.`,
      );
    }
    const p: Pending = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      at: Date.now(),
    };
    const id = randomBytes(24).toString('base64url');
    for (const [k, v] of pending) if (Date.now() - v.at > PENDING_MS || pending.size >= MAX_PENDING) pending.delete(k);
    pending.set(id, p);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: sso.redirectUrl,
      scope: sso.scopes.includes('openid') ? sso.scopes.join(' ') : ['openid', ...sso.scopes].join(' '),
      state: p.state,
      nonce: p.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(p.codeVerifier),
      code_challenge_method: 'S256',
    });
    // Lax, not Strict: the callback arrives as a top-level navigation from the provider's site.
    reply.setCookie(SSO_COOKIE, id, { ...cookieOpts, sameSite: 'lax', secure: new URL(sso.redirectUrl).protocol === 'https:' });
    return reply.header('cache-control', 'no-store').redirect(url.href, 302);
  });

  http.get(routes.ssoCallback.path, async (req, reply) => {
    if (!sso) throw new SentinelError('single sign-on is not configured on this Sentinel (config "sso")', 'not_found');
    const id = req.cookies[SSO_COOKIE];
    const p = id ? pending.get(id) : undefined;
    if (id) pending.delete(id); // one use, whatever happens next
    reply.clearCookie(SSO_COOKIE, { path: cookieOpts.path });
    try {
      if (!p || Date.now() - p.at > PENDING_MS)
        throw new Refusal(
          400,
          'no_pending_sign_in',
          'This sign-in was not started in this browser or took longer than 10 minutes. Start again from the Sentinel sign-in.',
        );
      const config = await configuration(sso).catch((err: Error) => {
        throw new Refusal(
          502,
          'provider_unreachable',
          `Sentinel cannot reach ${sso.label}'s sign-in service: ${err.message}. Try again in a moment.`,
        );
      });
      // The URL the provider redirected to, on the configured origin (a proxy may change ours).
      const current = new URL(sso.redirectUrl);
      current.search = new URL(req.url, 'http://x').search;
      let claims: Claims;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: p.codeVerifier,
          expectedState: p.state,
          expectedNonce: p.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims()!;
        // Providers differ on what goes into the ID token and what only userinfo returns (groups,
        // often); userinfo is asked for the same subject, and the ID token's claims win.
        const info = config.serverMetadata().userinfo_endpoint ? await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub) : {};
        claims = { ...info, ...idClaims };
      } catch (err) {
        // openid-client wraps the failed check (oauth4webapi's error: the specific message, and
        // the claim in cause.claim: aud, exp, nonce, iss...); page and audit name it.
        const e = err as Error & { error?: string; code?: string; cause?: unknown };
        const inner = e.cause instanceof Error ? (e.cause as Error & { cause?: { claim?: unknown } }) : null;
        const claim = typeof inner?.cause?.claim === 'string' ? inner.cause.claim : null;
        throw new Refusal(
          401,
          [e.error ?? e.code ?? 'provider_answer_rejected', claim].filter(Boolean).join(':'),
          `${sso.label}'s answer could not be accepted: ${inner?.message ?? e.message}. Nothing was signed in; start again, and tell an administrator if it keeps happening.`,
        );
      }
      const issuer = config.serverMetadata().issuer;
      const subject = String(claims.sub);
      let mapped: ReturnType<typeof mapClaims>;
      try {
        mapped = mapClaims(sso, claims);
      } catch (err) {
        throw new Refusal(
          403,
          'bad_scope_claim',
          `Your ${sso.label} account's liaison scope cannot be used by Sentinel: ${(err as Error).message}.`,
        );
      }
      if (!mapped.ok)
        throw new Refusal(
          403,
          'no_mapped_role',
          `Your ${sso.label} account has no Sentinel role: none of its ${mapped.looked.join(', ')} values is mapped to one. Ask a Sentinel administrator to add you to a Sentinel group.`,
        );
      const displayName =
        typeof claims[sso.displayNameClaim] === 'string' ? (claims[sso.displayNameClaim] as string).slice(0, 120) : undefined;
      let user: User;
      const linked = await identities.userFor(issuer, subject);
      if (linked) {
        const cur = await users.get(linked);
        if (!cur) throw new Refusal(403, 'user_missing', 'Your Sentinel account no longer exists. Ask a Sentinel administrator.');
        if (cur.disabled) throw new Refusal(403, 'disabled', 'Your Sentinel account is disabled. Ask a Sentinel administrator.');
        const changed = cur.role !== mapped.role || JSON.stringify(cur.scope) !== JSON.stringify(mapped.scope);
        user =
          changed || (displayName && displayName !== cur.displayName)
            ? await users.update(cur.id, { role: mapped.role, scope: mapped.scope, ...(displayName ? { displayName } : {}) })
            : cur;
        if (changed)
          await trail.append({
            actor: `sso:${sso.label}`,
            action: 'user.update',
            target: `user:${user.id}`,
            detail: { via: 'sso', role: user.role, scope: user.scope, before: { role: cur.role, scope: cur.scope } },
            ip: req.ip,
          });
        await identities.touch(issuer, subject);
      } else {
        const username = usernameFrom(claims[sso.usernameClaim]) ?? usernameFrom(claims.email) ?? usernameFrom(`sso-${subject}`);
        if (!username) throw new Refusal(403, 'no_username', `Your ${sso.label} account gives no usable user name.`);
        // Never take over a local account by its name: that would let whoever controls a
        // provider user name become the local administrator "chief".
        if (await users.byUsername(username))
          throw new Refusal(
            409,
            'username_taken',
            `A Sentinel account named "${username}" already exists and is not linked to your ${sso.label} sign-in. Ask a Sentinel administrator to rename or remove it.`,
          );
        // A random password no one is told: the account signs in through the provider only.
        // The identity is linked in the transaction that creates the user: never a user
        // without its link (whose next sign-in would find its own name taken).
        user = await users.create(
          {
            username,
            password: `${randomUUID()}${randomBytes(16).toString('base64url')}`,
            role: mapped.role,
            scope: mapped.scope,
            ...(displayName ? { displayName } : {}),
          },
          { link: (ex, userId) => identities.link(issuer, subject, userId, ex) },
        );
        await trail.append({
          actorId: user.id,
          actor: user.username,
          action: 'user.create',
          target: `user:${user.id}`,
          detail: { via: 'sso', issuer, role: user.role, scope: user.scope },
          ip: req.ip,
        });
      }
      await deps.startSession(req, reply, user);
      await trail.append({
        actorId: user.id,
        actor: user.username,
        action: 'auth.login',
        target: null,
        detail: { role: user.role, via: 'sso', issuer },
        ip: req.ip,
      });
      return reply.redirect('/', 302);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      await trail.append({
        actor: `sso:${sso.label}`,
        action: 'auth.login_failed',
        target: null,
        detail: { via: 'sso', reason: err.reason },
        ip: req.ip,
      });
      log.info({ reason: err.reason }, 'SSO sign-in refused');
      return refusalPage(reply, err.status, 'Sign-in refused', err.message);
    }
  });
}
