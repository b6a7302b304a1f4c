import { useMemo, useState, type DragEvent, type KeyboardEvent } from 'react';
import {
  SHELL_GLOBAL,
  WALL_LAYOUTS,
  type Alert,
  type Camera,
  type SentinelShell,
  type WallGroupKind,
  type WallLayout,
} from '../../../../contract';
import { useAlerts } from '../../alerts/useAlerts';
import { useSession } from '../../auth/session';
import { useStore } from '../../client/store';
import { useIncidentStore } from '../../incidents/incidentStore';
import { clockTime } from '../../shell/time';
import { CameraView, HealthBadge, STATE_LABEL, useInView } from '../CameraPanel';
import { useCameras } from '../useCameras';
import { arrange, columns, groupCameras, spotlightAlert, swap } from './layout';
import { useWallGroups, useWallPrefs } from './useWall';
import './wall.css';

const GROUP_KIND_LABEL: Record<WallGroupKind, string> = {
  all: 'All cameras',
  station: 'Station',
  line: "'L' line",
  route: 'Bus route',
  district: 'Police district',
  'my-district': 'My district',
};

const KIND_LABEL: Record<string, string> = { fight: 'Fight', crowding: 'Crowding', barrier: 'Zone breach', 'rider-report': 'Rider text' };

/**
 * Opens the wall in its own window: a second BrowserWindow through the Electron preload, or
 * `window.open` in a browser. Both load this console at `?view=wall` on the same origin, so
 * the session cookie signs it in.
 */
export function popOutWall(): void {
  const shell = (window as unknown as Record<string, SentinelShell | undefined>)[SHELL_GLOBAL];
  if (shell?.openWall) {
    void shell.openWall();
    return;
  }
  window.open(`${location.origin}/?view=wall`, 'sentinel-wall', 'popup,width=1440,height=900');
}

function WallTile({
  camera,
  index,
  label,
  spotlight,
  onDropOn,
  onMove,
}: {
  camera: Camera | undefined;
  index: number;
  label?: string | undefined;
  spotlight?: boolean;
  onDropOn?: (from: number, to: number) => void;
  onMove?: (from: number, to: number) => void;
}) {
  const [ref, inView] = useInView<HTMLDivElement>();
  const [over, setOver] = useState(false);
  const draggable = !spotlight && camera !== undefined && onDropOn !== undefined;
  const drop = (e: DragEvent): void => {
    e.preventDefault();
    setOver(false);
    const from = Number(e.dataTransfer.getData('application/x-sentinel-tile'));
    if (Number.isInteger(from) && onDropOn) onDropOn(from, index);
  };
  // Keyboard arranging: Alt+arrow moves the focused tile one place.
  const key = (e: KeyboardEvent): void => {
    if (!e.altKey || !onMove || spotlight) return;
    const d = e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : 0;
    if (d === 0) return;
    e.preventDefault();
    onMove(index, index + d);
  };
  return (
    <div
      ref={ref}
      className={`wall-tile ${spotlight ? 'wall-spotlight' : ''} ${over ? 'wall-drop' : ''}`}
      data-testid={spotlight ? 'wall-spotlight' : 'wall-tile'}
      data-camera-id={camera?.id ?? ''}
      tabIndex={0}
      draggable={draggable}
      aria-label={camera ? `${spotlight ? 'Spotlight: ' : ''}${camera.name}: ${STATE_LABEL[camera.health.state]}` : 'Empty tile'}
      onDragStart={(e) => {
        e.dataTransfer.setData('application/x-sentinel-tile', String(index));
        e.dataTransfer.effectAllowed = 'move';
      }}
      onDragOver={(e) => {
        if (spotlight || !onDropOn) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
      onKeyDown={key}
    >
      {camera ? (
        <CameraView camera={camera} className="wall-video" inView={inView} />
      ) : (
        <div className="wall-video wall-empty">{spotlight ? 'No unacknowledged alert' : 'No camera'}</div>
      )}
      <span className="wall-caption">
        {label && <span className="wall-spot-label">{label}</span>}
        <span className="wall-name">{camera?.name ?? ''}</span>
        {camera && <HealthBadge camera={camera} />}
      </span>
    </div>
  );
}

/**
 * The video wall: 1, 4, 9 or 16 live tiles from a camera group (station, 'L' line, bus route,
 * police district, "my district"), arranged by dragging, with an optional spotlight tile
 * that follows the newest unacknowledged alert. Saved per person on the core. Tiles play live
 * only while visible; hidden ones keep snapshots.
 */
export function VideoWall({ standalone = false }: { standalone?: boolean }) {
  const session = useSession();
  const { cameras } = useCameras();
  const { alerts, acks } = useAlerts();
  const incidents = useStore(useIncidentStore(session.user.role !== 'technician').state).incidents;
  const wall = useWallPrefs();
  const { prefs } = wall;
  const cameraKey = useMemo(() => [...cameras.keys()].sort().join(','), [cameras]);
  const { groups, problem: groupsProblem } = useWallGroups(cameraKey);
  const nameOf = (id: string): string => cameras.get(id)?.name ?? id;

  const inGroup = useMemo(() => groupCameras(groups, prefs), [groups, prefs]);
  const order = useMemo(
    () =>
      arrange(
        (inGroup ?? []).filter((id) => cameras.has(id)),
        prefs.tiles,
        (id) => cameras.get(id)?.name ?? id,
      ),
    [inGroup, prefs.tiles, cameras],
  );
  const spot: Alert | null = useMemo(
    () => (prefs.spotlight ? spotlightAlert(alerts, acks, incidents, (id) => cameras.has(id)) : null),
    [prefs.spotlight, alerts, acks, incidents, cameras],
  );
  const slots = prefs.layout - (prefs.spotlight ? 1 : 0);
  const shown = order.slice(0, slots);

  const setLayout = (layout: WallLayout): void => wall.update({ ...prefs, layout });
  const move = (from: number, to: number): void => {
    if (to < 0 || to >= shown.length) return;
    wall.update({ ...prefs, tiles: swap(order, from, to) });
  };
  const groupValue = `${prefs.group.kind}:${prefs.group.id ?? ''}`;
  const districts = groups.filter((g) => g.kind === 'district');

  return (
    <div className={`wall ${standalone ? 'wall-standalone' : ''}`} data-testid="video-wall" data-layout={prefs.layout}>
      <div className="wall-bar" role="toolbar" aria-label="Video wall">
        <span className="wall-title">Video wall</span>
        <span role="group" aria-label="Layout" className="wall-layouts">
          {WALL_LAYOUTS.map((n) => (
            <button
              key={n}
              type="button"
              className={`ghost-button ${prefs.layout === n ? 'active' : ''}`}
              aria-pressed={prefs.layout === n}
              data-testid={`wall-layout-${n}`}
              onClick={() => setLayout(n)}
            >
              {n === 1 ? '1' : `${columns(n)}×${columns(n)}`}
            </button>
          ))}
        </span>
        <label className="wall-field">
          Cameras
          <select
            data-testid="wall-group"
            value={groupValue}
            onChange={(e) => {
              const [kind, ...rest] = e.target.value.split(':');
              const id = rest.join(':');
              wall.update({ ...prefs, group: { kind: kind as WallGroupKind, id: id === '' ? null : id }, tiles: [] });
            }}
          >
            <option value="all:">All cameras</option>
            <option value="my-district:">My district{prefs.myDistrict ? ` (${prefs.myDistrict})` : ''}</option>
            {(['station', 'line', 'route', 'district'] as const).map((kind) => {
              const list = groups.filter((g) => g.kind === kind);
              if (list.length === 0) return null;
              return (
                <optgroup key={kind} label={GROUP_KIND_LABEL[kind]}>
                  {list.map((g) => (
                    <option key={`${g.kind}:${g.id}`} value={`${g.kind}:${g.id ?? ''}`}>
                      {g.label} ({g.cameraIds.length})
                    </option>
                  ))}
                </optgroup>
              );
            })}
          </select>
        </label>
        {prefs.group.kind === 'my-district' && (
          <label className="wall-field">
            My district
            <select
              data-testid="wall-my-district"
              value={prefs.myDistrict ?? ''}
              onChange={(e) => wall.update({ ...prefs, myDistrict: e.target.value || null, tiles: [] })}
            >
              <option value="">choose…</option>
              {[...new Set([...(prefs.myDistrict ? [prefs.myDistrict] : []), ...districts.map((d) => d.id ?? '')])]
                .filter(Boolean)
                .sort((a, b) => Number(a) - Number(b))
                .map((d) => (
                  <option key={d} value={d}>
                    District {d}
                  </option>
                ))}
            </select>
          </label>
        )}
        <label className="wall-field">
          <input
            type="checkbox"
            data-testid="wall-spotlight-toggle"
            checked={prefs.spotlight}
            onChange={(e) => wall.update({ ...prefs, spotlight: e.target.checked })}
          />
          Alert spotlight
        </label>
        <span className="spacer" />
        <span className="muted wall-saved" data-testid="wall-saved">
          {wall.saving ? 'Saving…' : wall.loaded ? 'Saved to your account' : 'Loading…'}
        </span>
        {!standalone && (
          <button type="button" className="ghost-button" data-testid="wall-popout" onClick={popOutWall}>
            Pop out
          </button>
        )}
      </div>
      {(wall.problem ?? groupsProblem) && (
        <div className="banner banner-bad" role="alert">
          {wall.problem ?? `Camera groups unavailable: ${groupsProblem}`}
        </div>
      )}
      {inGroup === null && (
        <div className="banner" role="status">
          Choose your district to fill the wall with its cameras.
        </div>
      )}
      <div
        className="wall-grid"
        style={{ gridTemplateColumns: `repeat(${columns(prefs.layout)}, minmax(0, 1fr))` }}
        data-testid="wall-grid"
      >
        {prefs.spotlight && (
          <WallTile
            key={`spot-${spot?.cameraId ?? 'none'}`}
            camera={spot ? cameras.get(spot.cameraId) : undefined}
            index={-1}
            spotlight
            label={spot ? `${KIND_LABEL[spot.kind] ?? spot.kind} · ${clockTime(spot.startedAt)}` : 'Spotlight'}
          />
        )}
        {Array.from({ length: slots }, (_, i) => {
          const id = shown[i];
          return <WallTile key={id ?? `empty-${i}`} camera={id ? cameras.get(id) : undefined} index={i} onDropOn={move} onMove={move} />;
        })}
      </div>
      {order.length > slots && (
        <div className="muted wall-more">
          {order.length - slots} more camera{order.length - slots > 1 ? 's' : ''} in this group: choose a larger layout (
          {nameOf(order[slots]!)}
          {order.length - slots > 1 ? ', …' : ''}).
        </div>
      )}
    </div>
  );
}
