import { describe, expect, it } from 'vitest';
import { boxToRect, containedRect, frameAt, timelinePos, trackColour } from './overlay';

const frames = [100, 300, 500, 900].map((t) => ({ t, tracks: [] }));

describe('replay overlay geometry', () => {
  it('picks the stored frame nearest to the video time, or none when the gap is too large', () => {
    expect(frameAt(frames, 290)?.t).toBe(300);
    expect(frameAt(frames, 390)?.t).toBe(300);
    expect(frameAt(frames, 410)?.t).toBe(500);
    expect(frameAt(frames, 0)?.t).toBe(100);
    expect(frameAt(frames, 1400)).toBeNull();
    expect(frameAt([], 5)).toBeNull();
  });

  it('places normalised boxes on the letterboxed picture', () => {
    // A 4:3 video in a 16:9 element: pillarboxed, centred.
    const pic = containedRect(1600, 900, 768, 576);
    expect(pic).toEqual({ x: 200, y: 0, width: 1200, height: 900 });
    expect(boxToRect([0.5, 0.5, 1, 1], pic)).toEqual({ x: 800, y: 450, width: 600, height: 450 });
    expect(containedRect(100, 100, 0, 0)).toEqual({ x: 0, y: 0, width: 100, height: 100 });
  });

  it('maps times onto the timeline and keeps colours stable per track', () => {
    expect(timelinePos(15, 10, 20)).toBe(0.5);
    expect(timelinePos(5, 10, 20)).toBe(0);
    expect(timelinePos(25, 10, 20)).toBe(1);
    expect(trackColour(3)).toBe(trackColour(3));
    expect(trackColour(3)).not.toBe(trackColour(4));
  });
});
