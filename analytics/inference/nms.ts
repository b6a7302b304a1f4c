/** A candidate box in any coordinate space: [x1, y1, x2, y2]. */
export interface Candidate {
  box: [number, number, number, number];
  score: number;
  classId: number;
}

export function iou(a: readonly number[], b: readonly number[]): number {
  const [ax1 = 0, ay1 = 0, ax2 = 0, ay2 = 0] = a;
  const [bx1 = 0, by1 = 0, bx2 = 0, by2 = 0] = b;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression per class: the best-scoring box of a class suppresses the
 * boxes of the same class overlapping it by more than `iouThreshold`. Returns at most
 * `maxDetections`, best first.
 */
export function nms(cands: Candidate[], iouThreshold: number, maxDetections: number): Candidate[] {
  const sorted = [...cands].sort((a, b) => b.score - a.score);
  const kept: Candidate[] = [];
  const removed = new Uint8Array(sorted.length);
  for (let i = 0; i < sorted.length && kept.length < maxDetections; i++) {
    if (removed[i]) continue;
    const a = sorted[i];
    if (!a) continue;
    kept.push(a);
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j];
      if (!removed[j] && b && b.classId === a.classId && iou(a.box, b.box) > iouThreshold) removed[j] = 1;
    }
  }
  return kept;
}
