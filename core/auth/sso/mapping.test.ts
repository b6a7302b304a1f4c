import { describe, expect, it } from 'vitest';
import { claimValues, mapClaims, usernameFrom } from './mapping';

const sso = {
  roles: [
    { claim: 'groups', value: 'sentinel-admins', role: 'admin' as const },
    { claim: 'groups', value: 'cpd-district-1', role: 'liaison' as const, scope: { districts: ['1'] } },
    { claim: 'groups', value: 'cpd-red-line', role: 'liaison' as const, scope: { lines: ['Red'] } },
    { claim: 'department', value: 'control-center', role: 'operator' as const },
  ],
  scopeClaims: { routes: 'bus_routes' },
};

describe('SSO claims to role and scope', () => {
  it('takes the first matching entry in the configured order', () => {
    expect(mapClaims(sso, { groups: ['cpd-district-1', 'sentinel-admins'] })).toMatchObject({ ok: true, role: 'admin' });
    expect(mapClaims(sso, { department: 'control-center' })).toMatchObject({ ok: true, role: 'operator' });
  });

  it('merges the scopes of every entry of the winning role and the scope claims', () => {
    const r = mapClaims(sso, { groups: ['cpd-red-line', 'cpd-district-1'], bus_routes: ['22', '36'] });
    expect(r).toEqual({ ok: true, role: 'liaison', scope: { districts: ['1'], lines: ['Red'], routes: ['22', '36'], escalation: false } });
  });

  it('refuses someone no entry matches, naming the claims it looked at', () => {
    expect(mapClaims(sso, { groups: ['everyone'] })).toEqual({ ok: false, looked: ['groups', 'department'] });
    expect(mapClaims(sso, {})).toMatchObject({ ok: false });
  });

  it('refuses a scope value Sentinel cannot hold instead of storing it', () => {
    expect(() =>
      mapClaims({ ...sso, scopeClaims: { districts: 'district' } }, { groups: ['cpd-district-1'], district: 'Near North' }),
    ).toThrow(/CPD district/);
  });

  it('reads list, space- or comma-separated and numeric claims', () => {
    expect(claimValues({ g: 'a b,c' }, 'g')).toEqual(['a', 'b', 'c']);
    expect(claimValues({ g: 7 }, 'g')).toEqual(['7']);
    expect(claimValues({ g: { x: 1 } }, 'g')).toEqual([]);
  });

  it('makes a provider user name fit, or gives up', () => {
    expect(usernameFrom('Ann Lee@cta')).toBe('Ann.Lee@cta');
    expect(usernameFrom('x')).toBeNull();
    expect(usernameFrom(42)).toBeNull();
  });
});
