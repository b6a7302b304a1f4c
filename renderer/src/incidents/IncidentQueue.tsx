import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { OPEN_CAMERA_EVENT } from '../shell/events';
import { Incident, INCIDENT_TRANSITIONS, type IncidentState, type Role } from '../../../contract';
import { can } from '../auth/session';
import { ApiError, call } from '../client/api';
import { useCoreSocket } from '../client/CoreProvider';
import { useStore } from '../client/store';
import { createPushStore, ctTime } from '../liaison/pushStore';
import { EmptyState } from '../shell/EmptyState';
import { focusRegion, SHORTCUTS } from '../shell/keyboard';
import './incidents.css';

// Listed in the help overlay (`?`); handled while the incident queue has focus.
SHORTCUTS.push(
  { keys: 'J / K', what: 'Next / previous incident (incident queue)' },
  { keys: 'A', what: 'Acknowledge the selected incident' },
  { keys: 'O', what: 'Open the selected incident’s camera' },
  { keys: 'E', what: 'Escalate the selected incident to the liaisons' },
  { keys: 'D / R / F', what: 'Dispatched / resolved / false alarm' },
);

const STATE_LABEL: Record<IncidentState, string> = { new: 'New', acknowledged: 'Acknowledged', dispatched: 'Dispatched', resolved: 'Resolved', 'false-alarm': 'False alarm' };

export { OPEN_CAMERA_EVENT };

/**
 * The operator's incident queue: open incidents newest first, with the liaisons'
 * acknowledgements as they arrive, time to acknowledge, and one key per action. Actions a role
 * may not take are not offered (the core refuses them anyway).
 */
export function IncidentQueue({ role }: { role: Role }) {
  const socket = useCoreSocket();
  const push = useMemo(() => createPushStore(socket), [socket]);
  useEffect(() => () => push.close(), [push]);
  const pushed = useStore(push.state);
  const [incidents, setIncidents] = useState<Incident[]>([]);
  const [selected, setSelected] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const mayWork = can(role, 'workIncidents');

  useEffect(() => {
    const ctl = new AbortController();
    call('incidents', { query: { open: 'true' }, signal: ctl.signal })
      .then((r) => setIncidents(r.incidents))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setError(err instanceof ApiError ? err.message : 'could not load incidents');
      });
    const on = (payload: Incident): void => {
      const r = Incident.safeParse(payload);
      if (!r.success) return;
      setIncidents((list) => [r.data, ...list.filter((i) => i.id !== r.data.id)].sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
    };
    socket.on('incident:upsert', on);
    return () => {
      ctl.abort();
      socket.off('incident:upsert', on);
    };
  }, [socket]);

  const open = incidents.filter((i) => i.state !== 'resolved' && i.state !== 'false-alarm');
  const current = open[Math.min(selected, open.length - 1)];

  const setState = useCallback(
    (inc: Incident | undefined, state: IncidentState) => {
      if (!inc || !mayWork) return;
      if (!INCIDENT_TRANSITIONS[inc.state].includes(state)) return setError(`${STATE_LABEL[inc.state]} cannot become ${STATE_LABEL[state].toLowerCase()}`);
      call('incidentUpdate', { params: { id: inc.id }, body: { state } })
        .then(() => setError(null))
        .catch((err: unknown) => setError(err instanceof ApiError ? err.message : 'update failed'));
    },
    [mayWork],
  );
  const escalate = useCallback(
    (inc: Incident | undefined) => {
      const alertId = inc?.alertIds.at(-1);
      if (!alertId || !mayWork) return;
      call('alertEscalate', { params: { id: alertId } })
        .then(() => setError(null))
        .catch((err: unknown) => setError(err instanceof ApiError ? err.message : 'escalation failed'));
    },
    [mayWork],
  );

  useEffect(() => {
    const el = root.current?.closest('section');
    if (!el) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.target instanceof HTMLElement && ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.target.tagName)) return;
      const k = e.key.toLowerCase();
      if (k === 'j' || e.key === 'ArrowDown') setSelected((i) => Math.min(i + 1, open.length - 1));
      else if (k === 'k' || e.key === 'ArrowUp') setSelected((i) => Math.max(i - 1, 0));
      else if (k === 'a') setState(current, 'acknowledged');
      else if (k === 'd') setState(current, 'dispatched');
      else if (k === 'r') setState(current, 'resolved');
      else if (k === 'f') setState(current, 'false-alarm');
      else if (k === 'e') escalate(current);
      else if (k === 'o' && current) {
        window.dispatchEvent(new CustomEvent(OPEN_CAMERA_EVENT, { detail: { cameraId: current.cameraId } }));
        focusRegion('cameras');
      } else return;
      e.preventDefault();
    };
    el.addEventListener('keydown', onKey);
    return () => el.removeEventListener('keydown', onKey);
  }, [open.length, current, setState, escalate]);

  const acksFor = (inc: Incident) => pushed.alerts.filter((p) => inc.alertIds.includes(p.alert.id)).flatMap((p) => p.acks);
  return (
    <div ref={root} className="incident-queue" data-testid="incident-queue">
      {error && (
        <div className="incident-error" role="alert">
          {error}
        </div>
      )}
      {open.length === 0 ? (
        <EmptyState title="No open incidents">New alerts become incidents here, newest first.</EmptyState>
      ) : (
        <ol className="incident-list">
          {open.map((inc) => {
            const acks = acksFor(inc);
            const esc = pushed.alerts.find((p) => inc.alertIds.includes(p.alert.id) && p.escalated)?.escalated;
            return (
              <li key={inc.id} className={`incident ${inc === current ? 'selected' : ''} state-${inc.state}`} data-testid="incident" data-incident-id={inc.id} data-state={inc.state} onClick={() => setSelected(open.indexOf(inc))}>
                <div className="incident-head">
                  <span className="incident-title">{inc.title}</span>
                  <span className="incident-state">{STATE_LABEL[inc.state]}</span>
                </div>
                <div className="muted">
                  {ctTime(inc.createdAt)} CT · {inc.alertIds.length} alert{inc.alertIds.length === 1 ? '' : 's'}
                  {inc.scope.district ? ` · District ${inc.scope.district}` : ''}
                  {inc.timeToAcknowledgeS !== null ? ` · acknowledged in ${inc.timeToAcknowledgeS} s` : ''}
                </div>
                {acks.length > 0 && (
                  <div className="incident-acks" data-testid="incident-acks">
                    {acks.map((a) => `Acknowledged by ${a.by} (${a.role})`).join('; ')}
                  </div>
                )}
                {esc && <div className="incident-escalated">Escalated: {esc.reason}</div>}
                {mayWork && inc === current && (
                  <div className="incident-actions">
                    <button type="button" onClick={() => setState(inc, 'acknowledged')} disabled={inc.state !== 'new'}>
                      Acknowledge <kbd>A</kbd>
                    </button>
                    <button type="button" onClick={() => escalate(inc)}>
                      Escalate <kbd>E</kbd>
                    </button>
                    <button type="button" onClick={() => setState(inc, 'dispatched')}>
                      Dispatched <kbd>D</kbd>
                    </button>
                    <button type="button" onClick={() => setState(inc, 'resolved')}>
                      Resolved <kbd>R</kbd>
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
