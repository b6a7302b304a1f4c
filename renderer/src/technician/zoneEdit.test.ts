import { describe, expect, it } from 'vitest';
import {
  spreadLabels,
  clampPoint,
  labelAnchor,
  movePoint,
  nextZoneId,
  removePoint,
  splitEdge,
  zoneIndexOfField,
  zoneProblems,
  type DraftZone,
} from './zoneEdit';

const square: [number, number][] = [
  [0.1, 0.1],
  [0.5, 0.1],
  [0.5, 0.5],
  [0.1, 0.5],
];

describe('zone editing helpers', () => {
  it('clamps clicks into the frame', () => {
    expect(clampPoint(-0.2, 1.3)).toEqual([0, 1]);
    expect(clampPoint(0.123456, 0.5)).toEqual([0.1235, 0.5]);
  });

  it('picks an unused id', () => {
    expect(nextZoneId([])).toBe('zone-1');
    expect(nextZoneId([{ id: 'zone-1' }, { id: 'zone-3' }])).toBe('zone-2');
  });

  it('reports the schema problems of each zone by index', () => {
    const zones: DraftZone[] = [
      { id: 'ok', kind: 'watch', polygon: square },
      { id: 'crowd', kind: 'crowding', polygon: square },
      { id: 'bow', kind: 'watch', polygon: [square[0]!, square[2]!, square[1]!, square[3]!] },
      {
        id: 'out',
        kind: 'watch',
        polygon: [
          [0.1, 0.1],
          [1.2, 0.1],
          [0.5, 0.5],
        ],
      },
    ];
    const p = zoneProblems(zones);
    expect(p.has(0)).toBe(false);
    expect(p.get(1)).toContain('a crowding zone needs a capacity');
    expect(p.get(2)).toContain('crosses itself');
    expect(p.get(3)).toContain('outside the frame');
    expect(
      zoneProblems([
        { id: 'a', kind: 'watch' },
        { id: 'a', kind: 'watch' },
      ]).get(1),
    ).toContain('used twice');
  });

  it('maps an API error field to the zone it names', () => {
    expect(zoneIndexOfField('zones.2.polygon')).toBe(2);
    expect(zoneIndexOfField('zones.0')).toBe(0);
    expect(zoneIndexOfField('name')).toBeNull();
    expect(zoneIndexOfField(undefined)).toBeNull();
  });

  it('moves, removes and inserts vertices', () => {
    expect(movePoint(square, 1, [0.6, 0.1])[1]).toEqual([0.6, 0.1]);
    expect(removePoint(square, 0)).toHaveLength(3);
    expect(removePoint(square.slice(0, 3), 0)).toHaveLength(3);
    expect(splitEdge(square, 0)).toEqual([
      [0.1, 0.1],
      [0.3, 0.1],
      [0.5, 0.1],
      [0.5, 0.5],
      [0.1, 0.5],
    ]);
    expect(
      labelAnchor([
        [0.3, 0.4],
        [0.2, 0.1],
        [0.6, 0.9],
      ]),
    ).toEqual([0.2, 0.1]);
  });
});

describe('spreadLabels', () => {
  it('moves a label that would print over another down a line, and leaves apart ones where they are', () => {
    const at = spreadLabels(
      [
        [0, 14],
        [0, 14],
        [300, 14],
        [0, 14],
      ],
      [120, 140, 100, 90],
      16,
    );
    expect(at).toEqual([
      [0, 14],
      [0, 30],
      [300, 14],
      [0, 46],
    ]);
  });

  it('lets labels side by side stay on one line when they do not touch', () => {
    expect(
      spreadLabels(
        [
          [0, 50],
          [130, 52],
        ],
        [120, 80],
      ),
    ).toEqual([
      [0, 50],
      [130, 52],
    ]);
  });
});
