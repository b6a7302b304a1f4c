import { useEffect, useState, type ReactNode } from 'react';
import { useConnection } from '../client/CoreProvider';
import type { ConnectionState } from '../client/connection';
import { clockTime } from './time';


function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

export function describeLink(c: ConnectionState, now: number): { label: string; tone: 'ok' | 'warn' | 'bad' } {
  const secs = Math.max(0, Math.round((now - c.since) / 1000));
  switch (c.status) {
    case 'connected':
      return { label: c.latencyMs === null ? 'Connected' : `Connected · ${c.latencyMs} ms`, tone: 'ok' };
    case 'connecting':
      return { label: 'Connecting to core…', tone: 'warn' };
    case 'reconnecting':
      return { label: `Disconnected ${secs}s · reconnecting${c.attempt ? ` (try ${c.attempt})` : ''}`, tone: 'bad' };
    case 'disconnected':
      return { label: 'Disconnected', tone: 'bad' };
  }
}

/** The bottom bar: link to the core, assets, version and Chicago time; features add items. */
export function StatusBar({ children, onAssets }: { children?: ReactNode; onAssets: () => void }) {
  const c = useConnection();
  const now = useNow(1000);
  const link = describeLink(c, now);
  const missing = c.hello?.assets.missing.length ?? 0;
  const noAssetsDir = c.hello?.assets.missing[0]?.what === 'assets directory';
  return (
    <footer className="statusbar" role="status" aria-live="polite">
      <span className={`status-item link link-${link.tone}`} data-testid="connection-state" data-status={c.status}>
        <span className="dot" aria-hidden="true" />
        {link.label}
      </span>
      {children}
      <span className="spacer" />
      {c.hello && missing > 0 && (
        <button type="button" className="status-item status-button warn" onClick={onAssets} data-testid="assets-missing">
          {noAssetsDir ? 'No assets: models, footage, map data missing' : `${missing} asset${missing > 1 ? 's' : ''} missing`}
        </button>
      )}
      {c.hello && <span className="status-item muted">core {c.hello.version}</span>}
      <span className="status-item clock" title="Chicago time">
        {clockTime(now)} CT
      </span>
    </footer>
  );
}
