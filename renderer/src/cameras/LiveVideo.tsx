import { useEffect, useRef, useState } from 'react';
import type { Camera } from '../../../contract';
import { LivePlayer, liveSocketUrl, type LiveStats } from './livePlayer';
import { PrivacyMaskOverlay, usePrivacyMasks } from './PrivacyMasks';

function statsLine(s: LiveStats): string {
  if (s.state !== 'playing') return s.message ?? 'Connecting…';
  const delay = s.delayMs === null ? '' : ` · ${(s.delayMs / 1000).toFixed(2)} s behind`;
  return `${s.width}×${s.height} · ${s.fps.toFixed(1)} fps${delay}`;
}

/**
 * A camera's live video at its own size and frame rate (fMP4 over WebSocket into MSE), with
 * the player's delay, size and rate under it. The stats are also on the element as data
 * attributes, for the end-to-end tests and the benchmark.
 */
export function LiveVideo({ camera, className, query = '' }: { camera: Camera; className: string; query?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  const [stats, setStats] = useState<LiveStats | null>(null);
  const masks = usePrivacyMasks(camera.id);
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    const p = new LivePlayer(v, liveSocketUrl(camera.id, query), setStats);
    return () => p.close();
  }, [camera.id, query]);
  return (
    <div className={`cam-live-wrap ${className}`}>
      <video
        ref={ref}
        className="cam-video"
        data-testid="live-video"
        data-state={stats?.state ?? 'connecting'}
        data-delay-ms={stats?.delayMs ?? ''}
        data-fps={stats?.fps ?? 0}
        aria-label={`Live video of ${camera.name}`}
        muted
        playsInline
      />
      <PrivacyMaskOverlay masks={masks} width={stats?.width ?? 0} height={stats?.height ?? 0} />
      <span className="cam-live-stats" data-testid="live-stats">
        {stats ? statsLine(stats) : 'Connecting…'}
      </span>
    </div>
  );
}
