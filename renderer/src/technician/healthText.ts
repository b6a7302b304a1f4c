import type { CameraHealth, CameraReidHealth } from '../../../contract';

type Live = NonNullable<CameraHealth['live']>;

/** How a line of camera health reads, and whether it is a problem (shown in the warning colour). */
export interface HealthText {
  text: string;
  /** The longer form: a sentence, for a tooltip or a detail row. */
  title: string;
  problem: boolean;
}

/**
 * Re-identification on a camera, beside its detector and gating figures: on, with how many
 * tracks it gave back since analytics started; off; or off because its model failed (why).
 */
export function reidText(r: CameraReidHealth): HealthText {
  if (r.enabled) {
    const n = r.reassociated === 1 ? '1 track re-associated' : `${r.reassociated} tracks re-associated`;
    return {
      text: `re-ID on · ${n}`,
      title: `Re-identification with ${r.model ?? 'its model'}: ${n} after an occlusion, ${r.refused} look-alike candidates refused, ${r.embeddings} crops embedded since analytics started`,
      problem: false,
    };
  }
  if (r.error) return { text: `re-ID failed: ${r.error}`, title: `Re-identification is configured but off: ${r.error}`, problem: true };
  return { text: 're-ID off', title: 'Re-identification is off (analytics.reid.enabled)', problem: false };
}

const STATE: Record<Live['state'], string> = {
  live: 'live',
  connecting: 'connecting',
  offline: 'offline',
  disabled: 'stopped',
  idle: 'none open',
};

function seconds(iso: string, now: number): number {
  return Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000));
}

/**
 * The core's own RTSP session on a camera an analytics node runs (opened while anyone watches),
 * or null for a camera this core runs itself (its one session is the camera's `live` line).
 */
export function viewerSessionText(live: Live | undefined, now = Date.now()): HealthText | null {
  if (!live || live.session !== 'viewers') return null;
  if (live.state === 'idle')
    return {
      text: 'none open (nobody watches)',
      title: 'The core opens its own RTSP session on this camera while someone watches it live, and closes it 5 s after the last viewer',
      problem: false,
    };
  // Most telling first (a camera row cuts the line short): its state, whom it feeds, when it closes or why it failed.
  const parts = [STATE[live.state], live.consumers === 1 ? '1 viewer' : `${live.consumers} viewers`];
  if (live.closesAt) parts.push(`closes in ${seconds(live.closesAt, now)} s`);
  if (live.state !== 'live' && live.lastError) parts.push(live.lastError);
  if (live.state === 'live') parts.push(live.codec ?? '—', `${live.fps.toFixed(1)} fps`, `${live.kbps} kbit/s`);
  return {
    text: parts.join(' · '),
    title: `The core's own RTSP session on this camera, for its live viewers (the analytics node holds another)${live.lastError ? `; last error: ${live.lastError}` : ''}`,
    problem: live.state === 'offline' || (live.state !== 'live' && live.lastError !== null),
  };
}
