import { RAIL_LINE_NAMES, type LiveVehicle, type RailLine } from '../../../contract';
import type { VehicleContext } from './overlays';

export type { VehicleContext };

/** The panel floats over the map: the newest few alerts, the rest are in the queue. */
const MAX_ALERTS = 5;

export function vehicleTitle(v: LiveVehicle): string {
  const num = v.id.slice(v.id.indexOf(':') + 1);
  return v.mode === 'train' ? `${RAIL_LINE_NAMES[v.route as RailLine] ?? v.route} · run ${num}` : `Bus ${num} · route ${v.route}`;
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 90 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

export interface VehicleDetailsProps {
  vehicle: LiveVehicle | undefined;
  context: VehicleContext;
  following: boolean;
  onFollow: () => void;
  onClose: () => void;
  /** An open alert in the list was chosen: open its camera and incident. */
  onAlert?: (alertId: string, incidentId: string | null) => void;
  now: number;
}

export function VehicleDetails({ vehicle, context, following, onFollow, onClose, onAlert, now }: VehicleDetailsProps) {
  if (!vehicle) {
    return (
      <aside className="map-panel vehicle-details" data-testid="vehicle-details" aria-label="Vehicle details">
        <header>
          <strong>Vehicle gone</strong>
          <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <p className="muted">It has not reported for several minutes and left the map.</p>
      </aside>
    );
  }
  return (
    <aside className="map-panel vehicle-details" data-testid="vehicle-details" data-vehicle-id={vehicle.id} aria-label="Vehicle details">
      <header>
        <strong data-testid="vehicle-title">{vehicleTitle(vehicle)}</strong>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <dl>
        <dt>To</dt>
        <dd data-testid="vehicle-destination">{vehicle.destination || '—'}</dd>
        {vehicle.nextStop && (
          <>
            <dt>Next stop</dt>
            <dd>{vehicle.nextStop}</dd>
          </>
        )}
        <dt>Delay</dt>
        <dd data-testid="vehicle-delay" className={vehicle.delayed ? 'warn' : ''}>
          {vehicle.delayed ? 'Delayed' : 'On time'}
        </dd>
        <dt>Reported</dt>
        <dd className={vehicle.stale ? 'warn' : ''}>
          {ago(vehicle.timestamp, now)}
          {vehicle.stale ? ' · stale (last known position)' : ''}
        </dd>
        <dt>Where</dt>
        <dd>
          {vehicle.communityArea ?? 'outside Chicago'}
          {vehicle.district ? ` · CPD district ${vehicle.district}` : ''}
        </dd>
        <dt>Heading</dt>
        <dd>{vehicle.heading === null ? 'unknown' : `${Math.round(vehicle.heading)}°`}</dd>
      </dl>
      <h3>Cameras</h3>
      {context.cameras.length === 0 ? (
        <p className="muted">No cameras on this vehicle.</p>
      ) : (
        <ul data-testid="vehicle-cameras">
          {context.cameras.map((c) => (
            <li key={c.id} data-camera-id={c.id}>
              {c.name} <span className={c.state === 'live' ? 'muted' : 'warn'}>· {c.state}</span>
            </li>
          ))}
        </ul>
      )}
      <h3>Open alerts</h3>
      {context.unknown && (
        <p className="warn" data-testid="vehicle-alerts-unknown">
          Unknown: {context.unknown}.{context.alerts.length > 0 ? ' Last known:' : ''}
        </p>
      )}
      {context.alerts.length === 0 ? (
        context.unknown ? null : (
          <p className="muted">No open alerts.</p>
        )
      ) : (
        <ul data-testid="vehicle-alerts">
          {context.alerts.slice(0, MAX_ALERTS).map((a) => (
            <li key={a.id} className={`sev-${a.severity}`} data-alert-id={a.id}>
              <button type="button" className="link-button" onClick={() => onAlert?.(a.id, a.incidentId)}>
                {a.title}
              </button>
              {a.active ? '' : <span className="muted"> · cleared</span>}
            </li>
          ))}
          {context.alerts.length > MAX_ALERTS && (
            <li className="muted">and {context.alerts.length - MAX_ALERTS} more in the alert queue</li>
          )}
        </ul>
      )}
      <button type="button" className="ghost-button" onClick={onFollow} aria-pressed={following} data-testid="follow-vehicle">
        {following ? 'Following · stop' : 'Follow'}
      </button>
    </aside>
  );
}
