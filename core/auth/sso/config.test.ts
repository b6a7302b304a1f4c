import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';

const sso = {
  label: 'CTA',
  issuer: 'https://login.transitchicago.example',
  clientId: 'sentinel',
  redirectUrl: 'https://sentinel.cta.example/api/v1/auth/sso/callback',
  roles: [{ value: 'sentinel-operators', role: 'operator' }],
};
const withFile = (doc: unknown): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'sentinel-sso-config-')), 'sentinel.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
};

describe('the sso config section', () => {
  it('fills defaults, and takes the client secret from SENTINEL_SSO_CLIENT_SECRET', () => {
    const c = loadConfig({ configFile: withFile({ sso }) }, { SENTINEL_SSO_CLIENT_SECRET: 'from-the-environment' });
    expect(c.sso).toMatchObject({
      clientSecret: 'from-the-environment',
      scopes: ['openid', 'profile', 'email'],
      usernameClaim: 'preferred_username',
      roles: [{ claim: 'groups', value: 'sentinel-operators', role: 'operator' }],
    });
    expect(loadConfig({}, {}).sso).toBeUndefined();
  });

  it('names the key of a wrong redirect URL, an unknown role and an empty mapping', () => {
    expect(() =>
      loadConfig({ configFile: withFile({ sso: { ...sso, redirectUrl: 'https://sentinel.cta.example/callback' } }) }, {}),
    ).toThrow(/"sso.redirectUrl": the redirect URL's path must be \/api\/v1\/auth\/sso\/callback/);
    expect(() => loadConfig({ configFile: withFile({ sso: { ...sso, roles: [{ value: 'x', role: 'sheriff' }] } }) }, {})).toThrow(
      /"sso.roles.0.role"/,
    );
    expect(() => loadConfig({ configFile: withFile({ sso: { ...sso, roles: [] } }) }, {})).toThrow(
      /map at least one claim value to a role/,
    );
    expect(() => loadConfig({ configFile: withFile({ sso: { ...sso, secret: 'x' } }) }, {})).toThrow(/unknown key "sso.secret"/);
  });
});
