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

const FFMPEG_SOURCE = { system: 'system', configured: 'configured', bundled: 'bundled from npm', missing: 'missing' } as const;

/** "6.1.1-3ubuntu5" -> "6.1.1"; a static snapshot build's long name is cut short. */
function shortVersion(v: string | null): string {
  if (!v) return '?';
  return /^n?(\d+\.\d+(?:\.\d+)?)/.exec(v)?.[1] ?? v.slice(0, 12);
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
      {c.hello?.ffmpeg && (
        <span
          className={`status-item ${c.hello.ffmpeg.source === 'missing' ? 'warn' : 'muted'}`}
          data-testid="ffmpeg-status"
          title={c.hello.ffmpeg.note ?? (c.hello.ffmpeg.ffprobe ? 'ffmpeg and ffprobe' : 'ffmpeg without ffprobe')}
        >
          {c.hello.ffmpeg.source === 'missing'
            ? 'No ffmpeg: cameras off'
            : `ffmpeg ${c.hello.ffmpeg.release ?? shortVersion(c.hello.ffmpeg.version)} (${FFMPEG_SOURCE[c.hello.ffmpeg.source]})`}
        </span>
      )}
      {c.hello?.demoCameras && c.hello.demoCameras.server !== 'gstreamer' && (
        <span
          className={`status-item ${c.hello.demoCameras.server === 'none' ? 'warn' : 'muted'}`}
          data-testid="demo-cameras-status"
          title={c.hello.demoCameras.note ?? ''}
        >
          {c.hello.demoCameras.server === 'none'
            ? 'Demo cameras unavailable'
            : c.hello.demoCameras.server === 'rtsp-js'
              ? 'Demo cameras: built-in RTSP server'
              : 'Demo cameras: external simulator'}
        </span>
      )}
      {c.hello && <span className="status-item muted">core {c.hello.version}</span>}
      <span className="status-item clock" title="Chicago time">
        {clockTime(now)} CT
      </span>
    </footer>
  );
}
