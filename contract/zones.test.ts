import { describe, expect, it } from 'vitest';
import { formatZoneIssue, motionMasks, pointInPolygon, polygonProblems, privacyMasks, selfIntersection, ZonesFile } from './zones';

function problem(raw: unknown): string | null {
  const r = ZonesFile.safeParse(raw);
  return r.success ? null : formatZoneIssue(r.error, raw);
}

const square: [number, number][] = [
  [0.1, 0.1],
  [0.5, 0.1],
  [0.5, 0.5],
  [0.1, 0.5],
];

describe('zone validation', () => {
  it('accepts a valid file with a whole-frame zone and a seat exclusion', () => {
    expect(
      problem({
        zones: [
          { id: 'platform', kind: 'crowding', polygon: square, capacity: 5 },
          { id: 'all', kind: 'watch' },
          {
            id: 'cab',
            kind: 'operator',
            polygon: square,
            exclude: [
              [
                [0.1, 0.1],
                [0.2, 0.1],
                [0.2, 0.2],
              ],
            ],
          },
        ],
      }),
    ).toBeNull();
  });

  it('names the zone and the point that lies outside the frame', () => {
    expect(
      problem({
        zones: [
          {
            id: 'door',
            kind: 'operator',
            polygon: [
              [0.1, 0.1],
              [1.2, 0.1],
              [0.5, 0.5],
            ],
          },
        ],
      }),
    ).toBe('zones[0] ("door").polygon: polygon point 2 (1.2, 0.1) is outside the frame; coordinates are normalised to 0..1');
  });

  it('rejects polygons with fewer than three points, empty ones and degenerate ones', () => {
    expect(problem({ zones: [{ id: 'a', kind: 'watch', polygon: [] }] })).toContain('needs at least 3 points, has 0');
    expect(
      problem({
        zones: [
          {
            id: 'a',
            kind: 'watch',
            polygon: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      }),
    ).toContain('needs at least 3 points, has 2');
    expect(
      problem({
        zones: [
          {
            id: 'a',
            kind: 'watch',
            polygon: [
              [0, 0],
              [0.5, 0.5],
              [1, 1],
            ],
          },
        ],
      }),
    ).toContain('is degenerate');
    expect(
      problem({
        zones: [
          {
            id: 'a',
            kind: 'watch',
            polygon: [
              [0, 0],
              [0, 0],
              [1, 1],
            ],
          },
        ],
      }),
    ).toContain('points 1 and 2 are the same point');
  });

  it('rejects a self-intersecting (bow-tie) polygon', () => {
    const bowtie: [number, number][] = [
      [0.1, 0.1],
      [0.5, 0.5],
      [0.5, 0.1],
      [0.1, 0.5],
    ];
    expect(selfIntersection(bowtie)).not.toBeNull();
    expect(problem({ zones: [{ id: 'x', kind: 'watch', polygon: bowtie }] })).toBe(
      'zones[0] ("x").polygon: polygon crosses itself (edge 1 crosses edge 3)',
    );
    expect(selfIntersection(square)).toBeNull();
  });

  it('requires a whole, positive capacity on crowding zones', () => {
    expect(problem({ zones: [{ id: 'p', kind: 'crowding', polygon: square }] })).toContain('a crowding zone needs a capacity');
    expect(problem({ zones: [{ id: 'p', kind: 'crowding', polygon: square, capacity: 0 }] })).toBe(
      'zones[0] ("p").capacity: capacity must be a whole number above 0, got 0',
    );
    expect(problem({ zones: [{ id: 'p', kind: 'crowding', polygon: square, capacity: -3 }] })).toContain('got -3');
    expect(problem({ zones: [{ id: 'p', kind: 'crowding', polygon: square, capacity: 2.5 }] })).toContain('got 2.5');
  });

  it('takes privacy masks only with a polygon, and lists them apart from the rule zones', () => {
    expect(problem({ zones: [{ id: 'window', kind: 'privacy' }] })).toBe(
      'zones[0] ("window").polygon: a privacy mask needs a polygon (the area to hide), not the whole frame',
    );
    const f = ZonesFile.parse({
      zones: [
        { id: 'window', kind: 'privacy', polygon: square },
        { id: 'platform', kind: 'watch' },
      ],
    });
    expect(privacyMasks(f.zones)).toEqual([square]);
  });

  it('takes motion masks only with a polygon, and lists them apart from privacy masks and rule zones', () => {
    expect(problem({ zones: [{ id: 'clock', kind: 'motion-mask' }] })).toBe(
      'zones[0] ("clock").polygon: a motion mask needs a polygon (the area to ignore), not the whole frame',
    );
    const f = ZonesFile.parse({
      zones: [
        { id: 'clock', kind: 'motion-mask', polygon: square },
        { id: 'window', kind: 'privacy', polygon: square.map(([x, y]) => [x / 2, y / 2]) },
        { id: 'platform', kind: 'watch' },
      ],
    });
    expect(motionMasks(f.zones)).toEqual([square]);
    expect(privacyMasks(f.zones)).toHaveLength(1);
    expect(privacyMasks(f.zones)).not.toContainEqual(square);
  });

  it('rejects unknown kinds and keys, and duplicate ids', () => {
    expect(problem({ zones: [{ id: 'p', kind: 'lobby' }] })).toMatch(/^zones\[0\] \("p"\)\.kind: /);
    expect(problem({ zones: [{ id: 'p', kind: 'watch', colour: 'red' }] })).toBe('zones[0] ("p"): unknown key "colour"');
    expect(
      problem({
        zones: [
          { id: 'p', kind: 'watch' },
          { id: 'p', kind: 'watch' },
        ],
      }),
    ).toBe('zones[1] ("p").id: zone id "p" is used twice');
  });

  it('point in polygon and the problems helper agree with a hand-checked square', () => {
    expect(pointInPolygon([0.3, 0.3], square)).toBe(true);
    expect(pointInPolygon([0.6, 0.3], square)).toBe(false);
    expect(polygonProblems(square)).toBeNull();
  });
});
