import { describe, expect, it } from 'vitest';
import { IdentityLabels, scoreIdentities, trackAt, type IdentityFrame } from './identity';

const frame = (t: number, tracks: Array<[number, number]>): IdentityFrame => ({
  t,
  tracks: tracks.map(([id, x]) => ({ id, box: [x - 0.02, 0.3, x + 0.02, 0.5] as const })),
});

describe('identity scoring', () => {
  it('finds the track holding a point, the nearest of overlapping boxes, none when far', () => {
    const f = frame(0, [
      [1, 0.5],
      [2, 0.53],
    ]);
    expect(trackAt(f, 0.505, 0.4)).toBe(1);
    expect(trackAt(f, 0.53, 0.4)).toBe(2);
    expect(trackAt(f, 0.9, 0.4)).toBeNull();
  });

  it('counts a switch when a followed person changes id, and an id given to two people as merged', () => {
    const labels = IdentityLabels.parse({
      video: 'v',
      description: 'd',
      people: [
        { id: 'a', points: [0, 1, 2].map((t) => ({ t, x: 0.2 + t * 0.1, y: 0.4 })) },
        { id: 'b', points: [4, 5].map((t) => ({ t, x: 0.8, y: 0.4 })) },
      ],
    });
    const frames = [frame(0, [[1, 0.2]]), frame(1, [[1, 0.3]]), frame(2, [[2, 0.4]]), frame(4, [[2, 0.8]]), frame(5, [[2, 0.8]])];
    const s = scoreIdentities(frames, labels);
    expect(s.people.map((p) => [p.id, p.trackIds, p.switches])).toEqual([
      ['a', [1, 2], 1],
      ['b', [2], 0],
    ]);
    expect(s.switches).toBe(1);
    expect(s.merged).toBe(1);
    expect(s.missed).toBe(0);
  });

  it('counts fragments per visit (tracks of 3+ frames) and a visit with no track as missed', () => {
    const labels = IdentityLabels.parse({
      video: 'v',
      description: 'd',
      visits: [
        { id: 'v1', from: 0, to: 10 },
        { id: 'v2', from: 10, to: 20 },
        { id: 'v3', from: 20, to: 30 },
      ],
    });
    const frames = [
      ...[0, 1, 2, 3].map((t) => frame(t, [[1, 0.5]])),
      ...[5, 6, 7].map((t) => frame(t, [[2, 0.5]])),
      frame(8, [[9, 0.5]]), // a one-frame blip is not a fragment
      ...[11, 12, 13].map((t) => frame(t, [[2, 0.5]])),
    ];
    const s = scoreIdentities(frames, labels);
    expect(s.visits.map((v) => v.trackIds)).toEqual([[1, 2], [2], []]);
    expect(s.fragments).toBe(1);
    expect(s.merged).toBe(1);
    expect(s.missed).toBe(1);
  });
});
