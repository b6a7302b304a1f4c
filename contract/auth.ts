import { z } from 'zod';

/**
 * Roles. Every route in the contract's route table names the roles that may call
 * it; the core denies by default. `admin` may do everything.
 */
export const Role = z.enum(['operator', 'liaison', 'technician', 'reviewer', 'admin']);
export type Role = z.infer<typeof Role>;
export const ROLES = Role.options;

/**
 * Who may call a route: a list of roles (admin is always allowed, see `roleAllows`), or
 * PUBLIC for the handful of routes a signed-out client needs (health, login, first-run
 * set-up). A route with no entry is denied.
 */
export const PUBLIC = 'public' as const;
export type RouteAccess = readonly Role[] | typeof PUBLIC;

/** Every signed-in user. */
export const ANY_ROLE: readonly Role[] = ROLES;

export function roleAllows(access: RouteAccess | undefined, role: Role): boolean {
  if (access === undefined) return false;
  if (access === PUBLIC) return true;
  return role === 'admin' || access.includes(role);
}

/** What a liaison is responsible for: CPD districts, 'L' lines, bus routes. */
export const LiaisonScope = z.strictObject({
  districts: z
    .array(z.string().regex(/^\d{1,2}$/, 'a CPD district number such as "1" or "12"'))
    .max(25)
    .default([]),
  lines: z.array(z.string().min(1).max(16)).max(16).default([]),
  routes: z.array(z.string().min(1).max(16)).max(200).default([]),
  /** Receives other liaisons' alerts when they go unacknowledged (the "next liaison"). */
  escalation: z.boolean().default(false),
});
export type LiaisonScope = z.infer<typeof LiaisonScope>;

const Username = z
  .string()
  .trim()
  .min(2, 'username must be at least 2 characters')
  .max(64)
  .regex(/^[a-zA-Z0-9._@-]+$/, 'username may hold letters, digits and . _ @ -');
/** No composition rules (NIST 800-63B): length, and not a well-known password. */
export const Password = z.string().min(12, 'password must be at least 12 characters').max(256);

export const User = z.strictObject({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  scope: LiaisonScope,
  totpEnabled: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type User = z.infer<typeof User>;

export const UserList = z.strictObject({ users: z.array(User) });

export const UserCreate = z.strictObject({
  username: Username,
  displayName: z.string().trim().min(1).max(120).optional(),
  password: Password,
  role: Role,
  scope: LiaisonScope.optional(),
});
export type UserCreate = z.input<typeof UserCreate>;

export const UserUpdate = z.strictObject({
  displayName: z.string().trim().min(1).max(120).optional(),
  role: Role.optional(),
  scope: LiaisonScope.optional(),
  disabled: z.boolean().optional(),
  password: Password.optional(),
});
export type UserUpdate = z.input<typeof UserUpdate>;

export const LoginRequest = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
  /** Six-digit TOTP code, required when the user enabled the second factor. */
  totp: z
    .string()
    .regex(/^\d{6}$/, 'a six-digit code')
    .optional(),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const SetupRequest = z.strictObject({
  username: Username,
  password: Password,
  displayName: z.string().trim().min(1).max(120).optional(),
});
export type SetupRequest = z.infer<typeof SetupRequest>;

export const Session = z.strictObject({
  user: User,
  /** Bearer token for tools; the console uses the HttpOnly cookie set by the same answer. */
  token: z.string(),
  expiresAt: z.string(),
});
export type Session = z.infer<typeof Session>;

export const AuthStatus = z.strictObject({
  /** No user exists yet: the console shows the first-run set-up (creates the admin). */
  setupRequired: z.boolean(),
  user: User.nullable(),
});
export type AuthStatus = z.infer<typeof AuthStatus>;

/** Starting a (new) enrolment. With a second factor already on, it needs the password and a current code. */
export const TotpSetupRequest = z.strictObject({
  password: z.string().min(1).max(256).optional(),
  code: z
    .string()
    .regex(/^\d{6}$/, 'a six-digit code')
    .optional(),
});
/** The secret, its `otpauth://` URI and that URI as a QR code (an SVG data: URL) for the phone. */
export const TotpSetup = z.strictObject({ secret: z.string(), otpauthUrl: z.string(), qrDataUrl: z.string() });
export const TotpEnable = z.strictObject({ code: z.string().regex(/^\d{6}$/, 'a six-digit code') });

/** Name of the HttpOnly session cookie; CSRF_HEADER must accompany cookie-authenticated writes. */
export const SESSION_COOKIE = 'sentinel_session';
export const CSRF_HEADER = 'x-sentinel-csrf';

const OK = z.strictObject({ ok: z.literal(true) });

export const authRoutes = {
  authStatus: { method: 'GET', path: '/api/v1/auth/status', response: AuthStatus, roles: PUBLIC },
  authSetup: { method: 'POST', path: '/api/v1/auth/setup', response: Session, body: SetupRequest, roles: PUBLIC },
  login: { method: 'POST', path: '/api/v1/auth/login', response: Session, body: LoginRequest, roles: PUBLIC },
  logout: { method: 'POST', path: '/api/v1/auth/logout', response: OK, roles: ANY_ROLE },
  me: { method: 'GET', path: '/api/v1/auth/me', response: User, roles: ANY_ROLE },
  totpSetup: { method: 'POST', path: '/api/v1/auth/totp/setup', response: TotpSetup, body: TotpSetupRequest, roles: ANY_ROLE },
  totpEnable: { method: 'POST', path: '/api/v1/auth/totp/enable', response: OK, body: TotpEnable, roles: ANY_ROLE },
  users: { method: 'GET', path: '/api/v1/users', response: UserList, roles: ['admin'] },
  userCreate: { method: 'POST', path: '/api/v1/users', response: User, body: UserCreate, roles: ['admin'] },
  userUpdate: { method: 'PATCH', path: '/api/v1/users/:id', response: User, body: UserUpdate, roles: ['admin'] },
} as const;
