import { RAIL_LINE_NAMES, type LiveVehicle, type RailLine } from '../../../contract';

/** What the map knows about a vehicle's cameras and alerts (filled by the cameras and alerts features). */
export interface VehicleContext {
  cameras: Array<{ id: string; name: string }>;
  alerts: Array<{ id: string; title: string; severity: string }>;
}

export function vehicleTitle(v: LiveVehicle): string {
  const num = v.id.slice(v.id.indexOf(':') + 1);
  return v.mode === 'train' ? `${RAIL_LINE_NAMES[v.route as RailLine] ?? v.route} · run ${num}` : `Bus ${num} · route ${v.route}`;
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 90 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

export function VehicleDetails({ vehicle, context, following, onFollow, onClose, now }: { vehicle: LiveVehicle | undefined; context: VehicleContext; following: boolean; onFollow: () => void; onClose: () => void; now: number }) {
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
        <ul>
          {context.cameras.map((c) => (
            <li key={c.id}>{c.name}</li>
          ))}
        </ul>
      )}
      <h3>Open alerts</h3>
      {context.alerts.length === 0 ? (
        <p className="muted">No open alerts.</p>
      ) : (
        <ul>
          {context.alerts.map((a) => (
            <li key={a.id} className={`sev-${a.severity}`}>
              {a.title}
            </li>
          ))}
        </ul>
      )}
      <button type="button" className="ghost-button" onClick={onFollow} aria-pressed={following} data-testid="follow-vehicle">
        {following ? 'Following · stop' : 'Follow'}
      </button>
    </aside>
  );
}
