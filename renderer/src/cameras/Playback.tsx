import { useEffect, useMemo, useState } from 'react';
import type { Alert, Camera, RecordingSpans } from '../../../contract';
import { useAlerts } from '../alerts/useAlerts';
import { ApiError, call } from '../client/api';
import { clockTime } from '../shell/time';

/** Alert jumps start a little before the alert, to see what led up to it. */
export const ALERT_LEAD_MS = 5000;
/** A scrub is committed once the handle rests this long (dragging does not open a socket per pixel). */
const SCRUB_SETTLE_MS = 350;

const KIND_LABEL: Record<string, string> = { fight: 'Fight', crowding: 'Crowding', barrier: 'Zone breach', 'rider-report': 'Rider text' };

/** The camera's recorded spans, refreshed while the panel is open (the recording grows, retention trims). */
function useRecording(cameraId: string): { spans: RecordingSpans | null; problem: string | null } {
  const [spans, setSpans] = useState<RecordingSpans | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    const load = (): void => {
      call('cameraRecording', { params: { id: cameraId } })
        .then((r) => {
          if (gone) return;
          setSpans(r);
          setProblem(null);
        })
        .catch((err: unknown) => !gone && setProblem(err instanceof ApiError ? err.message : 'the core did not answer'));
    };
    load();
    const t = setInterval(load, 10_000);
    return () => {
      gone = true;
      clearInterval(t);
    };
  }, [cameraId]);
  return { spans, problem };
}

/**
 * The camera panel's playback bar: a scrub bar over the rolling recording (drag back, the
 * video follows from that moment through the same player), the camera's alerts to jump to,
 * and the way back to live. `at` is the playback start (undefined: live); `position` is the
 * recorded moment on screen, from the player.
 */
export function PlaybackBar({
  camera,
  at,
  position,
  onSeek,
}: {
  camera: Camera;
  at: number | undefined;
  position: number | null;
  onSeek: (at: number | undefined) => void;
}) {
  const { spans, problem } = useRecording(camera.id);
  const { alerts } = useAlerts();
  const [draft, setDraft] = useState<number | null>(null);
  const first = spans?.spans[0];
  const min = first ? Date.parse(first.from) : null;
  const max = spans ? Date.parse(spans.now) : Date.now();
  // Playback can start up to the end of the newest finished segment (the one being written is not indexed yet).
  const lastEnd = spans?.spans.at(-1) ? Date.parse(spans.spans.at(-1)!.to) : max;
  const jumps = useMemo(
    () => alerts.filter((a: Alert) => a.cameraId === camera.id && min !== null && Date.parse(a.startedAt) >= min).slice(0, 6),
    [alerts, camera.id, min],
  );
  // A resting handle is a seek.
  useEffect(() => {
    if (draft === null) return;
    const t = setTimeout(() => {
      // The right end of the bar is now: dropping the handle there is live.
      onSeek(draft >= lastEnd - 1000 ? undefined : Math.max(min ?? draft, draft));
      setDraft(null);
    }, SCRUB_SETTLE_MS);
    return () => clearTimeout(t);
  }, [draft, onSeek, lastEnd, min]);

  if (!camera.recordingEnabled) return <div className="cam-playback muted">Recording is off for this camera: live only.</div>;
  if (problem) return <div className="cam-playback cam-error">Recording unavailable: {problem}</div>;
  if (min === null) return <div className="cam-playback muted">Nothing recorded yet: the first segment appears within a few seconds.</div>;
  const value = draft ?? (at === undefined ? max : (position ?? at));
  const seek = (t: number): void => onSeek(Math.max(min, Math.min(lastEnd - 2000, t)));
  return (
    <div className="cam-playback" data-testid="playback-bar" data-mode={at === undefined ? 'live' : 'playback'}>
      <div className="cam-playback-row">
        <span className={`cam-mode ${at === undefined ? 'cam-mode-live' : 'cam-mode-rec'}`} data-testid="playback-mode">
          {at === undefined ? 'LIVE' : `REPLAY ${clockTime(value)}`}
        </span>
        <input
          type="range"
          className="cam-scrub"
          aria-label={`Scrub through the recording of ${camera.name}`}
          data-testid="playback-scrub"
          min={min}
          max={max}
          step={1000}
          value={value}
          onChange={(e) => setDraft(Number(e.target.value))}
        />
        <button type="button" className="ghost-button" onClick={() => seek((at === undefined ? max : (position ?? at)) - 30_000)}>
          −30 s
        </button>
        <button
          type="button"
          className="ghost-button"
          data-testid="playback-live"
          disabled={at === undefined}
          onClick={() => onSeek(undefined)}
        >
          Back to live
        </button>
      </div>
      <div className="cam-playback-row muted">
        <span>
          Recorded {clockTime(min)} – {clockTime(max)}
        </span>
        {jumps.map((a) => (
          <button
            key={a.id}
            type="button"
            className="ghost-button cam-jump"
            data-testid="playback-alert"
            title={`Replay from ${ALERT_LEAD_MS / 1000} s before the alert`}
            onClick={() => seek(Date.parse(a.startedAt) - ALERT_LEAD_MS)}
          >
            {KIND_LABEL[a.kind] ?? a.kind} {clockTime(a.startedAt)}
          </button>
        ))}
      </div>
    </div>
  );
}
