import { z } from 'zod';
import { PUBLIC } from './auth';

/** Whether the sign-in screen offers "Sign in with <label>" (the agency's OpenID Connect provider). */
export const SsoInfo = z.strictObject({ enabled: z.boolean(), label: z.string().nullable() });
export type SsoInfo = z.infer<typeof SsoInfo>;

/**
 * Single sign-on. All three are public: they are how a signed-out browser gets a session.
 * `ssoStart` answers 302 to the provider; `ssoCallback` answers 302 to the console with the
 * session cookie set, or an HTML page saying why the sign-in was refused.
 */
export const ssoRoutes = {
  ssoInfo: { method: 'GET', path: '/api/v1/auth/sso', response: SsoInfo, roles: PUBLIC },
  ssoStart: { method: 'GET', path: '/api/v1/auth/sso/start', response: z.unknown(), roles: PUBLIC },
  ssoCallback: { method: 'GET', path: '/api/v1/auth/sso/callback', response: z.unknown(), roles: PUBLIC },
} as const;
