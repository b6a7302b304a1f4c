import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode, type RefObject } from 'react';
import type { Camera, CameraMount, CameraState } from '../../../contract';
import { EmptyState } from '../shell/EmptyState';
import { OPEN_CAMERA_EVENT } from '../shell/events';
import './cameras.css';
import { useCameras } from './useCameras';
import { LiveVideo } from './LiveVideo';
import { PlaybackBar } from './Playback';
import { useLiveSnapshot } from './useLiveSnapshot';
import { clockTime } from '../shell/time';
import { useStations, type StationsState } from '../map/stations';

export const STATE_LABEL: Record<CameraState, string> = {
  live: 'Live',
  connecting: 'Connecting',
  stalled: 'Stalled',
  offline: 'Offline',
  disabled: 'Stopped',
};

/** Where a camera is mounted, in words; a station by its name once the station list is loaded. */
export function mountLabel(m: CameraMount, stations?: StationsState): string {
  switch (m.kind) {
    case 'station': {
      const name = stations?.byId.get(m.stationId)?.name;
      return `${name ? `${name} station` : `Station ${m.stationId}`}${m.platform ? ` · ${m.platform}` : ''}`;
    }
    case 'bus':
      return `Bus ${m.vehicleId}`;
    case 'railcar':
      return `Railcar ${m.railcarId}${m.line ? ` · ${m.line} Line` : ''}`;
    case 'operator_cab':
      return `Operator cab · vehicle ${m.vehicleId}`;
    case 'other':
      return m.description ?? 'Unassigned mount';
  }
}

/**
 * A snapshot refreshed every second while the camera is live and the image is on screen: the
 * core serves the newest analysis frame as JPEG. The next image is loaded off-screen and
 * swapped in when complete, so a tile never flashes empty between frames. Off screen (scrolled
 * away, or the operations layout hidden behind another workspace) it keeps its last picture
 * and asks nothing: for a camera an analytics node runs, each snapshot holds the core's own
 * RTSP session on the camera open.
 */
function LiveImage({ camera, className, active }: { camera: Camera; className: string; active: boolean }) {
  const { src, live } = useLiveSnapshot(camera, 1000, active);
  if (!src)
    return <div className={`${className} cam-noimage`}>{live ? 'Waiting for the first frame…' : STATE_LABEL[camera.health.state]}</div>;
  return <img className={className} src={src} alt={`Live view of ${camera.name}`} />;
}

export function HealthBadge({ camera }: { camera: Camera }) {
  const h = camera.health;
  return (
    <span className={`cam-badge cam-${h.state}`} title={h.lastError ?? undefined} data-testid="camera-state">
      {STATE_LABEL[h.state]}
      {h.state === 'live' && <span className="cam-fps"> {h.fpsIn.toFixed(1)} fps</span>}
    </span>
  );
}

/**
 * Whether the element is on screen and its window visible: live video only where someone can
 * see it (a hidden tab or a minimised wall window falls back to snapshots).
 */
export function useInView<T extends Element>(): [RefObject<T | null>, boolean] {
  const ref = useRef<T>(null);
  const [inView, setInView] = useState(false);
  const [visible, setVisible] = useState(() => typeof document === 'undefined' || document.visibilityState !== 'hidden');
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => setInView(entries.some((e) => e.isIntersecting)), { threshold: 0.1 });
    io.observe(el);
    return () => io.disconnect();
  }, []);
  useEffect(() => {
    const onVis = (): void => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', onVis);
    return () => document.removeEventListener('visibilitychange', onVis);
  }, []);
  return [ref, inView && visible];
}

/** Live video while the tile is on screen and the camera streams; the snapshot otherwise. */
export function CameraView({ camera, className, inView = true }: { camera: Camera; className: string; inView?: boolean }) {
  const streaming = camera.health.state === 'live' || camera.health.state === 'stalled';
  // Once playing, the player stays through a camera drop: it shows the outage and resumes by
  // itself when the stream returns (a disabled camera, deleted or stopped, ends it).
  const [wasLive, setWasLive] = useState(false);
  useEffect(() => {
    if (streaming) setWasLive(true);
    else if (camera.health.state === 'disabled') setWasLive(false);
  }, [streaming, camera.health.state]);
  if (inView && (streaming || wasLive)) return <LiveVideo camera={camera} className={className} />;
  return <LiveImage camera={camera} className={className} active={inView} />;
}

function CameraTile({ camera, onOpen }: { camera: Camera; onOpen: () => void }) {
  const [ref, inView] = useInView<HTMLButtonElement>();
  return (
    <button
      ref={ref}
      type="button"
      className="cam-tile"
      onClick={onOpen}
      data-testid="camera-tile"
      aria-label={`${camera.name}: ${STATE_LABEL[camera.health.state]}`}
    >
      <CameraView camera={camera} className="cam-image" inView={inView} />
      <span className="cam-caption">
        <span className="cam-name">{camera.name}</span>
        <HealthBadge camera={camera} />
      </span>
      {camera.health.state !== 'live' && camera.health.lastError && <span className="cam-error">{camera.health.lastError}</span>}
    </button>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

/**
 * One camera in full: larger live view with the playback bar (scrub back through the rolling
 * recording, jump to an alert, back to live), where it is mounted, stream and health details.
 */
export function CameraDetail({ camera, onClose, startAt }: { camera: Camera; onClose: () => void; startAt?: number | undefined }) {
  const h = camera.health;
  const stations = useStations();
  const [at, setAt] = useState<number | undefined>(startAt);
  const [position, setPosition] = useState<number | null>(null);
  useEffect(() => setAt(startAt), [startAt, camera.id]);
  const seek = useCallback((t: number | undefined) => {
    setPosition(null);
    setAt(t);
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="cam-detail" data-testid="camera-detail" role="dialog" aria-label={`Camera ${camera.name}`}>
      <div className="cam-detail-head">
        <strong>{camera.name}</strong>
        <HealthBadge camera={camera} />
        <span className="spacer" />
        <button type="button" className="ghost-button" onClick={onClose}>
          Back to all cameras <kbd>Esc</kbd>
        </button>
      </div>
      <div className="cam-detail-body">
        <div className="cam-detail-video">
          {at === undefined ? (
            <CameraView camera={camera} className="cam-detail-image" />
          ) : (
            <LiveVideo
              camera={camera}
              className="cam-detail-image"
              playbackAt={at}
              onEnded={() => seek(undefined)}
              onStats={(s) => setPosition(s.shownAt)}
            />
          )}
          <PlaybackBar camera={camera} at={at} position={position} onSeek={seek} />
        </div>
        <dl className="cam-facts">
          <Row label="Mount">{mountLabel(camera.mount, stations)}</Row>
          <Row label="Location">
            {camera.location
              ? `${camera.location.lat.toFixed(5)}, ${camera.location.lon.toFixed(5)}`
              : camera.mount.kind === 'station'
                ? "the station's"
                : camera.mount.kind === 'other'
                  ? 'not set'
                  : 'moves with its vehicle'}
          </Row>
          <Row label="Stream">
            <code>{camera.url}</code>
          </Row>
          {camera.subUrl && (
            <Row label="Detection stream">
              <code>{camera.subUrl}</code>
            </Row>
          )}
          <Row label="Analytics">{camera.analyticsEnabled ? 'on' : 'off'}</Row>
          <Row label="Recording">
            {camera.recordingEnabled ? 'on' : 'off'}
            {camera.recordingEnabled && (
              <span data-testid="recording-since">
                {h.recordingSince
                  ? ` · kept since ${clockTime(h.recordingSince)} (${recordingDepth(h.recordingSince)})`
                  : ' · nothing kept yet'}
              </span>
            )}
          </Row>
          <Row label="Frames in / out">
            {h.fpsIn.toFixed(1)} / {h.fpsOut.toFixed(1)} fps
          </Row>
          <Row label="Source size">{h.sourceWidth ? `${h.sourceWidth}×${h.sourceHeight}` : '—'}</Row>
          {h.live && h.live.state === 'idle' && <Row label="Live stream">no session open (the core opens one while someone watches)</Row>}
          {h.live && h.live.state !== 'idle' && (
            <Row label="Live stream">
              {h.live.codec ?? '—'} · {h.live.fps.toFixed(1)} fps · {h.live.kbps} kbit/s · {h.live.consumers}{' '}
              {h.live.session === 'viewers'
                ? "fed from the core's own session (an analytics node runs the camera)"
                : 'fed from one camera session'}
              {h.live.transcoding && <span className="cam-error"> {h.live.transcoding}</span>}
            </Row>
          )}
          <Row label="Frames · dropped · reconnects">
            {h.frames} · {h.dropped} · {h.reconnects}
          </Row>
          <Row label="Last frame">{h.lastFrameAt ? clockTime(h.lastFrameAt) : '—'}</Row>
          <Row label="Since">{clockTime(h.since)}</Row>
          {h.lastError && <Row label="Last error">{h.lastError}</Row>}
        </dl>
      </div>
    </div>
  );
}

/** How far back the kept recording goes, as an operator reads it ("3 h 12 min"). */
function recordingDepth(since: string): string {
  const min = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return h < 48 ? `${h} h ${min % 60} min` : `${Math.floor(h / 24)} days`;
}

/** The camera panel: live tiles with health badges, or one camera's detail view. */
export function CameraPanel() {
  const { cameras, loaded, lastProblem } = useCameras();
  const [openId, setOpenId] = useState<string | null>(null);
  const [openAt, setOpenAt] = useState<number | undefined>(undefined);
  const list = useMemo(() => [...cameras.values()].sort((a, b) => a.name.localeCompare(b.name)), [cameras]);
  const open = openId ? cameras.get(openId) : undefined;
  // "O" in the incident queue opens the incident's camera here (a window event keeps the
  // two panels independent of each other).
  useEffect(() => {
    const onOpen = (e: Event): void => {
      const detail = (e as CustomEvent<{ cameraId?: unknown; at?: unknown }>).detail;
      // `at`: open in playback from that moment (an alert's replay).
      if (typeof detail?.cameraId === 'string') {
        setOpenId(detail.cameraId);
        setOpenAt(typeof detail.at === 'number' ? detail.at : undefined);
      }
    };
    window.addEventListener(OPEN_CAMERA_EVENT, onOpen);
    return () => window.removeEventListener(OPEN_CAMERA_EVENT, onOpen);
  }, []);
  if (open) return <CameraDetail camera={open} startAt={openAt} onClose={() => setOpenId(null)} />;
  if (loaded && list.length === 0 && !lastProblem)
    return <EmptyState title="No cameras registered">A technician registers cameras; live tiles appear here.</EmptyState>;
  if (!loaded && lastProblem)
    return <EmptyState title="Cameras cannot be shown">Camera data from the core did not match this console: {lastProblem}</EmptyState>;
  if (!loaded) return <EmptyState title="Loading cameras…" />;
  return (
    <div className="cam-panel">
      {lastProblem && (
        <div className="banner banner-bad" role="alert">
          Camera data from the core did not match this console: {lastProblem}
        </div>
      )}
      <div className="cam-grid" data-testid="camera-grid">
        {list.map((c) => (
          <CameraTile
            key={c.id}
            camera={c}
            onOpen={() => {
              setOpenAt(undefined);
              setOpenId(c.id);
            }}
          />
        ))}
      </div>
    </div>
  );
}
