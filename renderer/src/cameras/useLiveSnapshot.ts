import { useEffect, useState } from 'react';
import { cameraPath, cameraRoutes, type Camera } from '../../../contract';

export interface LiveSnapshot {
  /** The newest loaded frame's URL (null until one has loaded). */
  src: string | null;
  /** Its natural size in pixels. */
  size: [number, number] | null;
  /** The last load failed, or the camera has no frames (not live). */
  failed: boolean;
  live: boolean;
}

/**
 * A camera's newest analysis frame (JPEG from the core), refreshed every `everyMs` while the
 * camera has frames and `active` (on screen). The next image loads off-screen and is swapped in when complete, so a
 * view never flashes empty between frames; a camera without frames is not asked (that would
 * be a 503 the browser logs).
 */
export function useLiveSnapshot(camera: Camera, everyMs: number, active = true): LiveSnapshot {
  const [src, setSrc] = useState<string | null>(null);
  const [size, setSize] = useState<[number, number] | null>(null);
  const [failed, setFailed] = useState(false);
  const live = camera.health.state === 'live' || camera.health.state === 'stalled';
  useEffect(() => {
    if (!live || !active) return;
    let stop = false;
    const base = cameraPath(cameraRoutes.cameraSnapshot.path, camera.id);
    const load = (): void => {
      const img = new Image();
      const url = `${base}?t=${Date.now()}`;
      img.onload = () => {
        if (stop) return;
        setSrc(url);
        setSize([img.naturalWidth, img.naturalHeight]);
        setFailed(false);
      };
      img.onerror = () => !stop && setFailed(true);
      img.src = url;
    };
    load();
    const timer = setInterval(load, everyMs);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [camera.id, live, everyMs, active]);
  return { src, size, failed: failed || !live, live };
}
