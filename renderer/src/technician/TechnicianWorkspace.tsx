import { useMemo, useState } from 'react';
import type { Camera, CameraMount, CameraState } from '../../../contract';
import { mountLabel } from '../cameras/CameraPanel';
import { useCameras } from '../cameras/useCameras';
import { EmptyState } from '../shell/EmptyState';
import { CameraForm } from './CameraForm';
import { ClusterPanel } from './ClusterPanel';
import { CsvImport } from './CsvImport';
import { NodesPanel, nodeOf, useNodes } from './NodesPanel';
import { CameraModelTab, ModelsPane } from './ModelSettings';
import { reidText, viewerSessionText } from './healthText';
import { filterCameras, NO_FILTER, stateCounts, urlHostPath, type CameraFilter } from './filter';
import { useStations } from '../map/stations';
import './technician.css';
import { ZoneEditor } from './ZoneEditor';

const STATE_LABEL: Record<CameraState, string> = {
  live: 'Live',
  connecting: 'Connecting',
  stalled: 'Stalled',
  offline: 'Offline',
  disabled: 'Stopped',
};
const MOUNT_LABEL: Record<CameraMount['kind'], string> = {
  station: 'Station',
  bus: 'Bus',
  operator_cab: 'Operator cab',
  railcar: 'Railcar',
  other: 'Other',
};

type CameraTab = 'details' | 'zones' | 'analytics';
const TAB_LABEL: Record<CameraTab, string> = { details: 'Settings', zones: 'Zones', analytics: 'Analytics' };
type Pane =
  | { kind: 'new' }
  | { kind: 'import' }
  | { kind: 'cluster' }
  | { kind: 'nodes' }
  | { kind: 'models' }
  | { kind: 'camera'; id: string; tab: CameraTab }
  | { kind: 'none' };

function HealthBadge({ camera }: { camera: Camera }) {
  const h = camera.health;
  return (
    <span className={`cam-badge cam-${h.state}`} title={h.lastError ?? undefined} data-testid="health-badge">
      {STATE_LABEL[h.state]}
      {h.state === 'live' ? ` · ${h.fpsIn.toFixed(0)} fps` : ''}
    </span>
  );
}

/**
 * What analytics does with the camera's frames: analysed and detector rates, frames skipped
 * (busy pool / no motion); below, its detector and whether re-identification runs and gives tracks back.
 */
function AnalysisLine({ camera }: { camera: Camera }) {
  const a = camera.health.analysis;
  if (!a) return null;
  const reid = a.reid ? reidText(a.reid) : null;
  return (
    <>
      <span
        className="tech-cam-sub muted"
        data-testid="analysis-health"
        title={`model ${a.model}; ${a.frames} frames analysed, ${a.detectorRuns} detector runs`}
      >
        analysed {a.fps.toFixed(1)} fps · detector {a.detectorFps.toFixed(1)}/s
        {a.gating ? (a.motion ? ' · motion' : ' · still') : ' · gating off'} · skipped {a.skippedNoMotion} still, {a.skippedBusy} busy
      </span>
      <span className="tech-cam-sub muted" data-testid="analysis-model">
        {a.model}
        {reid && (
          <span data-testid="reid-health" className={reid.problem ? 'tech-cam-warn' : undefined} title={reid.title}>
            {' '}
            · {reid.text}
          </span>
        )}
      </span>
    </>
  );
}

/** The core's own RTSP session for viewers of a camera an analytics node runs (nothing for a camera the core runs). */
function ViewerSessionLine({ camera }: { camera: Camera }) {
  const v = viewerSessionText(camera.health.live);
  if (!v) return null;
  return (
    <span className={`tech-cam-sub ${v.problem ? 'tech-cam-warn' : 'muted'}`} data-testid="viewer-session" title={v.title}>
      core's live session: {v.text}
    </span>
  );
}

function NodeLabel({ node }: { node: { label: string; stale: boolean } | null }) {
  if (!node) return null;
  return (
    <span data-testid="camera-node" className={node.stale ? 'tech-cam-err' : undefined}>
      {' '}
      · node {node.label}
    </span>
  );
}

function Filters({
  value,
  onChange,
  stationChoices,
}: {
  value: CameraFilter;
  onChange: (f: CameraFilter) => void;
  stationChoices: { id: string; name: string }[];
}) {
  return (
    <div className="tech-filters" role="search">
      <input
        type="search"
        aria-label="Search cameras"
        placeholder="Search name, host, station, bus…"
        value={value.text}
        onChange={(e) => onChange({ ...value, text: e.target.value })}
      />
      <div className="tech-filter-row">
        <select
          aria-label="Mount"
          value={value.mountKind}
          onChange={(e) => onChange({ ...value, mountKind: e.target.value as CameraFilter['mountKind'] })}
        >
          <option value="">Any mount</option>
          {Object.entries(MOUNT_LABEL).map(([k, l]) => (
            <option key={k} value={k}>
              {l}
            </option>
          ))}
        </select>
        <select aria-label="Station" value={value.stationId} onChange={(e) => onChange({ ...value, stationId: e.target.value })}>
          <option value="">Any station</option>
          {stationChoices.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </div>
      <div className="tech-filter-row">
        <input
          aria-label="Vehicle or line"
          placeholder="Bus, railcar or line"
          value={value.vehicle}
          onChange={(e) => onChange({ ...value, vehicle: e.target.value })}
        />
        <select
          aria-label="State"
          value={value.state}
          onChange={(e) => onChange({ ...value, state: e.target.value as CameraFilter['state'] })}
        >
          <option value="">Any state</option>
          {Object.entries(STATE_LABEL).map(([k, l]) => (
            <option key={k} value={k}>
              {l}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}

/**
 * The technicians' "Cameras" workspace: the camera list with health, search and filters on
 * the left; on the right, the selected camera's settings or zones, the add form, or the CSV
 * import. Everything goes through the core's API; the list is live over socket.io.
 */
export function TechnicianWorkspace() {
  const { cameras, loaded } = useCameras();
  const stations = useStations();
  const [filter, setFilter] = useState<CameraFilter>(NO_FILTER);
  const [pane, setPane] = useState<Pane>({ kind: 'none' });
  const stationNames = useMemo(() => new Map(stations.stations.map((s) => [s.id, s.name])), [stations]);
  const all = [...cameras.values()];
  const shown = filterCameras(all, filter, stationNames);
  const counts = stateCounts(all);
  // Only stations that have cameras are worth filtering by.
  const stationChoices = [...new Set(all.flatMap((c) => (c.mount.kind === 'station' ? [c.mount.stationId] : [])))]
    .map((sid) => ({ id: sid, name: stationNames.get(sid) ?? sid }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const selected = pane.kind === 'camera' ? cameras.get(pane.id) : undefined;
  // Which node runs each camera (only when cameras run on analytics nodes).
  const nodes = useNodes().status;

  return (
    <main className="tech-layout" data-testid="technician-workspace">
      <section className="region tech-list" aria-labelledby="tech-list-title">
        <header className="region-header">
          <h2 id="tech-list-title">Camera registry</h2>
          <button type="button" className="ghost-button" onClick={() => setPane({ kind: 'models' })}>
            Models
          </button>
          <button type="button" className="ghost-button" onClick={() => setPane({ kind: 'cluster' })}>
            Core replicas
          </button>
          <button type="button" className="ghost-button" onClick={() => setPane({ kind: 'nodes' })}>
            Analytics nodes
          </button>
          <button type="button" className="ghost-button" onClick={() => setPane({ kind: 'import' })}>
            Import CSV
          </button>
          <button type="button" className="tech-primary" onClick={() => setPane({ kind: 'new' })}>
            Add camera
          </button>
        </header>
        <Filters value={filter} onChange={setFilter} stationChoices={stationChoices} />
        <div className="tech-summary muted" data-testid="camera-summary">
          {shown.length} of {all.length} cameras · {counts.live} live · {counts.offline + counts.stalled} need attention · {counts.disabled}{' '}
          stopped
        </div>
        <ul className="tech-rows" aria-label="Cameras">
          {shown.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                className={`tech-cam ${selected?.id === c.id ? 'selected' : ''}`}
                data-testid="tech-camera-row"
                aria-current={selected?.id === c.id}
                onClick={() => setPane({ kind: 'camera', id: c.id, tab: pane.kind === 'camera' ? pane.tab : 'details' })}
              >
                <span className="tech-cam-main">
                  <span className="tech-cam-name">{c.name}</span>
                  <HealthBadge camera={c} />
                </span>
                <span className="tech-cam-sub muted">
                  {mountLabel(c.mount, stations)} · {urlHostPath(c.url)}
                  {!c.analyticsEnabled && ' · analytics off'}
                  <NodeLabel node={nodeOf(nodes, c.id)} />
                </span>
                <AnalysisLine camera={c} />
                <ViewerSessionLine camera={c} />
                {c.health.lastError && c.health.state !== 'live' && <span className="tech-cam-err">{c.health.lastError}</span>}
              </button>
            </li>
          ))}
        </ul>
        {loaded && all.length === 0 && <EmptyState title="No cameras yet">Add one, or import a CSV.</EmptyState>}
        {loaded && all.length > 0 && shown.length === 0 && <p className="muted tech-pad">No camera matches these filters.</p>}
      </section>
      <section className="region tech-pane" aria-labelledby="tech-pane-title">
        {pane.kind === 'none' && (
          <>
            <header className="region-header">
              <h2 id="tech-pane-title">Camera</h2>
            </header>
            <EmptyState title="Pick a camera">Select a camera on the left to change it or draw its zones, or add a new one.</EmptyState>
          </>
        )}
        {pane.kind === 'new' && (
          <>
            <header className="region-header">
              <h2 id="tech-pane-title">Add camera</h2>
            </header>
            <div className="tech-pane-body">
              <CameraForm
                camera={null}
                stations={stations}
                onSaved={(c) => setPane({ kind: 'camera', id: c.id, tab: 'zones' })}
                onCancel={() => setPane({ kind: 'none' })}
              />
            </div>
          </>
        )}
        {pane.kind === 'cluster' && (
          <>
            <header className="region-header">
              <h2 id="tech-pane-title">Core replicas</h2>
            </header>
            <div className="tech-pane-body">
              <ClusterPanel />
            </div>
          </>
        )}
        {pane.kind === 'nodes' && (
          <>
            <header className="region-header">
              <h2 id="tech-pane-title">Analytics nodes</h2>
            </header>
            <div className="tech-pane-body">
              <NodesPanel />
            </div>
          </>
        )}
        {pane.kind === 'import' && (
          <>
            <header className="region-header">
              <h2 id="tech-pane-title">Import cameras from CSV</h2>
            </header>
            <div className="tech-pane-body">
              <CsvImport onImported={() => undefined} />
            </div>
          </>
        )}
        {pane.kind === 'models' && (
          <>
            <header className="region-header">
              <h2 id="tech-pane-title">Analytics models</h2>
            </header>
            <div className="tech-pane-body">
              <ModelsPane cameras={all} />
            </div>
          </>
        )}
        {pane.kind === 'camera' && !selected && <EmptyState title="Camera removed">This camera no longer exists.</EmptyState>}
        {pane.kind === 'camera' && selected && (
          <>
            <header className="region-header">
              <h2 id="tech-pane-title">{selected.name}</h2>
              <HealthBadge camera={selected} />
              <div className="tech-tabs" role="tablist" aria-label="Camera views">
                {(['details', 'zones', 'analytics'] as const).map((t) => (
                  <button
                    key={t}
                    type="button"
                    role="tab"
                    aria-selected={pane.tab === t}
                    className={`tech-tab ${pane.tab === t ? 'active' : ''}`}
                    onClick={() => setPane({ ...pane, tab: t })}
                  >
                    {TAB_LABEL[t]}
                  </button>
                ))}
              </div>
            </header>
            <div className="tech-pane-body">
              {/* Keyed by camera so switching cameras starts a fresh form or editor. */}
              {pane.tab === 'details' ? (
                <CameraForm
                  key={selected.id}
                  camera={selected}
                  stations={stations}
                  onSaved={() => undefined}
                  onDeleted={() => setPane({ kind: 'none' })}
                />
              ) : pane.tab === 'zones' ? (
                <ZoneEditor key={selected.id} camera={selected} />
              ) : (
                <CameraModelTab key={selected.id} camera={selected} />
              )}
            </div>
          </>
        )}
      </section>
    </main>
  );
}
