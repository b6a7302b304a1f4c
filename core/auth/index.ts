import fastifyCookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Socket } from 'socket.io';
import QRCode from 'qrcode';
import { z } from 'zod';
import {
  API_BASE,
  CSRF_HEADER,
  LoginRequest,
  PUBLIC,
  roleAllows,
  routes,
  SESSION_COOKIE,
  SetupRequest,
  SocketAuth,
  TotpEnable,
  TotpSetupRequest,
  UserCreate,
  UserUpdate,
  type RouteAccess,
  type Session,
  type User,
} from '../../contract';
import { cameraRoomFor } from '../access';
import { SentinelError } from '../errors';
import type { Feature, SentinelIo } from '../feature';
import { parseInput } from '../http/errors';
import { registerSso } from './sso';
import { LoginThrottle, UserStore } from './store';
import { newTotpSecret, otpauthUri } from './totp';

export interface AuthContext {
  user: User;
  tokenHash: string;
  via: 'bearer' | 'cookie';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user (set by the auth hook; null on public routes when signed out). */
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** Access for a route that is not in the contract's table (test-only routes). */
    access?: RouteAccess;
  }
}

/** `METHOD /path/:param` -> who may call it, from the contract's route table. */
export const ROUTE_ACCESS: ReadonlyMap<string, RouteAccess> = new Map(
  Object.values(routes).map((r) => [`${r.method} ${r.path}`, r.roles as RouteAccess]),
);

export function accessFor(method: string, url: string, config?: { access?: RouteAccess }): RouteAccess | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return ROUTE_ACCESS.get(`${m} ${url}`) ?? config?.access;
}

/** Cookie header parsing by @fastify/cookie (the socket handshake has no Fastify request). */
export function parseCookies(header: string | undefined): Record<string, string> {
  if (!header) return {};
  try {
    return fastifyCookie.parse(header);
  } catch {
    // A malformed header is ignored, as if absent.
    return {};
  }
}

/** Sockets carry their user here (socket.data is untyped in the shared io type). */
export function socketAuth(socket: Socket): AuthContext | null {
  return (socket.data as { auth?: AuthContext }).auth ?? null;
}

/** Ends every socket of a session (logout) or of a user (disabled, role changed). */
export function dropSockets(io: SentinelIo, room: string): void {
  io.to(room).emit('auth:expired');
  io.in(room).disconnectSockets(true);
}

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Authentication and authorisation for every HTTP route and socket. Deny by
 * default: an API route must have an entry with roles in the contract's route table; the
 * only public ones are the liveness probe, sign-in and first-run set-up. See docs/security.md.
 */
export interface AuthNeeds {
  /** The visibility rule's preHandler (core/access/gate.ts), run after the role check on every route. */
  gate: preHandlerAsyncHookHandler;
}

export const authFeature: Feature<AuthNeeds, { users: UserStore }> = {
  name: 'auth',
  async register(ctx) {
    const { http, io, db, log, config } = ctx;
    await http.register(fastifyCookie);
    const users = new UserStore(db, { ttlMs: config.auth.sessionHours * 3_600_000, idleMs: config.auth.idleMinutes * 60_000 });
    const throttle = new LoginThrottle(config.auth.freeFailures);
    const trail = ctx.audit.trail;
    const unregistered: string[] = [];

    http.decorateRequest('auth', null);
    http.addHook('onRoute', (r) => {
      if (!r.url.startsWith(API_BASE)) return;
      for (const m of [r.method].flat()) {
        if (m === 'HEAD' || m === 'OPTIONS') continue;
        if (!accessFor(m, r.url, r.config as { access?: RouteAccess } | undefined)) unregistered.push(`${m} ${r.url}`);
      }
    });
    http.addHook('onReady', async () => {
      // Not fatal (the route is denied anyway), but loud: someone forgot `roles`.
      if (unregistered.length) log.error({ routes: unregistered }, 'routes without roles in the contract are denied to everyone');
    });

    const resolveRequest = (req: FastifyRequest): AuthContext | null => {
      const authz = req.headers.authorization;
      if (authz?.startsWith('Bearer ')) {
        const r = users.resolve(authz.slice(7).trim());
        return r ? { ...r, via: 'bearer' } : null;
      }
      const cookie = req.cookies[SESSION_COOKIE];
      if (cookie) {
        const r = users.resolve(cookie);
        return r ? { ...r, via: 'cookie' } : null;
      }
      return null;
    };

    http.addHook('onRequest', async (req: FastifyRequest) => {
      const url = req.routeOptions.url;
      const path = req.url.split('?')[0] ?? '';
      // The console's static files (and the SPA fallback) are public; the API never is.
      if (!path.startsWith(API_BASE)) return;
      const access = url ? accessFor(req.method, url, req.routeOptions.config as { access?: RouteAccess }) : undefined;
      const who = resolveRequest(req);
      req.auth = who;
      if (access === PUBLIC) return;
      if (!who) {
        throw new SentinelError(
          'sign in first: this request has no valid session (send the session cookie or Authorization: Bearer <token>)',
          'unauthorized',
        );
      }
      if (who.via === 'cookie' && UNSAFE.has(req.method)) {
        // CSRF: a cross-site form cannot set a custom header; SameSite=Strict is the second wall.
        const origin = req.headers.origin;
        const sameOrigin = origin !== undefined && origin === `${req.protocol}://${req.headers.host ?? ''}`;
        if (!req.headers[CSRF_HEADER] && !sameOrigin)
          throw new SentinelError(`cookie-authenticated ${req.method} needs the ${CSRF_HEADER} header`, 'forbidden');
      }
      if (!url) return; // unknown API path: signed-in users get the 404
      if (!roleAllows(access, who.user.role)) {
        throw new SentinelError(`role "${who.user.role}" may not ${req.method} ${url}`, 'forbidden');
      }
    });
    // Throttles with @fastify/rate-limit, after the hook above so a write is counted per user.
    // Sign-in and set-up per client address (LoginThrottle adds the per-user backoff, which a
    // fixed window cannot express); every write per user; reads are not limited.
    const SIGN_IN = new Set([`POST ${routes.login.path}`, `POST ${routes.authSetup.path}`]);
    const signInRoute = (req: FastifyRequest): boolean => SIGN_IN.has(`${req.method} ${req.routeOptions.url ?? ''}`);
    await http.register(rateLimit, {
      global: true,
      timeWindow: 60_000,
      keyGenerator: (req) => (signInRoute(req) || !req.auth ? `signin:${req.ip}` : `write:${req.auth.user.id}`),
      max: (req) => (signInRoute(req) ? config.auth.rateLimit.signInPerMinute : config.auth.rateLimit.writesPerMinute),
      allowList: (req) => !UNSAFE.has(req.method) || !(req.url.split('?')[0] ?? '').startsWith(API_BASE),
      errorResponseBuilder: (_req, ctx) =>
        new SentinelError(`too many requests; try again in ${Math.ceil(ctx.ttl / 1000)} s`, 'rate_limited'),
    });
    // After the role: may this user see the camera, clip, alert or incident the route names?
    http.addHook('preHandler', ctx.gate);

    const setSessionCookie = (reply: FastifyReply, token: string, maxAgeS: number): void => {
      reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: Math.max(0, Math.floor(maxAgeS)) });
    };
    const startSession = (reply: FastifyReply, user: User, ip: string): Session => {
      const s = users.createSession(user.id, ip);
      setSessionCookie(reply, s.token, config.auth.sessionHours * 3600);
      reply.header('cache-control', 'no-store');
      return { user, token: s.token, expiresAt: s.expiresAt.toISOString() };
    };

    http.get(routes.authStatus.path, async (req) => ({ setupRequired: users.count() === 0, user: req.auth?.user ?? null }));

    http.post(routes.authSetup.path, async (req, reply) => {
      const input = parseInput(SetupRequest, req.body);
      const user = await users.create({ ...input, role: 'admin' }, { onlyIfNoUsers: true });
      trail.append({
        actorId: user.id,
        actor: user.username,
        action: 'user.create',
        target: `user:${user.id}`,
        detail: { role: 'admin', via: 'first-run set-up' },
        ip: req.ip,
      });
      return startSession(reply, user, req.ip);
    });

    http.post(routes.login.path, async (req, reply) => {
      const input = parseInput(LoginRequest, req.body);
      const keys = [`user:${input.username.toLowerCase()}`, `ip:${req.ip}`];
      const wait = throttle.waitMs(keys);
      if (wait > 0) {
        trail.append({ actor: input.username, action: 'auth.login_throttled', target: null, detail: { waitMs: wait }, ip: req.ip });
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new SentinelError(`too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s`, 'rate_limited');
      }
      const r = await users.checkLogin(input.username, input.password, input.totp);
      if (!r.ok) {
        if (r.reason !== 'totp_required') throttle.fail(keys);
        trail.append({
          actorId: r.user?.id ?? null,
          actor: input.username,
          action: 'auth.login_failed',
          target: null,
          detail: { reason: r.reason },
          ip: req.ip,
        });
        if (r.reason === 'totp_required')
          throw new SentinelError('this account needs the six-digit code from its authenticator app', 'unauthorized', 'totp');
        if (r.reason === 'bad_totp') throw new SentinelError('the authenticator code is wrong or expired', 'unauthorized', 'totp');
        throw new SentinelError('wrong user name or password', 'unauthorized');
      }
      throttle.succeed([keys[0]!]);
      trail.append({
        actorId: r.user.id,
        actor: r.user.username,
        action: 'auth.login',
        target: null,
        detail: { role: r.user.role },
        ip: req.ip,
      });
      return startSession(reply, r.user, req.ip);
    });

    // Single sign-on issues the same session as the password sign-in above.
    registerSso(http, { sso: config.sso, db, users, trail, log, startSession });

    http.post(routes.logout.path, async (req, reply) => {
      const a = req.auth!;
      users.endSession(a.tokenHash);
      dropSockets(io, `session:${a.tokenHash}`);
      ctx.audit.record(req, 'auth.logout', null);
      setSessionCookie(reply, '', 0);
      return { ok: true as const };
    });

    http.get(routes.me.path, async (req) => req.auth!.user);

    // A new secret replaces the old one, so with a factor on, a session alone is not enough:
    // the password and a current code are needed (a stolen session cannot switch MFA off).
    http.post(routes.totpSetup.path, async (req) => {
      const input = parseInput(TotpSetupRequest, req.body ?? {});
      const user = users.get(req.auth!.user.id)!;
      if (user.totpEnabled) {
        if (!input.password || !(await users.checkPassword(user.id, input.password)))
          throw new SentinelError('changing the second factor needs your password', 'unauthorized', 'password');
        if (!input.code || !users.checkTotp(user.id, input.code))
          throw new SentinelError('changing the second factor needs a current code from your authenticator app', 'unauthorized', 'code');
      }
      const secret = newTotpSecret();
      users.setTotpSecret(user.id, secret);
      ctx.audit.record(req, 'user.totp_setup', `user:${user.id}`, { replacing: user.totpEnabled });
      const otpauthUrl = otpauthUri(secret, user.username);
      const svg = await QRCode.toString(otpauthUrl, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
      return { secret, otpauthUrl, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    });
    http.post(routes.totpEnable.path, async (req) => {
      const { code } = parseInput(TotpEnable, req.body);
      if (!users.enableTotp(req.auth!.user.id, code))
        throw new SentinelError('the code does not match; check the phone clock and try the next code', 'validation_failed', 'code');
      ctx.audit.record(req, 'user.totp_enable', `user:${req.auth!.user.id}`);
      return { ok: true as const };
    });

    http.get(routes.users.path, async () => ({ users: users.list() }));
    http.post(routes.userCreate.path, async (req, reply) => {
      const input = parseInput(UserCreate, req.body);
      const user = await users.create(input);
      ctx.audit.record(req, 'user.create', `user:${user.id}`, { username: user.username, role: user.role, scope: user.scope });
      return reply.status(201).send(user);
    });
    http.patch(routes.userUpdate.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const patch = parseInput(UserUpdate, req.body);
      const before = users.get(id);
      if (!before) throw new SentinelError(`no user with id ${id}`, 'not_found', 'id');
      const user = await users.update(id, patch);
      // Permissions changed: the user's open sockets must rejoin with the new scope.
      if (patch.role !== undefined || patch.scope !== undefined || patch.disabled || patch.password !== undefined)
        dropSockets(io, `user:${id}`);
      const { password: _pw, ...shown } = patch;
      ctx.audit.record(req, 'user.update', `user:${id}`, {
        ...shown,
        ...(patch.password !== undefined ? { passwordChanged: true } : {}),
        before: { role: before.role, scope: before.scope, disabled: before.disabled },
      });
      return user;
    });

    // socket.io: the same session (cookie or handshake token) or no connection at all.
    io.use((socket, next) => {
      const parsed = SocketAuth.safeParse(socket.handshake.auth ?? {});
      const token = parsed.success ? parsed.data.token : undefined;
      const cookie = parseCookies(socket.handshake.headers.cookie)[SESSION_COOKIE];
      let who: AuthContext | null = null;
      if (token) {
        const r = users.resolve(token);
        if (r) who = { ...r, via: 'bearer' };
      } else if (cookie) {
        // Cross-site WebSocket hijacking: a cookie is only honoured from our own origin.
        const origin = socket.handshake.headers.origin;
        const host = socket.handshake.headers.host;
        if (origin && host && new URL(origin).host !== host) return next(new Error('unauthorized: cross-origin socket'));
        const r = users.resolve(cookie);
        if (r) who = { ...r, via: 'cookie' };
      }
      if (!who) {
        log.debug({ address: socket.handshake.address }, 'socket rejected: no valid session');
        return next(new Error('unauthorized: sign in first'));
      }
      (socket.data as { auth?: AuthContext }).auth = who;
      void socket.join([`session:${who.tokenHash}`, `user:${who.user.id}`, cameraRoomFor(who.user)]);
      next();
    });

    // An open socket keeps its session alive; an expired or revoked one is disconnected.
    const sweep = setInterval(() => {
      for (const socket of io.of('/').sockets.values()) {
        const a = socketAuth(socket);
        if (!a) continue;
        users.touch(a.tokenHash);
        if (!users.resolveHash(a.tokenHash)) {
          socket.emit('auth:expired');
          socket.disconnect(true);
        }
      }
    }, 30_000);
    sweep.unref();
    ctx.onClose(() => clearInterval(sweep));
    return { users };
  },
};
