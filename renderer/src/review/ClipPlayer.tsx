import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent as ReactMouseEvent } from 'react';
import type { Clip, DetectionFrame, Zone } from '../../../contract';
import { isMaskKind } from '../../../contract/zones';
import { ApiError, call } from '../client/api';
import { boxToRect, containedRect, frameAt, timelinePos, trackColour } from './overlay';
import { clockTenths } from '../shell/time';

export interface AlertMark {
  id: string;
  kind: string;
  startedAt: number;
  endedAt: number | null;
}

const SPEEDS = [0.25, 0.5, 1, 2, 4] as const;
/** The recorder keeps the camera's frame rate; a tenth of a second steps one frame at 10 fps. */
const STEP_S = 0.1;

function clock(ms: number): string {
  return clockTenths(ms);
}

/**
 * The reviewer's player: the clip (a byte-for-byte copy of the recording), the detections
 * the analytics stored at the time drawn over it in sync with the video's clock, the zones,
 * a timeline with the alerts marked, frame stepping and speed. The video is fetched once as
 * a blob so every frame is seekable, whatever the server's range support.
 */
export interface SubjectMarking {
  /** Track ids the reviewer keeps visible in a public copy. */
  subjects: ReadonlySet<number>;
  onToggle(trackId: number): void;
}

export function ClipPlayer({
  clip,
  cameraId,
  alerts,
  zones,
  marking,
}: {
  clip: Clip;
  cameraId: string;
  alerts: AlertMark[];
  zones: Zone[];
  /** When given, clicking a person's box (or their row) marks them as a subject of the incident. */
  marking?: SubjectMarking;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [src, setSrc] = useState<string | null>(null);
  const [frames, setFrames] = useState<DetectionFrame[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<number>(1);
  const [overlay, setOverlay] = useState(true);
  const [now, setNow] = useState(0);
  const start = Date.parse(clip.startAt);
  const end = Date.parse(clip.endAt);

  useEffect(() => {
    const ctl = new AbortController();
    let url: string | null = null;
    setSrc(null);
    setError(null);
    fetch(`/api/v1/clips/${encodeURIComponent(clip.id)}/video.mp4`, { credentials: 'same-origin', signal: ctl.signal })
      .then(async (res) => {
        if (!res.ok) throw new Error(`the clip could not be loaded (${res.status})`);
        url = URL.createObjectURL(await res.blob());
        setSrc(url);
      })
      .catch((err: Error) => {
        if (!ctl.signal.aborted) setError(err.message);
      });
    call('cameraDetections', { params: { id: cameraId }, query: { from: String(start), to: String(end) }, signal: ctl.signal })
      .then((r) => setFrames(r.frames))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setError(err instanceof ApiError ? `detections: ${err.message}` : 'detections could not be loaded');
      });
    return () => {
      ctl.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [clip.id, cameraId, start, end]);

  const draw = useCallback(() => {
    const v = video.current;
    const c = canvas.current;
    if (!v || !c) return;
    const t = start + v.currentTime * 1000;
    setNow(t);
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    const g = c.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, w, h);
    let boxes = 0;
    const pic = containedRect(w, h, v.videoWidth, v.videoHeight);
    // Privacy masks cover their area whatever the overlay setting: the clip itself is the
    // unaltered recording (evidence), so the console hides them when it shows it.
    g.fillStyle = 'rgb(60,64,72)';
    for (const z of zones) {
      if (z.kind !== 'privacy' || !z.polygon) continue;
      g.beginPath();
      z.polygon.forEach(([x, y], i) =>
        i === 0 ? g.moveTo(pic.x + x * pic.width, pic.y + y * pic.height) : g.lineTo(pic.x + x * pic.width, pic.y + y * pic.height),
      );
      g.closePath();
      g.fill();
    }
    if (overlay) {
      g.lineWidth = 2;
      for (const z of zones) {
        // Masks are no rule's zone: privacy is covered above, a motion mask only tunes the detector.
        if (!z.polygon || isMaskKind(z.kind)) continue;
        g.strokeStyle =
          z.kind === 'operator' ? 'rgba(229,72,77,0.9)' : z.kind === 'crowding' ? 'rgba(245,165,36,0.9)' : 'rgba(76,194,255,0.9)';
        g.setLineDash([6, 4]);
        g.beginPath();
        z.polygon.forEach(([x, y], i) =>
          i === 0 ? g.moveTo(pic.x + x * pic.width, pic.y + y * pic.height) : g.lineTo(pic.x + x * pic.width, pic.y + y * pic.height),
        );
        g.closePath();
        g.stroke();
      }
      g.setLineDash([]);
      const f = frameAt(frames, t);
      g.font = '12px system-ui, sans-serif';
      for (const tr of f?.tracks ?? []) {
        const r = boxToRect(tr.box, pic);
        const subject = marking?.subjects.has(tr.id) ?? false;
        g.strokeStyle = trackColour(tr.id);
        g.lineWidth = subject ? 4 : 2;
        g.strokeRect(r.x, r.y, r.width, r.height);
        g.fillStyle = trackColour(tr.id);
        g.fillText(`#${tr.id} ${(tr.score * 100).toFixed(0)}%${subject ? ' · subject' : ''}`, r.x + 2, Math.max(12, r.y - 3));
        boxes++;
      }
    }
    c.dataset.boxes = String(boxes);
  }, [frames, overlay, start, zones, marking]);

  /** The people of the clip: each track id with the time it is first seen. */
  const people = useMemo(() => {
    const first = new Map<number, number>();
    for (const f of frames) for (const tr of f.tracks) if (!first.has(tr.id)) first.set(tr.id, f.t);
    return [...first.entries()].sort((a, b) => a[1] - b[1]).map(([id, t]) => ({ id, t }));
  }, [frames]);

  /** A click on the picture marks the person whose box is under it (the smallest, if boxes overlap). */
  const onStageClick = (e: ReactMouseEvent<HTMLDivElement>): void => {
    const v = video.current;
    if (!marking || !v) return;
    const stage = e.currentTarget.getBoundingClientRect();
    const pic = containedRect(stage.width, stage.height, v.videoWidth, v.videoHeight);
    const x = e.clientX - stage.left;
    const y = e.clientY - stage.top;
    const f = frameAt(frames, start + v.currentTime * 1000);
    const hits = (f?.tracks ?? [])
      .map((tr) => ({ tr, r: boxToRect(tr.box, pic) }))
      .filter(({ r }) => x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height)
      .sort((a, b) => a.r.width * a.r.height - b.r.width * b.r.height);
    if (hits[0]) marking.onToggle(hits[0].tr.id);
  };

  // Redraw on every presented frame while playing, and on seeks while paused.
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    let raf = 0;
    const loop = (): void => {
      draw();
      if (!v.paused) raf = requestAnimationFrame(loop);
    };
    const onPlay = (): void => {
      setPlaying(true);
      raf = requestAnimationFrame(loop);
    };
    const onPause = (): void => {
      setPlaying(false);
      cancelAnimationFrame(raf);
      draw();
    };
    v.addEventListener('play', onPlay);
    v.addEventListener('pause', onPause);
    v.addEventListener('seeked', draw);
    v.addEventListener('loadeddata', draw);
    draw();
    return () => {
      cancelAnimationFrame(raf);
      v.removeEventListener('play', onPlay);
      v.removeEventListener('pause', onPause);
      v.removeEventListener('seeked', draw);
      v.removeEventListener('loadeddata', draw);
    };
  }, [draw, src]);

  useEffect(() => {
    if (video.current) video.current.playbackRate = speed;
  }, [speed, src]);

  const toggle = (): void => {
    const v = video.current;
    if (!v) return;
    if (v.paused) void v.play();
    else v.pause();
  };
  const step = (dir: 1 | -1): void => {
    const v = video.current;
    if (!v) return;
    v.pause();
    v.currentTime = Math.min(Math.max(0, v.currentTime + dir * STEP_S), v.duration || 0);
  };
  const seekTo = (t: number): void => {
    const v = video.current;
    if (v) v.currentTime = Math.max(0, (t - start) / 1000);
  };
  const onKey = (e: KeyboardEvent): void => {
    if (e.key === ' ') toggle();
    else if (e.key === ',' || e.key === 'ArrowLeft') step(-1);
    else if (e.key === '.' || e.key === 'ArrowRight') step(1);
    else if (e.key === '[') setSpeed((s) => SPEEDS[Math.max(0, SPEEDS.indexOf(s as (typeof SPEEDS)[number]) - 1)]!);
    else if (e.key === ']') setSpeed((s) => SPEEDS[Math.min(SPEEDS.length - 1, SPEEDS.indexOf(s as (typeof SPEEDS)[number]) + 1)]!);
    else return;
    e.preventDefault();
  };

  return (
    <div
      className="clip-player"
      data-testid="clip-player"
      tabIndex={0}
      onKeyDown={onKey}
      aria-label="Clip player: space plays or pauses, comma and period step a frame, [ and ] change speed"
    >
      <div className={`clip-stage${marking ? ' marking' : ''}`} onClick={onStageClick} data-testid="clip-stage">
        {src ? (
          <video ref={video} src={src} className="clip-video" muted playsInline preload="auto" data-testid="clip-video" />
        ) : (
          <div className="clip-loading">{error ?? 'Loading the clip…'}</div>
        )}
        <canvas ref={canvas} className="clip-overlay" data-testid="overlay-canvas" aria-hidden="true" />
      </div>
      <div
        className="clip-timeline"
        data-testid="clip-timeline"
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          seekTo(start + ((e.clientX - r.left) / r.width) * (end - start));
        }}
      >
        {alerts.map((a) => (
          <span
            key={a.id}
            className={`clip-mark kind-${a.kind}`}
            title={`${a.kind} alert at ${clock(a.startedAt)}`}
            style={{
              left: `${timelinePos(a.startedAt, start, end) * 100}%`,
              width: `${Math.max(0.6, (timelinePos(a.endedAt ?? a.startedAt, start, end) - timelinePos(a.startedAt, start, end)) * 100)}%`,
            }}
          />
        ))}
        <span className="clip-cursor" style={{ left: `${timelinePos(now, start, end) * 100}%` }} />
      </div>
      <div className="clip-controls">
        <button type="button" onClick={() => step(-1)} title="Previous frame (,)">
          ◀︎ Frame
        </button>
        <button type="button" onClick={toggle} data-testid="clip-play">
          {playing ? 'Pause' : 'Play'}
        </button>
        <button type="button" onClick={() => step(1)} title="Next frame (.)">
          Frame ▶︎
        </button>
        <label>
          Speed{' '}
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="Playback speed">
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={overlay} onChange={(e) => setOverlay(e.target.checked)} /> Detections
        </label>
        <span className="clip-clock" data-testid="clip-clock">
          {now ? clock(now) : '—'}
        </span>
        <span className="muted">
          {frames.length} analysed frames · SHA-256 <code title={clip.sha256}>{clip.sha256.slice(0, 12)}…</code>
        </span>
      </div>
      {marking && people.length > 0 && (
        <fieldset className="clip-people" data-testid="clip-people">
          <legend>
            People in this clip <span className="muted">(subjects stay visible in a public copy; click a box or tick here)</span>
          </legend>
          {people.map((p) => (
            <label key={p.id} style={{ color: trackColour(p.id) }}>
              <input
                type="checkbox"
                checked={marking.subjects.has(p.id)}
                onChange={() => {
                  marking.onToggle(p.id);
                  seekTo(p.t);
                }}
                data-testid={`subject-${p.id}`}
              />{' '}
              #{p.id} <span className="muted">from {clock(p.t)}</span>
            </label>
          ))}
        </fieldset>
      )}
      {error && src && <p className="clip-error">{error}</p>}
    </div>
  );
}
