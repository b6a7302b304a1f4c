import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Alert, Clip, Incident, OccupancySeries, Role } from '../../../contract';
import { ALERT_KIND_LABEL } from '../../../contract';
import { can, useSession } from '../auth/session';
import { ApiError, call } from '../client/api';
import { useStore } from '../client/store';
import { useIncidentStore } from '../incidents/incidentStore';
import { ConfirmDialog } from '../shell/Dialogs';
import { EmptyState } from '../shell/EmptyState';
import { OPEN_CAMERA_EVENT } from '../shell/events';
import { focusRegion, isTypingTarget, SHORTCUTS } from '../shell/keyboard';
import { select, selection } from '../shell/selection';
import { clockTime } from '../shell/time';
import { scoreText, vehicleMotionText } from './alertText';
import { OccupancyChart } from './OccupancyChart';
import { useAlertStore } from './useAlerts';
import './alerts.css';

const KIND_LABEL = ALERT_KIND_LABEL;

// Listed in the help overlay (`?`); handled while the alert list has focus.
SHORTCUTS.push(
  { keys: '↑ / ↓, Home / End', what: 'Previous / next alert (alert queue)' },
  { keys: 'A', what: 'Acknowledge the selected alert (alert queue)' },
  { keys: 'E', what: 'Escalate the selected alert to the police liaisons, after confirming (alert queue)' },
  { keys: 'O', what: 'Open the selected alert’s camera (alert queue)' },
  { keys: 'C', what: 'Cut a clip of the selected alert from the recording (alert queue)' },
);

function time(iso: string): string {
  return clockTime(iso);
}

/** Occupancy of a crowding alert's zone, refreshed every 5 s while shown. */
function useOccupancy(a: Alert | undefined): { series: OccupancySeries | null; error: string | null } {
  const [series, setSeries] = useState<OccupancySeries | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cameraId = a?.cameraId;
  const zoneId = a?.kind === 'crowding' ? a.zoneId : null;
  useEffect(() => {
    setSeries(null);
    setError(null);
    if (!cameraId || !zoneId) return;
    const ctl = new AbortController();
    const load = (): void => {
      call('zoneOccupancy', { params: { id: cameraId, zoneId }, query: { minutes: '30' }, signal: ctl.signal })
        .then((s) => {
          setSeries(s);
          setError(null);
        })
        .catch((err: unknown) => {
          if (!ctl.signal.aborted) setError(err instanceof ApiError ? err.message : 'could not load occupancy');
        });
    };
    load();
    const timer = setInterval(load, 5000);
    return () => {
      ctl.abort();
      clearInterval(timer);
    };
  }, [cameraId, zoneId]);
  return { series, error };
}

/** What the signed-in role may do from the queue (the core checks again). */
function permissions(role: Role): { ack: boolean; escalate: boolean; clip: boolean } {
  return {
    ack: role === 'admin' || role === 'operator',
    escalate: can(role, 'workIncidents'),
    clip: role === 'admin' || role === 'operator' || role === 'reviewer' || role === 'technician',
  };
}

type Outcome = { alertId: string; text: string; ok: boolean; clip?: Clip };

function message(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

/**
 * The alert queue: every alert analytics raised, newest first, with its kind, camera, zone,
 * score, time, whether it has cleared and whether someone acknowledged it. The selected
 * alert shows its snapshot and, for crowding, the zone's occupancy chart, and its actions.
 * Keyboard: the list is one tab stop; arrows, Home and End move the selection; A, E, O and C
 * act on the selected alert, and only while focus is in this list (the incident queue beside
 * it has its own keys). Escalating tells the police liaisons, so it asks first.
 */
export function AlertQueue() {
  const { user } = useSession();
  const may = permissions(user.role);
  const store = useAlertStore();
  const state = useStore(store.state);
  const incidents = useStore(useIncidentStore(user.role !== 'technician').state).incidents;
  const sel = useStore(selection);
  const [confirming, setConfirming] = useState<Alert | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const items = useRef(new Map<string, HTMLLIElement>());

  const alerts = state.alerts;
  const selected = alerts.find((a) => a.id === sel.alertId) ?? alerts[0];
  const occ = useOccupancy(selected);
  const incidentOf = (a: Alert): Incident | undefined => incidents.find((i) => i.alertIds.includes(a.id));
  const ackedBy = (a: Alert): string | null => {
    const acks = state.acks.get(a.id);
    if (acks?.length) return acks.map((k) => k.by).join(', ');
    const inc = incidentOf(a);
    return inc && inc.state !== 'new' ? `incident ${inc.state}` : null;
  };

  const choose = (a: Alert): void => select({ alertId: a.id, incidentId: incidentOf(a)?.id ?? null });

  // The selected alert scrolls into view when another panel (the map) selects it.
  useEffect(() => {
    if (sel.alertId) items.current.get(sel.alertId)?.scrollIntoView({ block: 'nearest' });
  }, [sel.alertId]);

  const acknowledge = (a: Alert): void => {
    if (!may.ack) return setOutcome({ alertId: a.id, ok: false, text: `A ${user.role} does not acknowledge alerts` });
    setBusy(a.id);
    call('alertAck', { params: { id: a.id } })
      .then(() => {
        store.acked({ alertId: a.id, by: user.username, role: user.role, at: new Date().toISOString() });
        setOutcome({ alertId: a.id, ok: true, text: 'Acknowledged' });
      })
      .catch((err: unknown) =>
        setOutcome({ alertId: a.id, ok: false, text: `Not acknowledged: ${message(err, 'the core did not answer')}` }),
      )
      .finally(() => setBusy(null));
  };
  const escalate = (a: Alert): void => {
    setConfirming(null);
    setBusy(a.id);
    call('alertEscalate', { params: { id: a.id } })
      .then((e) => setOutcome({ alertId: a.id, ok: true, text: `Escalated to the police liaisons (${e.reason})` }))
      .catch((err: unknown) => setOutcome({ alertId: a.id, ok: false, text: `Not escalated: ${message(err, 'the core did not answer')}` }))
      .finally(() => setBusy(null));
  };
  const openCamera = (a: Alert): void => {
    choose(a);
    window.dispatchEvent(new CustomEvent(OPEN_CAMERA_EVENT, { detail: { cameraId: a.cameraId } }));
    focusRegion('cameras');
  };
  const cutClip = (a: Alert): void => {
    if (!may.clip) return setOutcome({ alertId: a.id, ok: false, text: `A ${user.role} does not cut clips` });
    setBusy(a.id);
    setOutcome({ alertId: a.id, ok: true, text: 'Cutting a clip from the recording…' });
    // From the alert's start to its end (or now, while it is still active); the recorder
    // adds its configured pre- and post-roll.
    call('cameraClipCreate', { params: { id: a.cameraId }, body: { from: a.startedAt, to: a.endedAt ?? new Date().toISOString() } })
      .then(async (clip) => {
        const inc = incidentOf(a);
        // Kept with the incident, so the reviewer finds it (only a role that works incidents may).
        if (inc && can(user.role, 'workIncidents'))
          await call('incidentUpdate', { params: { id: inc.id }, body: { link: { kind: 'clip', ref: clip.id } } }).catch(() => undefined);
        setOutcome({ alertId: a.id, ok: true, text: `Clip cut: ${clip.durationS.toFixed(1)} s`, clip });
      })
      .catch((err: unknown) => setOutcome({ alertId: a.id, ok: false, text: `No clip: ${message(err, 'the core did not answer')}` }))
      .finally(() => setBusy(null));
  };

  const onKey = (e: KeyboardEvent<HTMLUListElement>): void => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
    if (!alerts.length) return;
    const i = Math.max(
      0,
      alerts.findIndex((a) => a.id === selected?.id),
    );
    const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const to =
      k === 'ArrowDown'
        ? Math.min(alerts.length - 1, i + 1)
        : k === 'ArrowUp'
          ? Math.max(0, i - 1)
          : k === 'Home'
            ? 0
            : k === 'End'
              ? alerts.length - 1
              : -1;
    if (to >= 0) {
      const next = alerts[to]!;
      choose(next);
      items.current.get(next.id)?.focus();
    } else if (!selected) return;
    else if (k === 'a') acknowledge(selected);
    else if (k === 'e') {
      if (may.escalate) setConfirming(selected);
      else setOutcome({ alertId: selected.id, ok: false, text: `A ${user.role} does not escalate alerts` });
    } else if (k === 'o') openCamera(selected);
    else if (k === 'c') cutClip(selected);
    else return;
    e.preventDefault();
  };

  if (state.loaded && alerts.length === 0 && !state.lastProblem) {
    return <EmptyState title="No alerts">Alerts from the cameras arrive here, newest first.</EmptyState>;
  }
  const shown = outcome && selected && outcome.alertId === selected.id ? outcome : null;
  return (
    <div className="alert-queue" data-testid="alert-queue" data-key-scope="alerts">
      {state.lastProblem && (
        <div className="alert-problem" role="status">
          {state.lastProblem}
        </div>
      )}
      {selected && (
        <section className="alert-detail" aria-label="Selected alert" data-testid="alert-detail">
          <div className="alert-detail-head">
            <span className={`alert-kind kind-${selected.kind}`}>{KIND_LABEL[selected.kind]}</span>
            <span>{selected.cameraName}</span>
          </div>
          {vehicleMotionText(selected) && (
            <div className="alert-vehicle-motion" data-testid="alert-vehicle-motion">
              {vehicleMotionText(selected)}
            </div>
          )}
          {selected.snapshotUrl ? (
            <img
              className="alert-snapshot"
              src={selected.snapshotUrl}
              alt={`Snapshot of ${KIND_LABEL[selected.kind]} on ${selected.cameraName}`}
            />
          ) : (
            <div className="muted">No snapshot kept</div>
          )}
          {selected.kind === 'crowding' &&
            (occ.series ? (
              <OccupancyChart series={occ.series} />
            ) : (
              <div className="muted alert-chart-empty">{occ.error ?? 'Loading occupancy…'}</div>
            ))}
          <div className="alert-actions">
            {may.ack && (
              <button
                type="button"
                onClick={() => acknowledge(selected)}
                disabled={busy === selected.id || ackedBy(selected) !== null}
                data-testid="alert-ack"
              >
                Acknowledge <kbd>A</kbd>
              </button>
            )}
            {may.escalate && (
              <button
                type="button"
                onClick={() => setConfirming(selected)}
                disabled={busy === selected.id || state.escalated.has(selected.id)}
                data-testid="alert-escalate"
              >
                Escalate <kbd>E</kbd>
              </button>
            )}
            <button type="button" onClick={() => openCamera(selected)} data-testid="alert-open-camera">
              Open camera <kbd>O</kbd>
            </button>
            {may.clip && (
              <button type="button" onClick={() => cutClip(selected)} disabled={busy === selected.id} data-testid="alert-clip">
                Cut clip <kbd>C</kbd>
              </button>
            )}
          </div>
          {shown && (
            <div className={shown.ok ? 'alert-outcome' : 'alert-outcome bad'} role="status" data-testid="alert-outcome">
              {shown.text}
              {shown.clip && (
                <>
                  {' · '}
                  <a href={`/api/v1/clips/${encodeURIComponent(shown.clip.id)}/video.mp4`} target="_blank" rel="noreferrer">
                    play
                  </a>
                </>
              )}
            </div>
          )}
        </section>
      )}
      <ul className="alert-list" role="listbox" aria-label="Alerts, newest first" onKeyDown={onKey} data-testid="alert-list">
        {alerts.map((a) => {
          const isSel = a.id === selected?.id;
          const acked = ackedBy(a);
          const escalated = state.escalated.get(a.id);
          return (
            <li
              key={a.id}
              ref={(el) => {
                if (el) items.current.set(a.id, el);
                else items.current.delete(a.id);
              }}
              role="option"
              aria-selected={isSel}
              tabIndex={isSel ? 0 : -1}
              className={`alert-item kind-${a.kind} ${a.endedAt ? 'cleared' : 'active'} ${isSel ? 'selected' : ''} ${acked ? 'acked' : ''}`}
              data-testid="alert-item"
              data-alert-id={a.id}
              data-acked={acked ? 'true' : 'false'}
              onClick={() => choose(a)}
              onFocus={() => choose(a)}
            >
              <div className="alert-item-head">
                <span className="alert-kind-label">{KIND_LABEL[a.kind]}</span>
                <time dateTime={a.startedAt}>{time(a.startedAt)}</time>
              </div>
              <div className="alert-item-where">
                {a.cameraName}
                {a.zoneName ? ` · ${a.zoneName}` : ''}
              </div>
              <div className="alert-item-foot">
                <span>{scoreText(a)}</span>
                <span className="alert-state" data-testid="alert-state">
                  {a.endedAt ? `cleared ${time(a.endedAt)}` : 'active'}
                  {acked ? ` · acknowledged (${acked})` : ''}
                  {escalated ? ' · escalated' : ''}
                </span>
              </div>
            </li>
          );
        })}
      </ul>
      {confirming && (
        <ConfirmDialog
          title="Escalate to the police?"
          confirmLabel="Escalate"
          onConfirm={() => escalate(confirming)}
          onCancel={() => setConfirming(null)}
        >
          <p>
            {KIND_LABEL[confirming.kind]} on <strong>{confirming.cameraName}</strong>
            {confirming.zoneName ? ` (${confirming.zoneName})` : ''}, raised {time(confirming.startedAt)}.
          </p>
          <p>The police liaisons on escalation duty are notified now, and the escalation is recorded with your name.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
