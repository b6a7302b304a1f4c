import { useEffect, useState } from 'react';
import type { Point } from '../../../contract/zones';
import { call } from '../client/api';

/**
 * A camera's privacy masks, for the players to cover. Live video and clips reach the console
 * as the camera's own bits (no re-encoding: evidence and CPU), so the console draws the masks
 * over them; snapshots and public copies have them burned in by the core.
 */
export function usePrivacyMasks(cameraId: string): Point[][] {
  const [masks, setMasks] = useState<Point[][]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    setMasks([]);
    call('cameraPrivacyMasks', { params: { id: cameraId }, signal: ctl.signal }).then(
      (r) => setMasks(r.masks),
      () => undefined,
    );
    return () => ctl.abort();
  }, [cameraId]);
  return masks;
}

/**
 * Opaque polygons over a picture of `width` x `height` shown with object-fit: contain: the
 * SVG's viewBox in the picture's own pixels with "meet" letterboxes exactly as the video does.
 */
export function PrivacyMaskOverlay({ masks, width, height }: { masks: readonly Point[][]; width: number; height: number }) {
  if (masks.length === 0 || width <= 0 || height <= 0) return null;
  return (
    <svg
      className="privacy-masks"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="xMidYMid meet"
      aria-label={`${masks.length} privacy mask${masks.length === 1 ? '' : 's'}`}
      data-testid="privacy-masks"
    >
      {masks.map((m, i) => (
        <polygon key={i} points={m.map(([x, y]) => `${x * width},${y * height}`).join(' ')} />
      ))}
    </svg>
  );
}
