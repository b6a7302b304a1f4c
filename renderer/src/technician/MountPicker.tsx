import { useId, useState } from 'react';
import type { CameraMount } from '../../../contract';
import { lineName, searchStations, type StationsState } from '../map/stations';

const KINDS: { kind: CameraMount['kind']; label: string }[] = [
  { kind: 'station', label: 'Station' },
  { kind: 'bus', label: 'Bus' },
  { kind: 'operator_cab', label: 'Bus operator cab' },
  { kind: 'railcar', label: 'Railcar' },
  { kind: 'other', label: 'Other' },
];
const LINES = ['Red', 'Blue', 'Brn', 'G', 'Org', 'P', 'Pink', 'Y'];

/** A blank mount of a kind, keeping what carries over (a bus id into its operator cab). */
function blank(kind: CameraMount['kind'], prev: CameraMount): CameraMount {
  const vehicle = prev.kind === 'bus' || prev.kind === 'operator_cab' ? prev.vehicleId : '';
  switch (kind) {
    case 'station':
      return { kind, stationId: '' };
    case 'bus':
    case 'operator_cab':
      return { kind, vehicleId: vehicle };
    case 'railcar':
      return { kind, railcarId: '' };
    case 'other':
      return { kind };
  }
}

/**
 * Where the camera is mounted: a station picked from the assets' station list (type to
 * search), or the id of the bus or railcar it rides on. `error` is the server's or the
 * form's message about the mount.
 */
export function MountPicker({
  value,
  onChange,
  stations,
  error,
  hint,
}: {
  value: CameraMount;
  onChange: (m: CameraMount) => void;
  stations: StationsState;
  error?: string | undefined;
  hint?: string | null | undefined;
}) {
  const id = useId();
  const [query, setQuery] = useState('');
  const station = value.kind === 'station' ? stations.byId.get(value.stationId) : undefined;
  const hits = value.kind === 'station' ? searchStations(stations.stations, query) : [];
  return (
    <fieldset className="tech-fieldset" data-testid="mount-picker">
      <legend>Mount</legend>
      <div className="tech-row">
        <label htmlFor={`${id}-kind`}>Mounted on</label>
        <select id={`${id}-kind`} value={value.kind} onChange={(e) => onChange(blank(e.target.value as CameraMount['kind'], value))}>
          {KINDS.map((k) => (
            <option key={k.kind} value={k.kind}>
              {k.label}
            </option>
          ))}
        </select>
      </div>
      {value.kind === 'station' && (
        <>
          <div className="tech-row">
            <label htmlFor={`${id}-station`}>Station</label>
            <div className="tech-combo">
              {value.stationId && (
                <div className="tech-picked" data-testid="picked-station">
                  {station
                    ? `${station.name} (${station.id}) · ${station.lines.map(lineName).join(', ')}`
                    : `Station id ${value.stationId}${stations.stations.length ? ' (not in the station list)' : ''}`}
                </div>
              )}
              <input
                id={`${id}-station`}
                placeholder={
                  stations.stations.length ? 'Type a station name, e.g. Clark/Lake' : 'Station map id (the station list is unavailable)'
                }
                value={query}
                autoComplete="off"
                onChange={(e) => {
                  setQuery(e.target.value);
                  // Without a station list the technician types the map id itself.
                  if (!stations.stations.length) onChange({ ...value, stationId: e.target.value.trim() });
                }}
              />
              {hits.length > 0 && (
                <ul className="tech-suggestions" role="listbox" aria-label="Matching stations">
                  {hits.map((s) => (
                    <li key={s.id}>
                      <button
                        type="button"
                        role="option"
                        aria-selected={s.id === value.stationId}
                        onClick={() => {
                          onChange({ ...value, stationId: s.id });
                          setQuery('');
                        }}
                      >
                        {s.name}{' '}
                        <span className="muted">
                          ({s.id}) · {s.lines.map(lineName).join(', ')}
                        </span>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
              {stations.problem && <div className="tech-hint">Station list unavailable: {stations.problem}</div>}
            </div>
          </div>
          <div className="tech-row">
            <label htmlFor={`${id}-platform`}>Platform</label>
            <input
              id={`${id}-platform`}
              value={value.platform ?? ''}
              maxLength={64}
              onChange={(e) =>
                onChange(e.target.value ? { ...value, platform: e.target.value } : { kind: 'station', stationId: value.stationId })
              }
            />
          </div>
        </>
      )}
      {(value.kind === 'bus' || value.kind === 'operator_cab') && (
        <div className="tech-row">
          <label htmlFor={`${id}-vehicle`}>Bus id</label>
          <input
            id={`${id}-vehicle`}
            value={value.vehicleId}
            maxLength={64}
            placeholder="e.g. 8123"
            onChange={(e) => onChange({ ...value, vehicleId: e.target.value.trim() })}
          />
        </div>
      )}
      {value.kind === 'railcar' && (
        <>
          <div className="tech-row">
            <label htmlFor={`${id}-railcar`}>Railcar id</label>
            <input
              id={`${id}-railcar`}
              value={value.railcarId}
              maxLength={64}
              placeholder="e.g. 3301"
              onChange={(e) => onChange({ ...value, railcarId: e.target.value.trim() })}
            />
          </div>
          <div className="tech-row">
            <label htmlFor={`${id}-line`}>Line</label>
            <select
              id={`${id}-line`}
              value={value.line ?? ''}
              onChange={(e) =>
                onChange(e.target.value ? { ...value, line: e.target.value } : { kind: 'railcar', railcarId: value.railcarId })
              }
            >
              <option value="">(any)</option>
              {LINES.map((l) => (
                <option key={l} value={l}>
                  {lineName(l)}
                </option>
              ))}
            </select>
          </div>
        </>
      )}
      {value.kind === 'other' && (
        <div className="tech-row">
          <label htmlFor={`${id}-desc`}>Description</label>
          <input
            id={`${id}-desc`}
            value={value.description ?? ''}
            maxLength={200}
            onChange={(e) => onChange(e.target.value ? { kind: 'other', description: e.target.value } : { kind: 'other' })}
          />
        </div>
      )}
      {hint && !error && <div className="tech-hint">Still needed: {hint}</div>}
      {error && (
        <div className="tech-error" role="alert">
          {error}
        </div>
      )}
    </fieldset>
  );
}
