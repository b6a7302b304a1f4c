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

/** A recovery code as printed (`abcde-23456`); spaces and the hyphen are optional, case does not matter. */
export const RecoveryCodeInput = z
  .string()
  .transform((s) => s.replace(/[\s-]/g, '').toLowerCase())
  .pipe(z.string().regex(/^[a-z2-9]{10}$/, 'a recovery code: ten letters and digits such as abcde-23456'));
/** A current authenticator code or, when the phone is lost, one of the recovery codes. */
export const SecondFactorCode = z.union([z.string().regex(/^\d{6}$/), RecoveryCodeInput], {
  error: 'a six-digit code from the authenticator app or a recovery code',
});

export const LoginRequest = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
  /** Six-digit TOTP code, required when the user enabled the second factor. */
  totp: z
    .string()
    .regex(/^\d{6}$/, 'a six-digit code')
    .optional(),
  /** One of the user's ten recovery codes, in place of `totp` (each works once). */
  recoveryCode: RecoveryCodeInput.optional(),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const SetupRequest = z.strictObject({
  username: Username,
  password: Password,
  displayName: z.string().trim().min(1).max(120).optional(),
});
export type SetupRequest = z.infer<typeof SetupRequest>;

/** Something a user must be told when they next sign in (or at once, on their sockets). */
export const UserNotice = z.strictObject({
  id: z.number().int(),
  kind: z.enum(['mfa_reset']),
  message: z.string(),
  at: z.string(),
});
export type UserNotice = z.infer<typeof UserNotice>;

export const Session = z.strictObject({
  user: User,
  /** Bearer token for tools; the console uses the HttpOnly cookie set by the same answer. */
  token: z.string(),
  expiresAt: z.string(),
  /**
   * The user's role must use a second factor and they have none: until they enrol, this
   * session may only reach the enrolment routes (the core refuses everything else).
   */
  mfaEnrolmentRequired: z.boolean().default(false),
  /** Notices not shown before (for example: an administrator reset your second factor). */
  notices: z.array(UserNotice).default([]),
});
export type Session = z.infer<typeof Session>;

export const AuthStatus = z.strictObject({
  /** No user exists yet: the console shows the first-run set-up (creates the admin). */
  setupRequired: z.boolean(),
  user: User.nullable(),
  /** As in Session: the signed-in user must enrol a second factor before anything else. */
  mfaEnrolmentRequired: z.boolean().default(false),
  /** Said on the sign-in screen when the MFA policy is relaxed (the demo). */
  policyNote: z.string().nullable().default(null),
});
export type AuthStatus = z.infer<typeof AuthStatus>;

/** Starting a (new) enrolment. With a second factor already on, it needs the password and a current code. */
export const TotpSetupRequest = z.strictObject({
  password: z.string().min(1).max(256).optional(),
  code: SecondFactorCode.optional(),
});
/** Changes that weaken or replace the second factor: the password and a current code (or a recovery code). */
export const MfaConfirm = z.strictObject({
  password: z.string().min(1).max(256),
  code: SecondFactorCode,
});
/** Ten one-time codes, shown once; the core keeps only their hashes. */
export const RecoveryCodes = z.strictObject({ recoveryCodes: z.array(z.string()).length(10) });
export const MfaStatus = z.strictObject({
  enabled: z.boolean(),
  /** The policy (auth.mfaRequiredRoles) requires a second factor for this user's role. */
  required: z.boolean(),
  recoveryCodesLeft: z.number().int(),
});
export type MfaStatus = z.infer<typeof MfaStatus>;
/** One signed-in session (a browser, Electron window or tool), without its token. */
export const SessionInfo = z.strictObject({
  id: z.string(),
  /** The session this request came with. */
  current: z.boolean(),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
  method: z.enum(['password', 'sso']),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
export const SessionList = z.strictObject({ sessions: z.array(SessionInfo) });
export const Revoked = z.strictObject({ revoked: z.number().int() });
/** Administrative actions on a user that take no input. */
export const NoBody = z.strictObject({});
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
  totpEnable: { method: 'POST', path: '/api/v1/auth/totp/enable', response: RecoveryCodes, body: TotpEnable, roles: ANY_ROLE },
  totpDisable: { method: 'POST', path: '/api/v1/auth/totp/disable', response: OK, body: MfaConfirm, roles: ANY_ROLE },
  mfaStatus: { method: 'GET', path: '/api/v1/auth/mfa', response: MfaStatus, roles: ANY_ROLE },
  recoveryCodesRegenerate: {
    method: 'POST',
    path: '/api/v1/auth/recovery-codes',
    response: RecoveryCodes,
    body: MfaConfirm,
    roles: ANY_ROLE,
  },
  mySessions: { method: 'GET', path: '/api/v1/auth/sessions', response: SessionList, roles: ANY_ROLE },
  mySessionRevoke: { method: 'DELETE', path: '/api/v1/auth/sessions/:id', response: OK, roles: ANY_ROLE },
  mySessionsRevokeOthers: { method: 'POST', path: '/api/v1/auth/sessions/revoke-others', response: Revoked, body: NoBody, roles: ANY_ROLE },
  users: { method: 'GET', path: '/api/v1/users', response: UserList, roles: ['admin'] },
  userCreate: { method: 'POST', path: '/api/v1/users', response: User, body: UserCreate, roles: ['admin'] },
  userUpdate: { method: 'PATCH', path: '/api/v1/users/:id', response: User, body: UserUpdate, roles: ['admin'] },
  userSessions: { method: 'GET', path: '/api/v1/users/:id/sessions', response: SessionList, roles: ['admin'] },
  userSignOutEverywhere: { method: 'POST', path: '/api/v1/users/:id/sign-out', response: Revoked, body: NoBody, roles: ['admin'] },
  userMfaReset: { method: 'POST', path: '/api/v1/users/:id/mfa/reset', response: User, body: NoBody, roles: ['admin'] },
} as const;
