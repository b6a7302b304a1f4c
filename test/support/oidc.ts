import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextish } from 'oidc-provider';

/**
 * A real OpenID Connect provider (the `oidc-provider` package) for the SSO tests, on a free
 * loopback port: discovery, authorization with PKCE, token and userinfo endpoints, its own
 * RS256 signing key. People sign in on a tiny form of our own (`/interaction/:uid`: a user
 * name, no password: the provider's authentication is not what Sentinel tests), which both
 * fetch-driven tests and Chromium can fill in. Consent is granted without asking.
 *
 * `tamperIdToken` is the one fault injection: it rewrites the ID token's claims on the way out
 * of the token endpoint and signs it again with the provider's own key (so the signature still
 * verifies). A real provider never issues a token for another audience or already expired;
 * this is how the tests show Sentinel refuses one anyway.
 */
export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Rewrite the next ID tokens' claims (null: leave them alone). */
  tamperIdToken: ((claims: Record<string, unknown>) => Record<string, unknown>) | null;
  close(): Promise<void>;
}

export interface IdpAccount {
  sub: string;
  preferred_username?: string;
  name?: string;
  email?: string;
  groups?: string[];
  [claim: string]: unknown;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function resign(jwt: string, key: KeyObject, kid: string, change: (c: Record<string, unknown>) => Record<string, unknown>): string {
  const [, payload] = jwt.split('.');
  const claims = change(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>);
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(claims));
  return `${head}.${body}.${b64url(sign('sha256', Buffer.from(`${head}.${body}`), key))}`;
}

const page = (title: string, body: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((res, rej) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => res(new URLSearchParams(text)));
    req.on('error', rej);
  });
}

export async function startTestIdp(opts: {
  accounts: IdpAccount[];
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
}): Promise<TestIdp> {
  const clientId = opts.clientId ?? 'sentinel-console';
  const clientSecret = opts.clientSecret ?? 'test-client-secret-0123456789abcdef';
  const accounts = new Map(opts.accounts.map((a) => [a.preferred_username ?? a.sub, a]));
  const bySub = new Map(opts.accounts.map((a) => [a.sub, a]));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-idp-key-1';
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  const signingKey = createPrivateKey({ key: jwk, format: 'jwk' });

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, s) => s.writeHead(503).end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups'], cta: ['cpd_district'] },
    scopes: ['openid', 'profile', 'email', 'groups', 'cta'],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['test-idp-cookie-key-not-secret'] },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // Consent is the agency's business; the tests grant what Sentinel asks for.
    loadExistingGrant: async (ctx: KoaContextish) => {
      const accountId = ctx.oidc.session?.accountId;
      if (!ctx.oidc.client || !accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId });
      grant.addOIDCScope('openid profile email groups cta');
      await grant.save();
      return grant;
    },
    findAccount: async (_ctx: unknown, sub: string) => {
      const a = bySub.get(sub);
      return a ? { accountId: sub, claims: async () => ({ ...a }) } : undefined;
    },
  });
  provider.on('server_error', (_ctx: unknown, err: unknown) => console.error('test IdP server_error', err));

  const idp: TestIdp = {
    issuer,
    clientId,
    clientSecret,
    tamperIdToken: null,
    close: () => new Promise((r) => server.close(() => r())),
  };
  provider.use(async (ctx, next) => {
    await next();
    const change = idp.tamperIdToken;
    if (change && ctx.path === '/token' && ctx.method === 'POST' && ctx.status === 200) {
      const body = ctx.body as { id_token?: string };
      if (body.id_token) ctx.body = { ...body, id_token: resign(body.id_token, signingKey, kid, change) };
    }
  });

  const providerCallback = provider.callback();
  handler = (req, res) => {
    // Browsers ask every site for an icon; a 404 would show as a console error in the e2e test.
    if (req.url === '/favicon.ico') return void res.writeHead(204).end();
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec((req.url ?? '').split('?')[0] ?? '');
    if (!m) return providerCallback(req, res);
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'POST' && m[2]) {
          const username = (await readForm(req)).get('username') ?? '';
          const account = accounts.get(username);
          if (!account) {
            res
              .writeHead(200, { 'content-type': 'text/html' })
              .end(page('Agency sign-in', `<p role="alert">No such account: ${username.replace(/[<>&"]/g, '')}</p>`));
            return;
          }
          await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
          return;
        }
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            page(
              'Agency sign-in',
              `<form method="post" action="/interaction/${details.uid}/login"><label>Agency user name <input name="username" autofocus></label><button type="submit">Continue</button></form>`,
            ),
          );
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${(err as Error).message}`);
      }
    })();
  };
  return idp;
}

/** A tiny cookie jar per origin, for driving the redirect dance with fetch (no browser). */
export class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();
  store(url: string, res: Response): void {
    const origin = new URL(url).origin;
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
    this.jars.set(origin, jar);
  }
  header(url: string): string {
    return [...(this.jars.get(new URL(url).origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get(url: string, name: string): string | undefined {
    return this.jars.get(new URL(url).origin)?.get(name);
  }
}

/**
 * Signs in through SSO the way a browser would, with fetch: Sentinel's start route, the
 * provider's authorization and our login form, back to Sentinel's callback. Returns the
 * callback's answer (a redirect to the console with the session cookie, or a refusal page).
 */
export async function ssoSignInWithFetch(
  sentinelUrl: string,
  username: string,
  jar = new CookieJar(),
): Promise<{ status: number; location: string | null; body: string; jar: CookieJar }> {
  const go = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: jar.header(url) } });
    jar.store(url, res);
    return res;
  };
  let url = new URL('/api/v1/auth/sso/start', sentinelUrl).href;
  const callbackPrefix = new URL('/api/v1/auth/sso/callback', sentinelUrl).href;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(callbackPrefix)) {
      const res = await go(url);
      return { status: res.status, location: res.headers.get('location'), body: await res.text(), jar };
    }
    const res = await go(url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      continue;
    }
    const html = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) return { status: res.status, location: null, body: html, jar };
    const post = await go(new URL(action, url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username }).toString(),
    });
    if (post.status < 300 || post.status >= 400) return { status: post.status, location: null, body: await post.text(), jar };
    url = new URL(post.headers.get('location')!, url).href;
  }
  throw new Error('SSO sign-in did not finish within 20 redirects');
}
