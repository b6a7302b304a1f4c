import { describe, expect, it } from 'vitest';
import type { FrameLine } from './offline';
import { countMae, detectEntries, matchEntries } from './metrics';

const frame = (t: number, tracks: Array<[number, number]>): FrameLine => ({
  type: 'frame',
  t,
  people: tracks.length,
  // [id, feet y]: a box 0.1 wide centred at x = 0.5.
  tracks: tracks.map(([id, y]) => ({ id, box: [0.45, y - 0.2, 0.55, y] })),
  zones: {},
});

describe('eval metrics', () => {
  it('count MAE uses the frame nearest each labelled time', () => {
    const frames = [
      frame(0, []),
      frame(1, [[1, 0.9]]),
      frame(2, [
        [1, 0.9],
        [2, 0.9],
      ]),
    ];
    const r = countMae(
      frames,
      [
        { t: 1, people: 2 },
        { t: 2, people: 2 },
        { t: 9, people: 5 },
      ],
      (f) => f.people,
    );
    expect(r.n).toBe(2);
    expect(r.mae).toBe(0.5);
  });

  it('an entry needs two frames inside; leaving and coming back is a second entry', () => {
    const zone = {
      id: 'z',
      kind: 'watch' as const,
      polygon: [
        [0, 0.5],
        [1, 0.5],
        [1, 1],
        [0, 1],
      ] as [number, number][],
    };
    const ys = [0.3, 0.6, 0.7, 0.3, 0.6, 0.3, 0.6, 0.7];
    const frames = ys.map((y, i) => frame(i, [[1, y]]));
    expect(detectEntries(frames, [zone])).toEqual([
      { zone: 'z', t: 1 },
      { zone: 'z', t: 6 },
    ]);
  });

  it('matches entries one to one within the tolerance', () => {
    const truth = [
      { zone: 'z', t: 5 },
      { zone: 'z', t: 20 },
    ];
    expect(
      matchEntries(
        [
          { zone: 'z', t: 5.8 },
          { zone: 'z', t: 6 },
          { zone: 'x', t: 20 },
        ],
        truth,
        1.5,
      ),
    ).toEqual({ tp: 1, fp: 2, fn: 1 });
  });
});
