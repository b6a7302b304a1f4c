import { useEffect, useRef, useState } from 'react';
import type { Camera } from '../../../contract';
import { clockTime } from '../shell/time';
import { LivePlayer, liveSocketUrl, playbackSocketUrl, type LiveStats } from './livePlayer';
import { PrivacyMaskOverlay, usePrivacyMasks } from './PrivacyMasks';

function statsLine(s: LiveStats, playback: boolean): string {
  if (s.state !== 'playing') return s.message ?? 'Connecting…';
  if (playback)
    return `Recording · ${s.shownAt === null ? '…' : clockTime(new Date(s.shownAt).toISOString())} · ${s.width}×${s.height} · ${s.fps.toFixed(1)} fps`;
  const delay = s.delayMs === null ? '' : ` · ${(s.delayMs / 1000).toFixed(2)} s behind`;
  return `${s.width}×${s.height} · ${s.fps.toFixed(1)} fps${delay}`;
}

/**
 * A camera's live video at its own size and frame rate (fMP4 over WebSocket into MSE), with
 * the player's delay, size and rate under it. The stats are also on the element as data
 * attributes, for the end-to-end tests and the benchmark.
 */
export function LiveVideo({
  camera,
  className,
  query = '',
  playbackAt,
  onEnded,
  onStats,
}: {
  camera: Camera;
  className: string;
  query?: string;
  /** Play the recording from this moment (ms since epoch) instead of live. */
  playbackAt?: number | undefined;
  onEnded?: () => void;
  onStats?: (s: LiveStats) => void;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  const [stats, setStats] = useState<LiveStats | null>(null);
  const ended = useRef(onEnded);
  ended.current = onEnded;
  const statsOut = useRef(onStats);
  statsOut.current = onStats;
  const masks = usePrivacyMasks(camera.id);
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    setStats(null);
    const url = playbackAt === undefined ? liveSocketUrl(camera.id, query) : playbackSocketUrl(camera.id, playbackAt);
    const p = new LivePlayer(
      v,
      url,
      (st) => {
        setStats(st);
        statsOut.current?.(st);
      },
      { onEnded: () => ended.current?.() },
    );
    return () => p.close();
  }, [camera.id, query, playbackAt]);
  const playback = playbackAt !== undefined;
  return (
    <div className={`cam-live-wrap ${className}`}>
      <video
        ref={ref}
        className="cam-video"
        data-testid="live-video"
        data-state={stats?.state ?? 'connecting'}
        data-delay-ms={stats?.delayMs ?? ''}
        data-mode={playback ? 'playback' : 'live'}
        data-shown-at={stats?.shownAt ?? ''}
        data-clock={stats?.clock ? JSON.stringify(stats.clock) : ''}
        data-fps={stats?.fps ?? 0}
        aria-label={`${playback ? 'Recording' : 'Live video'} of ${camera.name}`}
        muted
        playsInline
      />
      <PrivacyMaskOverlay masks={masks} width={stats?.width ?? 0} height={stats?.height ?? 0} />
      <span className="cam-live-stats" data-testid="live-stats">
        {stats ? statsLine(stats, playback) : 'Connecting…'}
      </span>
    </div>
  );
}
