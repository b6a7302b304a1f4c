import { useCallback, useEffect, useMemo, useState } from 'react';
import type { User } from '../../../contract';
import { UserMenu } from '../auth/AuthGate';
import { useConnection, useCoreSocket } from '../client/CoreProvider';
import { useStore } from '../client/store';
import { EmptyState } from '../shell/EmptyState';
import { MiniMap } from './MiniMap';
import { alertPlace, alertTitle, createPushStore, ctTime, groupByIncident, type PushedGroup } from './pushStore';
import './liaison.css';

function scopeText(u: User): string {
  const s = u.scope;
  const parts = [
    s.districts.length ? `District ${s.districts.join(', ')}` : null,
    s.lines.length ? `${s.lines.join(', ')} line` : null,
    s.routes.length ? `Route ${s.routes.join(', ')}` : null,
    s.escalation ? 'escalations' : null,
  ];
  return parts.filter(Boolean).join(' · ') || 'no scope assigned: ask an administrator';
}

/**
 * The police liaison's console: the incidents of their district, lines and routes as their
 * alerts are pushed, each with its newest snapshot, its place on the map, the vehicle and the
 * clip, and one key to acknowledge. Plain browser friendly: no WebGL, Web Notifications when
 * allowed.
 */
export function LiaisonView({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const socket = useCoreSocket();
  const conn = useConnection();
  const push = useMemo(() => createPushStore(socket, { notify: true }), [socket]);
  useEffect(() => () => push.close(), [push]);
  const { alerts, incidents } = useStore(push.state);
  const groups = useMemo(() => groupByIncident(alerts, incidents), [alerts, incidents]);
  const [selected, setSelected] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [permission, setPermission] = useState(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

  // Acknowledging a card acknowledges each of its alerts this liaison has not acknowledged yet
  // (the core records, audits and escalates per alert).
  const ack = useCallback(
    (g: PushedGroup | undefined) => {
      if (!g) return;
      const open = g.alerts.filter((p) => !p.acks.some((x) => x.by === user.username));
      void Promise.all(open.map((p) => push.ack(p.alert.id))).then((replies) => {
        const failed = replies.find((r) => !r.ok);
        setError(failed && !failed.ok ? failed.error : null);
      });
    },
    [push, user.username],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.target instanceof HTMLElement && ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.target.tagName)) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'j' || e.key === 'ArrowDown') setSelected((i) => Math.min(i + 1, groups.length - 1));
      else if (e.key === 'k' || e.key === 'ArrowUp') setSelected((i) => Math.max(i - 1, 0));
      else if (e.key === 'a') ack(groups[selected]);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [groups, selected, ack]);

  const online = conn.status === 'connected';
  return (
    <div className={`app liaison ${online ? '' : 'offline'}`}>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Sentinel
        </span>
        <span className="muted">Police liaison · {scopeText(user)}</span>
        <span className="spacer" />
        <span className={`link-dot link-${online ? 'ok' : 'bad'}`} data-testid="connection-state" data-status={conn.status}>
          {online ? 'Live' : conn.status === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
        {permission === 'default' && (
          <button type="button" className="ghost-button" onClick={() => void Notification.requestPermission().then(setPermission)}>
            Enable desktop notifications
          </button>
        )}
        <UserMenu user={user} onSignOut={onSignOut} />
      </header>
      {!online && conn.status !== 'connecting' && (
        <div className="banner banner-bad" role="alert">
          Connection lost; alerts sent meanwhile arrive when it is back.
        </div>
      )}
      {error && (
        <div className="banner banner-bad" role="alert">
          {error}
        </div>
      )}
      <main className="liaison-list" aria-label="Alerts in your scope">
        {groups.length === 0 ? (
          <EmptyState title="No alerts in your scope">
            Alerts for {scopeText(user)} appear here the moment they are raised. Keys: J/K move, A acknowledges.
          </EmptyState>
        ) : (
          groups.map((g, i) => (
            <IncidentCard key={g.key} g={g} me={user} selected={i === selected} onSelect={() => setSelected(i)} onAck={() => ack(g)} />
          ))
        )}
      </main>
    </div>
  );
}

/** The alert's snapshot, or a plain note when it has none or it cannot be read (never a broken image). */
function Snapshot({ url, alt }: { url: string | null; alt: string }) {
  const [failed, setFailed] = useState(false);
  if (!url) return <span className="muted">No snapshot</span>;
  if (failed) return <span className="muted">Snapshot unavailable</span>;
  return <img src={url} alt={alt} onError={() => setFailed(true)} />;
}

function IncidentCard({
  g,
  me,
  selected,
  onSelect,
  onAck,
}: {
  g: PushedGroup;
  me: User;
  selected: boolean;
  onSelect: () => void;
  onAck: () => void;
}) {
  const a = g.alerts[0]!.alert;
  const first = g.alerts.at(-1)!.alert;
  const mine = g.alerts.every((p) => p.acks.some((x) => x.by === me.username));
  const incident = g.incident;
  const clip = incident?.links.find((l) => l.kind === 'clip');
  const vehicle = a.scope.placement?.vehicleId ?? incident?.vehicleId ?? null;
  return (
    <article
      className={`liaison-card ${selected ? 'selected' : ''} ${g.escalated ? 'escalated' : ''}`}
      data-testid="liaison-alert"
      data-alert-id={a.id}
      data-alert-ids={g.alerts.map((p) => p.alert.id).join(' ')}
      onClick={onSelect}
      aria-current={selected}
    >
      <div className="liaison-snap">
        <Snapshot key={a.snapshotUrl ?? ''} url={a.snapshotUrl} alt={`Snapshot: ${alertTitle(a)}`} />
      </div>
      <div className="liaison-body">
        <h3>{alertTitle(a)}</h3>
        <div className="muted">
          {ctTime(a.startedAt)} CT · {alertPlace(a)}
        </div>
        {g.alerts.length > 1 && (
          <div data-testid="incident-alert-count">
            {g.alerts.length} alerts since {ctTime(first.startedAt)} CT
          </div>
        )}
        <div>Vehicle: {vehicle ?? '—'}</div>
        <div>
          {clip ? (
            <a href={`/api/v1/clips/${encodeURIComponent(clip.ref)}/video.mp4`} target="_blank" rel="noreferrer">
              Play clip
            </a>
          ) : g.escalated && !incident ? (
            // Escalated from outside this liaison's scope: the alert is theirs, its incident and
            // footage stay with its own district, line or route (docs/security.md).
            <span className="muted">Clip: not shared outside its scope</span>
          ) : (
            <span className="muted">Clip: not cut yet</span>
          )}
        </div>
        {g.escalated && <div className="liaison-escalated">Escalated: {g.escalated.reason}</div>}
        <div className="liaison-acks" data-testid="alert-acks">
          {g.acks.length ? g.acks.map((x) => `Acknowledged by ${x.by} (${x.role}) at ${ctTime(x.at)}`).join('; ') : 'Not acknowledged'}
        </div>
        <button type="button" className="ack-button" onClick={onAck} disabled={mine}>
          {mine ? 'Acknowledged' : 'Acknowledge'} <kbd>A</kbd>
        </button>
      </div>
      <MiniMap district={a.scope.district} point={a.scope.placement ? { lat: a.scope.placement.lat, lon: a.scope.placement.lon } : null} />
    </article>
  );
}
