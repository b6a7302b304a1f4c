import type { DetectionFrame } from '../../../contract';

/**
 * Pure helpers for drawing stored detections over a clip. Kept free of the DOM so they are
 * unit-tested: which stored frame belongs to the video's current time, and where the
 * video's picture actually sits inside its element (object-fit: contain letterboxes it).
 */

/** The stored frame nearest to `t` (ms), if one is within `maxGapMs`; frames sorted by t. */
export function frameAt(frames: readonly DetectionFrame[], t: number, maxGapMs = 400): DetectionFrame | null {
  if (frames.length === 0) return null;
  let lo = 0;
  let hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  let best = frames[lo]!;
  const prev = frames[lo - 1];
  if (prev && Math.abs(prev.t - t) < Math.abs(best.t - t)) best = prev;
  return Math.abs(best.t - t) <= maxGapMs ? best : null;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The picture's rectangle inside an element of the given size (contain, centred). */
export function containedRect(elementW: number, elementH: number, videoW: number, videoH: number): Rect {
  if (videoW <= 0 || videoH <= 0 || elementW <= 0 || elementH <= 0) return { x: 0, y: 0, width: elementW, height: elementH };
  const scale = Math.min(elementW / videoW, elementH / videoH);
  const width = videoW * scale;
  const height = videoH * scale;
  return { x: (elementW - width) / 2, y: (elementH - height) / 2, width, height };
}

/** A normalised [x1,y1,x2,y2] box in element pixels. */
export function boxToRect(box: readonly [number, number, number, number], pic: Rect): Rect {
  return {
    x: pic.x + box[0] * pic.width,
    y: pic.y + box[1] * pic.height,
    width: (box[2] - box[0]) * pic.width,
    height: (box[3] - box[1]) * pic.height,
  };
}

/** Position (0..1) of a time on a timeline from `start` to `end` (ms), clamped. */
export function timelinePos(t: number, start: number, end: number): number {
  if (end <= start) return 0;
  return Math.min(1, Math.max(0, (t - start) / (end - start)));
}

/** Stable colour per track id, so a person keeps their colour through the clip. */
export function trackColour(id: number): string {
  const hue = (id * 137.508) % 360;
  return `hsl(${hue.toFixed(0)} 85% 60%)`;
}
