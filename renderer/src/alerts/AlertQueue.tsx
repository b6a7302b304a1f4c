import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { Alert, AlertKind, OccupancySeries } from '../../../contract';
import { ApiError, call } from '../client/api';
import { useCoreSocket } from '../client/CoreProvider';
import { useStore } from '../client/store';
import { EmptyState } from '../shell/EmptyState';
import { AlertStore } from './alertStore';
import { OccupancyChart } from './OccupancyChart';
import './alerts.css';
import { clockTime } from '../shell/time';

const KIND_LABEL: Record<AlertKind, string> = { crowding: 'Crowding', barrier: 'Operator barrier', fight: 'Possible fight', 'rider-report': 'Rider text' };

function time(iso: string): string {
  return clockTime(iso);
}

function scoreText(a: Alert): string {
  if (a.kind === 'crowding' && typeof a.detail.people === 'number' && typeof a.detail.capacity === 'number') return `${a.detail.people} / ${a.detail.capacity} people`;
  if (a.kind === 'barrier' && typeof a.detail.dwellMs === 'number') return `${(a.detail.dwellMs / 1000).toFixed(1)} s inside`;
  return `score ${a.score.toFixed(2)}`;
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

/**
 * The alert queue: every alert analytics raised, newest first, with its kind, camera, zone,
 * score and time, and whether it has cleared. The selected alert shows its snapshot (the
 * analysed frame with the people boxed) and, for crowding, the zone's occupancy chart.
 * Keyboard: the list is one tab stop; arrow keys, Home and End move the selection.
 * `actions` is the slot for per-alert actions (acknowledge, raise an incident: issue 7).
 */
export function AlertQueue({ actions }: { actions?: (alert: Alert) => ReactNode }) {
  const socket = useCoreSocket();
  const store = useMemo(() => new AlertStore(), []);
  const state = useStore(store.state);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const items = useRef(new Map<string, HTMLLIElement>());

  useEffect(() => {
    const detach = store.attach(socket);
    const ctl = new AbortController();
    call('alerts', { query: { limit: '100' }, signal: ctl.signal })
      .then((l) => store.load(l))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) store.fail(err instanceof ApiError ? err.message : 'could not load alerts');
      });
    return () => {
      ctl.abort();
      detach();
    };
  }, [socket, store]);

  const alerts = state.alerts;
  const selected = alerts.find((a) => a.id === selectedId) ?? alerts[0];
  const occ = useOccupancy(selected);

  const move = (e: KeyboardEvent<HTMLUListElement>): void => {
    if (!alerts.length) return;
    const i = Math.max(0, alerts.findIndex((a) => a.id === selected?.id));
    const to = e.key === 'ArrowDown' ? Math.min(alerts.length - 1, i + 1) : e.key === 'ArrowUp' ? Math.max(0, i - 1) : e.key === 'Home' ? 0 : e.key === 'End' ? alerts.length - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    const next = alerts[to]!;
    setSelectedId(next.id);
    items.current.get(next.id)?.focus();
  };

  if (state.loaded && alerts.length === 0 && !state.lastProblem) {
    return <EmptyState title="No alerts">Alerts from the cameras arrive here, newest first.</EmptyState>;
  }
  return (
    <div className="alert-queue" data-testid="alert-queue">
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
          {selected.snapshotUrl ? <img className="alert-snapshot" src={selected.snapshotUrl} alt={`Snapshot of ${KIND_LABEL[selected.kind]} on ${selected.cameraName}`} /> : <div className="muted">No snapshot kept</div>}
          {selected.kind === 'crowding' && (occ.series ? <OccupancyChart series={occ.series} /> : <div className="muted alert-chart-empty">{occ.error ?? 'Loading occupancy…'}</div>)}
          {actions && <div className="alert-actions">{actions(selected)}</div>}
        </section>
      )}
      <ul className="alert-list" role="listbox" aria-label="Alerts, newest first" onKeyDown={move}>
        {alerts.map((a) => {
          const isSel = a.id === selected?.id;
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
              className={`alert-item kind-${a.kind} ${a.endedAt ? 'cleared' : 'active'} ${isSel ? 'selected' : ''}`}
              data-testid="alert-item"
              data-alert-id={a.id}
              onClick={() => setSelectedId(a.id)}
              onFocus={() => setSelectedId(a.id)}
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
                <span className="alert-state">{a.endedAt ? `cleared ${time(a.endedAt)}` : 'active'}</span>
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
