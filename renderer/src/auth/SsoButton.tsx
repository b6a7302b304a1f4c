import { useEffect, useState } from 'react';
import { routes, type SsoInfo } from '../../../contract';
import { call } from '../client/api';

/**
 * "Sign in with <agency>" under the password form, when the core has single sign-on. A plain
 * link, not a fetch: the browser goes to the provider and comes back to the core's callback,
 * which sets the session cookie and returns here.
 */
export function SsoButton() {
  const [info, setInfo] = useState<SsoInfo | null>(null);
  useEffect(() => {
    const ac = new AbortController();
    call('ssoInfo', { signal: ac.signal })
      .then(setInfo)
      .catch(() => undefined); // no SSO offered then; the password form still works
    return () => ac.abort();
  }, []);
  if (!info?.enabled || !info.label) return null;
  return (
    <>
      <p className="auth-or muted">or</p>
      <a className="sso-button" href={routes.ssoStart.path} data-testid="sso-sign-in">
        Sign in with {info.label}
      </a>
    </>
  );
}
