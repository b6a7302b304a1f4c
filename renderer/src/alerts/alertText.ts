import type { Alert } from '../../../contract';

/** The figure an alert's row shows: people against capacity, time inside, what was left... */
export function scoreText(a: Alert): string {
  if (a.kind === 'crowding' && typeof a.detail.people === 'number' && typeof a.detail.capacity === 'number')
    return `${a.detail.people} / ${a.detail.capacity} people`;
  if (a.kind === 'barrier' && typeof a.detail.dwellMs === 'number') return `${(a.detail.dwellMs / 1000).toFixed(1)} s inside`;
  if (a.kind === 'intrusion' && typeof a.detail.people === 'number') return `${Math.max(1, a.detail.people)} on the tracks`;
  if (a.kind === 'loitering' && typeof a.detail.dwellS === 'number') return `${Math.round(a.detail.dwellS / 60)} min in the zone`;
  if (a.kind === 'unattended-object' && typeof a.detail.object === 'string')
    return `${a.detail.object}, alone ${typeof a.detail.aloneS === 'number' ? a.detail.aloneS : '?'} s`;
  if (a.kind === 'person-down' && typeof a.detail.thresholdS === 'number') return `down ≥ ${a.detail.thresholdS} s`;
  if (a.kind === 'crowd-surge' && typeof a.detail.rise === 'number' && typeof a.detail.windowS === 'number')
    return `+${a.detail.rise} people in ${a.detail.windowS} s`;
  return `score ${a.score.toFixed(2)}`;
}

/**
 * For an alert from a camera on a vehicle: whether the vehicle was moving when it was raised
 * (its feed's speed), or that nobody knows; null for a fixed camera.
 */
export function vehicleMotionText(a: Pick<Alert, 'detail'>): string | null {
  if (!('vehicleMoving' in a.detail)) return null;
  const speed = a.detail.vehicleSpeedKmh;
  if (a.detail.vehicleMoving === true) return `Vehicle moving${typeof speed === 'number' ? ` (${Math.round(speed)} km/h)` : ''}`;
  if (a.detail.vehicleMoving === false) return 'Vehicle stopped';
  return 'Vehicle speed unknown (its feed gives none)';
}
