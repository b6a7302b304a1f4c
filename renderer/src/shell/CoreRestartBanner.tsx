import { useEffect, useState } from 'react';
import { SHELL_GLOBAL, type CoreStatus, type SentinelShell } from '../../../contract/shell';

/**
 * In Electron the main process restarts a local core that died; this says so in the window
 * (with the attempt and the delay) until the core is back. In a browser there is no shell and
 * the link banner alone tells the user the core is unreachable.
 */
export function CoreRestartBanner() {
  const [status, setStatus] = useState<CoreStatus | null>(null);
  useEffect(() => {
    const shell = (window as unknown as Record<string, SentinelShell | undefined>)[SHELL_GLOBAL];
    return shell?.onCoreStatus?.((s) => setStatus(s));
  }, []);
  if (status?.state !== 'restarting') return null;
  return (
    <div className="banner banner-bad" role="alert" data-testid="core-restart-banner">
      The Sentinel core stopped ({status.reason}). Restarting it, attempt {status.attempt}, in {Math.round(status.inMs / 1000)} s…
    </div>
  );
}
