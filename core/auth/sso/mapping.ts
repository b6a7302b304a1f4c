import { LiaisonScope, type Role } from '../../../contract';
import type { SsoConfig } from '../../config';

export type Claims = Readonly<Record<string, unknown>>;

/** A claim's values as strings: a list of strings, or one string (some providers send "a b" or "a,b"). */
export function claimValues(claims: Claims, name: string): string[] {
  const v = claims[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  if (typeof v === 'number') return [String(v)];
  return [];
}

export type Mapped = { ok: true; role: Role; scope: LiaisonScope } | { ok: false; looked: string[] };

/**
 * The provider's claims -> a Sentinel role and liaison scope. The first `roles` entry whose
 * claim holds its value decides the role (an order the administrator sets, admin first);
 * every matching entry of that role adds its scope, and `scopeClaims` add theirs. No match:
 * refused, with the claims that were looked at (for the page and the audit record).
 */
export function mapClaims(sso: Pick<SsoConfig, 'roles' | 'scopeClaims'>, claims: Claims): Mapped {
  const matches = sso.roles.filter((r) => claimValues(claims, r.claim).includes(r.value));
  const first = matches[0];
  if (!first) return { ok: false, looked: [...new Set(sso.roles.map((r) => r.claim))] };
  const districts = new Set<string>();
  const lines = new Set<string>();
  const routes = new Set<string>();
  let escalation = false;
  for (const m of matches.filter((r) => r.role === first.role)) {
    m.scope?.districts?.forEach((d) => districts.add(d));
    m.scope?.lines?.forEach((l) => lines.add(l));
    m.scope?.routes?.forEach((r) => routes.add(r));
    escalation ||= m.scope?.escalation ?? false;
  }
  const { districts: dc, lines: lc, routes: rc } = sso.scopeClaims;
  if (dc) claimValues(claims, dc).forEach((d) => districts.add(d));
  if (lc) claimValues(claims, lc).forEach((l) => lines.add(l));
  if (rc) claimValues(claims, rc).forEach((r) => routes.add(r));
  // Parsed, so a provider's odd district value ("District 1") is refused here, not stored.
  const scope = LiaisonScope.parse({ districts: [...districts], lines: [...lines], routes: [...routes], escalation });
  return { ok: true, role: first.role, scope };
}

/** A provider's user name made fit for Sentinel's (letters, digits, . _ @ -), or null when nothing is left. */
export function usernameFrom(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const name = raw
    .trim()
    .replace(/[^a-zA-Z0-9._@-]+/g, '.')
    .slice(0, 64);
  return name.length >= 2 ? name : null;
}
