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
  MfaConfirm,
  NoBody,
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
  type RouteName,
  type Session,
  type User,
} from '../../contract';
import { cameraRoomFor } from '../access';
import { SentinelError } from '../errors';
import type { Feature, SentinelIo } from '../feature';
import { parseInput } from '../http/errors';
import { registerSso } from './sso';
import { LoginThrottle, UserStore, type ResolvedSession, type SessionMethod } from './store';
import { newTotpSecret, otpauthUri } from './totp';

export interface AuthContext extends ResolvedSession {
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
 * What a session may reach while its user must still enrol a second factor (the MFA
 * policy): who am I, the enrolment itself, and signing out. Everything else is refused.
 */
const ENROLMENT_ROUTES: ReadonlySet<string> = new Set(
  (['authStatus', 'me', 'logout', 'totpSetup', 'totpEnable', 'mfaStatus'] as const satisfies readonly RouteName[]).map(
    (n) => `${routes[n].method} ${routes[n].path}`,
  ),
);

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
    const { http, io, log, config } = ctx;
    await http.register(fastifyCookie);
    const users = new UserStore(ctx.sql, {
      ttlMs: config.auth.sessionHours * 3_600_000,
      idleMs: config.auth.idleMinutes * 60_000,
      mfaRequiredRoles: config.auth.mfaRequiredRoles,
    });
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

    const resolveRequest = async (req: FastifyRequest): Promise<AuthContext | null> => {
      const authz = req.headers.authorization;
      // A session still to enrol resolves here (the hook below limits it to enrolment).
      if (authz?.startsWith('Bearer ')) {
        const r = await users.resolve(authz.slice(7).trim(), { allowMfaPending: true });
        return r ? { ...r, via: 'bearer' } : null;
      }
      const cookie = req.cookies[SESSION_COOKIE];
      if (cookie) {
        const r = await users.resolve(cookie, { allowMfaPending: true });
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
      const who = await resolveRequest(req);
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
      if (who.mfaPending && !(url && ENROLMENT_ROUTES.has(`${req.method === 'HEAD' ? 'GET' : req.method} ${url}`))) {
        throw new SentinelError(
          `the role "${who.user.role}" must use a second factor: set up two-step sign-in (POST ${routes.totpSetup.path}, then ${routes.totpEnable.path}) before anything else`,
          'forbidden',
          'mfa',
        );
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
    const startSession = async (
      req: FastifyRequest,
      reply: FastifyReply,
      user: User,
      method: SessionMethod = 'password',
    ): Promise<Session> => {
      const s = await users.createSession(user.id, req.ip, { userAgent: req.headers['user-agent'], method });
      setSessionCookie(reply, s.token, config.auth.sessionHours * 3600);
      reply.header('cache-control', 'no-store');
      return {
        user,
        token: s.token,
        expiresAt: s.expiresAt.toISOString(),
        mfaEnrolmentRequired: users.mfaPending(user, method),
        // The SSO callback answers with a redirect, not this body: its notices wait for the
        // next password sign-in instead of being marked shown unseen.
        notices: method === 'password' ? await users.takeNotices(user.id) : [],
      };
    };
    const policyNote = config.mfaRelaxedForDemo
      ? 'Demo mode: no role has to use two-step sign-in here (auth.mfaRequiredRoles is empty unless the config file sets it).'
      : null;
    if (policyNote) log.warn({ mfaRequiredRoles: [] }, policyNote);
    const signInKey = (username: string): string => `user:${username.toLowerCase()}`;
    /**
     * "Password plus a code" for changes to the second factor. Failures count against the
     * same per-user backoff as sign-in (a stolen session cannot guess the password quickly)
     * and are audited.
     */
    const confirmPasswordAndCode = async (req: FastifyRequest, input: { password?: string | undefined; code?: string | undefined }) => {
      const user = (await users.get(req.auth!.user.id))!;
      const key = [signInKey(user.username)];
      const wait = throttle.waitMs(key);
      if (wait > 0) throw new SentinelError(`too many failed attempts; try again in ${Math.ceil(wait / 1000)} s`, 'rate_limited');
      let failed: 'password' | 'code' | null = null;
      if (!input.password || !(await users.checkPassword(user.id, input.password))) failed = 'password';
      else if (!input.code || !(await users.checkSecondFactor(user.id, input.code))) failed = 'code';
      if (failed) {
        throttle.fail(key);
        await ctx.audit.record(req, 'user.mfa_confirm_failed', `user:${user.id}`, { route: req.routeOptions.url, field: failed });
        throw failed === 'password'
          ? new SentinelError('changing the second factor needs your password', 'unauthorized', 'password')
          : new SentinelError(
              'changing the second factor needs a current code from your authenticator app (or a recovery code)',
              'unauthorized',
              'code',
            );
      }
      return user;
    };

    http.get(routes.authStatus.path, async (req) => ({
      setupRequired: (await users.count()) === 0,
      user: req.auth?.user ?? null,
      mfaEnrolmentRequired: req.auth?.mfaPending ?? false,
      policyNote,
    }));

    http.post(routes.authSetup.path, async (req, reply) => {
      const input = parseInput(SetupRequest, req.body);
      const user = await users.create({ ...input, role: 'admin' }, { onlyIfNoUsers: true });
      await trail.append({
        actorId: user.id,
        actor: user.username,
        action: 'user.create',
        target: `user:${user.id}`,
        detail: { role: 'admin', via: 'first-run set-up' },
        ip: req.ip,
      });
      return startSession(req, reply, user);
    });

    http.post(routes.login.path, async (req, reply) => {
      const input = parseInput(LoginRequest, req.body);
      const keys = [signInKey(input.username), `ip:${req.ip}`];
      const wait = throttle.waitMs(keys);
      if (wait > 0) {
        await trail.append({ actor: input.username, action: 'auth.login_throttled', target: null, detail: { waitMs: wait }, ip: req.ip });
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new SentinelError(`too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s`, 'rate_limited');
      }
      const r = await users.checkLogin(input.username, input.password, input.totp, input.recoveryCode);
      if (!r.ok) {
        if (r.reason !== 'totp_required') throttle.fail(keys);
        await trail.append({
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
        if (r.reason === 'bad_recovery_code')
          throw new SentinelError('that recovery code is wrong or was already used', 'unauthorized', 'recoveryCode');
        throw new SentinelError('wrong user name or password', 'unauthorized');
      }
      throttle.succeed([keys[0]!]);
      await trail.append({
        actorId: r.user.id,
        actor: r.user.username,
        action: 'auth.login',
        target: null,
        detail: {
          role: r.user.role,
          factor: r.factor,
          ...(r.factor === 'recovery_code' ? { recoveryCodesLeft: await users.recoveryCodesLeft(r.user.id) } : {}),
          ...(users.mfaPending(r.user, 'password') ? { mfaEnrolmentRequired: true } : {}),
        },
        ip: req.ip,
      });
      return startSession(req, reply, r.user);
    });

    // Single sign-on issues the same session as the password sign-in above.
    // Single sign-on sessions are marked `sso`: the provider applies its own second factor, so
    // the local MFA policy does not send them to enrolment.
    registerSso(http, {
      sso: config.sso,
      sql: ctx.sql,
      users,
      trail,
      log,
      startSession: (req, reply, user) => startSession(req, reply, user, 'sso'),
    });

    http.post(routes.logout.path, async (req, reply) => {
      const a = req.auth!;
      await users.endSession(a.tokenHash);
      dropSockets(io, `session:${a.tokenHash}`);
      await ctx.audit.record(req, 'auth.logout', null);
      setSessionCookie(reply, '', 0);
      return { ok: true as const };
    });

    http.get(routes.me.path, async (req) => req.auth!.user);

    // A new secret replaces the old one, so with a factor on, a session alone is not enough:
    // the password and a current code are needed (a stolen session cannot switch MFA off or
    // move it to another phone). The new secret stays pending until confirmed (totpEnable).
    http.post(routes.totpSetup.path, async (req) => {
      const input = parseInput(TotpSetupRequest, req.body ?? {});
      const current = (await users.get(req.auth!.user.id))!;
      const user = current.totpEnabled ? await confirmPasswordAndCode(req, input) : current;
      const secret = newTotpSecret();
      await users.beginTotp(user.id, secret);
      await ctx.audit.record(req, 'user.totp_setup', `user:${user.id}`, { replacing: user.totpEnabled });
      const otpauthUrl = otpauthUri(secret, user.username);
      const svg = await QRCode.toString(otpauthUrl, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
      return { secret, otpauthUrl, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    });
    http.post(routes.totpEnable.path, async (req) => {
      const { code } = parseInput(TotpEnable, req.body);
      const before = (await users.get(req.auth!.user.id))!;
      const recoveryCodes = await users.confirmTotp(before.id, code);
      if (!recoveryCodes)
        throw new SentinelError(
          'the code does not match the key being set up; check the phone clock and try the next code (or start the set-up again)',
          'validation_failed',
          'code',
        );
      await ctx.audit.record(req, 'user.totp_enable', `user:${before.id}`, {
        replaced: before.totpEnabled,
        recoveryCodes: recoveryCodes.length,
      });
      return { recoveryCodes };
    });
    http.post(routes.totpDisable.path, async (req) => {
      const input = parseInput(MfaConfirm, req.body);
      const me = (await users.get(req.auth!.user.id))!;
      if (!me.totpEnabled) throw new SentinelError('two-step sign-in is not on for this account', 'conflict');
      if (users.mfaRequired(me))
        throw new SentinelError(
          `the role "${me.role}" must use a second factor (auth.mfaRequiredRoles): replace it with a new phone instead of switching it off`,
          'conflict',
        );
      const user = await confirmPasswordAndCode(req, input);
      await users.disableTotp(user.id);
      await ctx.audit.record(req, 'user.totp_disable', `user:${user.id}`);
      return { ok: true as const };
    });
    http.get(routes.mfaStatus.path, async (req) => {
      const me = (await users.get(req.auth!.user.id))!;
      return { enabled: me.totpEnabled, required: users.mfaRequired(me), recoveryCodesLeft: await users.recoveryCodesLeft(me.id) };
    });
    http.post(routes.recoveryCodesRegenerate.path, async (req) => {
      const input = parseInput(MfaConfirm, req.body);
      if (!(await users.get(req.auth!.user.id))!.totpEnabled)
        throw new SentinelError('recovery codes come with two-step sign-in; set that up first', 'conflict');
      const user = await confirmPasswordAndCode(req, input);
      const recoveryCodes = await users.regenerateRecoveryCodes(user.id);
      await ctx.audit.record(req, 'user.recovery_codes_regenerate', `user:${user.id}`, { recoveryCodes: recoveryCodes.length });
      return { recoveryCodes };
    });

    // Sessions: each user sees and ends their own; the admin signs a user out everywhere.
    http.get(routes.mySessions.path, async (req) => ({ sessions: await users.listSessions(req.auth!.user.id, req.auth!.tokenHash) }));
    http.delete(routes.mySessionRevoke.path, async (req, reply) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const a = req.auth!;
      const hash = await users.endSessionById(a.user.id, id);
      if (!hash) throw new SentinelError(`no session of yours with id ${id}`, 'not_found', 'id');
      dropSockets(io, `session:${hash}`);
      await ctx.audit.record(req, 'auth.session_revoke', `user:${a.user.id}`, { session: id, current: hash === a.tokenHash });
      if (hash === a.tokenHash) setSessionCookie(reply, '', 0);
      return { ok: true as const };
    });
    http.post(routes.mySessionsRevokeOthers.path, async (req) => {
      parseInput(NoBody, req.body ?? {});
      const a = req.auth!;
      const ended = await users.endSessions(a.user.id, a.tokenHash);
      for (const h of ended) dropSockets(io, `session:${h}`);
      await ctx.audit.record(req, 'auth.session_revoke_others', `user:${a.user.id}`, { sessions: ended.length });
      return { revoked: ended.length };
    });
    const userOr404 = async (req: FastifyRequest): Promise<User> => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const user = await users.get(id);
      if (!user) throw new SentinelError(`no user with id ${id}`, 'not_found', 'id');
      return user;
    };
    http.get(routes.userSessions.path, async (req) => {
      const user = await userOr404(req);
      return { sessions: await users.listSessions(user.id, req.auth!.user.id === user.id ? req.auth!.tokenHash : null) };
    });
    http.post(routes.userSignOutEverywhere.path, async (req) => {
      const user = await userOr404(req);
      parseInput(NoBody, req.body ?? {});
      const ended = await users.endSessions(user.id, null);
      dropSockets(io, `user:${user.id}`);
      await ctx.audit.record(req, 'user.sign_out_everywhere', `user:${user.id}`, { username: user.username, sessions: ended.length });
      return { revoked: ended.length };
    });
    http.post(routes.userMfaReset.path, async (req) => {
      const user = await userOr404(req);
      parseInput(NoBody, req.body ?? {});
      const by = req.auth!.user;
      const notice = await users.resetMfa(
        user.id,
        `${by.displayName} (administrator) reset your two-step sign-in on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.` +
          (users.mfaRequired(user) ? ' Set it up again with your authenticator app.' : ' You can set it up again from your account.') +
          ' If you did not ask for this, tell your supervisor.',
      );
      await ctx.audit.record(req, 'user.mfa_reset', `user:${user.id}`, { username: user.username, hadFactor: user.totpEnabled });
      // Told at once where they are signed in; a user who must use a factor is then taken
      // to enrolment (their sessions now reach nothing else, so their sockets end).
      io.to(`user:${user.id}`).emit('auth:notice', notice);
      if (users.mfaRequired(user)) dropSockets(io, `user:${user.id}`);
      return (await users.get(user.id))!;
    });

    http.get(routes.users.path, async () => ({ users: await users.list() }));
    http.post(routes.userCreate.path, async (req, reply) => {
      const input = parseInput(UserCreate, req.body);
      const user = await users.create(input);
      await ctx.audit.record(req, 'user.create', `user:${user.id}`, { username: user.username, role: user.role, scope: user.scope });
      return reply.status(201).send(user);
    });
    http.patch(routes.userUpdate.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const patch = parseInput(UserUpdate, req.body);
      const before = await users.get(id);
      if (!before) throw new SentinelError(`no user with id ${id}`, 'not_found', 'id');
      const user = await users.update(id, patch);
      // Permissions changed: the user's open sockets must rejoin with the new scope.
      if (patch.role !== undefined || patch.scope !== undefined || patch.disabled || patch.password !== undefined)
        dropSockets(io, `user:${id}`);
      const { password: _pw, ...shown } = patch;
      await ctx.audit.record(req, 'user.update', `user:${id}`, {
        ...shown,
        ...(patch.password !== undefined ? { passwordChanged: true } : {}),
        before: { role: before.role, scope: before.scope, disabled: before.disabled },
      });
      return user;
    });

    // socket.io: the same session (cookie or handshake token) or no connection at all.
    /** The socket's session, or why it is refused. */
    const authenticateSocket = async (socket: Socket): Promise<AuthContext | Error> => {
      const parsed = SocketAuth.safeParse(socket.handshake.auth ?? {});
      const token = parsed.success ? parsed.data.token : undefined;
      const cookie = parseCookies(socket.handshake.headers.cookie)[SESSION_COOKIE];
      let who: AuthContext | null = null;
      if (token) {
        const r = await users.resolve(token);
        if (r) who = { ...r, via: 'bearer' };
      } else if (cookie) {
        // Cross-site WebSocket hijacking: a cookie is only honoured from our own origin.
        const origin = socket.handshake.headers.origin;
        const host = socket.handshake.headers.host;
        if (origin && host && new URL(origin).host !== host) return new Error('unauthorized: cross-origin socket');
        const r = await users.resolve(cookie);
        if (r) who = { ...r, via: 'cookie' };
      }
      if (!who) {
        log.debug({ address: socket.handshake.address }, 'socket rejected: no valid session');
        return new Error('unauthorized: sign in first');
      }
      return who;
    };
    io.use((socket, next) => {
      void authenticateSocket(socket).then(
        (who) => {
          if (who instanceof Error) return next(who);
          (socket.data as { auth?: AuthContext }).auth = who;
          void socket.join([`session:${who.tokenHash}`, `user:${who.user.id}`, cameraRoomFor(who.user)]);
          next();
        },
        (err: unknown) => {
          log.error({ err }, 'socket authentication failed');
          next(new Error('unavailable: the session could not be checked; try again'));
        },
      );
    });

    // An open socket keeps its session alive; an expired or revoked one is disconnected.
    const sweepOnce = async (): Promise<void> => {
      for (const socket of [...io.of('/').sockets.values()]) {
        const a = socketAuth(socket);
        if (!a) continue;
        await users.touch(a.tokenHash);
        if (!(await users.resolveHash(a.tokenHash))) {
          socket.emit('auth:expired');
          socket.disconnect(true);
        }
      }
    };
    const sweep = setInterval(() => void sweepOnce().catch((err: unknown) => log.error({ err }, 'socket session sweep failed')), 30_000);
    sweep.unref();
    ctx.onClose(() => clearInterval(sweep));
    return { users };
  },
};
