import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { OPEN_CAMERA_EVENT } from '../shell/events';
import { INCIDENT_TRANSITIONS, type Incident, type IncidentState, type Role } from '../../../contract';
import { can } from '../auth/session';
import { ApiError, call } from '../client/api';
import { useCoreSocket } from '../client/CoreProvider';
import { useStore } from '../client/store';
import { createPushStore, ctTime } from '../liaison/pushStore';
import { ConfirmDialog } from '../shell/Dialogs';
import { EmptyState } from '../shell/EmptyState';
import { focusRegion, isTypingTarget, keyScope, SHORTCUTS } from '../shell/keyboard';
import { select, selection } from '../shell/selection';
import { isOpenIncident, useIncidentStore } from './incidentStore';
import './incidents.css';

// Listed in the help overlay (`?`); handled while the incident queue has focus.
SHORTCUTS.push(
  { keys: 'J / K', what: 'Next / previous incident (incident queue)' },
  { keys: 'A', what: 'Acknowledge the selected incident' },
  { keys: 'O', what: 'Open the selected incident’s camera' },
  { keys: 'E', what: 'Escalate the selected incident to the police liaisons, after confirming' },
  { keys: 'D / R / F', what: 'Dispatched / resolved / false alarm' },
);

const STATE_LABEL: Record<IncidentState, string> = {
  new: 'New',
  acknowledged: 'Acknowledged',
  dispatched: 'Dispatched',
  resolved: 'Resolved',
  'false-alarm': 'False alarm',
};

export { OPEN_CAMERA_EVENT };

/**
 * The operator's incident queue: open incidents newest first, with the liaisons'
 * acknowledgements as they arrive, time to acknowledge, and one key per action. Actions a role
 * may not take are not offered (the core refuses them anyway). Keys act here while the focus
 * is in this list or on the alert region itself (key `2`), never while it is in the alert
 * queue below (that list has its own A / E / O). Escalating notifies the police: it asks first.
 */
export function IncidentQueue({ role }: { role: Role }) {
  const socket = useCoreSocket();
  const push = useMemo(() => createPushStore(socket), [socket]);
  useEffect(() => () => push.close(), [push]);
  const pushed = useStore(push.state);
  const store = useIncidentStore(true);
  const { incidents, lastProblem } = useStore(store.state);
  const sel = useStore(selection);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<Incident | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const mayWork = can(role, 'workIncidents');

  const open = incidents.filter(isOpenIncident);
  const current = open.find((i) => i.id === sel.incidentId) ?? open[0];
  const choose = useCallback((inc: Incident | undefined) => {
    if (inc) select({ incidentId: inc.id, alertId: inc.alertIds.at(-1) ?? null });
  }, []);
  // The selected incident scrolls into view when another panel (the map) selects it.
  useEffect(() => {
    if (sel.incidentId)
      root.current?.querySelector(`[data-incident-id="${CSS.escape(sel.incidentId)}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [sel.incidentId]);

  const setState = useCallback(
    (inc: Incident | undefined, state: IncidentState) => {
      if (!inc || !mayWork) return;
      if (!INCIDENT_TRANSITIONS[inc.state].includes(state))
        return setError(`${STATE_LABEL[inc.state]} cannot become ${STATE_LABEL[state].toLowerCase()}`);
      call('incidentUpdate', { params: { id: inc.id }, body: { state } })
        .then(() => setError(null))
        .catch((err: unknown) => setError(err instanceof ApiError ? err.message : 'update failed'));
    },
    [mayWork],
  );
  const escalate = useCallback(
    (inc: Incident | undefined) => {
      setConfirming(null);
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
      if (e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      // Focus rule: the alert queue in the same region handles its own keys.
      const scope = keyScope(e.target);
      if (scope !== null && scope !== 'incidents') return;
      const k = e.key.toLowerCase();
      const i = current ? open.indexOf(current) : -1;
      if (k === 'j' || e.key === 'ArrowDown') choose(open[Math.min(i + 1, open.length - 1)]);
      else if (k === 'k' || e.key === 'ArrowUp') choose(open[Math.max(i - 1, 0)]);
      else if (k === 'a') setState(current, 'acknowledged');
      else if (k === 'd') setState(current, 'dispatched');
      else if (k === 'r') setState(current, 'resolved');
      else if (k === 'f') setState(current, 'false-alarm');
      else if (k === 'e') {
        if (current && mayWork) setConfirming(current);
      } else if (k === 'o' && current) {
        window.dispatchEvent(new CustomEvent(OPEN_CAMERA_EVENT, { detail: { cameraId: current.cameraId } }));
        focusRegion('cameras');
      } else return;
      e.preventDefault();
    };
    el.addEventListener('keydown', onKey);
    return () => el.removeEventListener('keydown', onKey);
  }, [open, current, setState, choose, mayWork]);

  const acksFor = (inc: Incident) => pushed.alerts.filter((p) => inc.alertIds.includes(p.alert.id)).flatMap((p) => p.acks);
  return (
    <div ref={root} className="incident-queue" data-testid="incident-queue" data-key-scope="incidents">
      {(error ?? lastProblem) && (
        <div className="incident-error" role="alert">
          {error ?? lastProblem}
        </div>
      )}
      {open.length === 0 ? (
        <EmptyState title="No open incidents">New alerts become incidents here, newest first.</EmptyState>
      ) : (
        <ol
          className="incident-list"
          tabIndex={0}
          aria-label="Open incidents, newest first"
          aria-activedescendant={current ? `incident-${current.id}` : undefined}
          data-testid="incident-list"
        >
          {open.map((inc) => {
            const acks = acksFor(inc);
            const esc = pushed.alerts.find((p) => inc.alertIds.includes(p.alert.id) && p.escalated)?.escalated;
            return (
              <li
                key={inc.id}
                id={`incident-${inc.id}`}
                className={`incident ${inc === current ? 'selected' : ''} state-${inc.state}`}
                data-testid="incident"
                data-incident-id={inc.id}
                data-state={inc.state}
                aria-current={inc === current ? 'true' : undefined}
                onClick={() => choose(inc)}
              >
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
                    <button type="button" onClick={() => setConfirming(inc)}>
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
      {confirming && (
        <ConfirmDialog
          title="Escalate to the police?"
          confirmLabel="Escalate"
          onConfirm={() => escalate(confirming)}
          onCancel={() => setConfirming(null)}
        >
          <p>
            <strong>{confirming.title}</strong>, {confirming.alertIds.length} alert{confirming.alertIds.length === 1 ? '' : 's'}
            {confirming.scope.district ? `, District ${confirming.scope.district}` : ''}.
          </p>
          <p>The police liaisons on escalation duty are notified now, and the escalation is recorded with your name.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
