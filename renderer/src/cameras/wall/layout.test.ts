import { describe, expect, it } from 'vitest';
import { DEFAULT_WALL_PREFS, type Alert, type Incident, type WallGroup } from '../../../../contract';
import { arrange, columns, groupCameras, spotlightAlert, swap } from './layout';

const alert = (id: string, cameraId: string, startedAt: string): Alert => ({
  id,
  kind: 'fight',
  cameraId,
  cameraName: cameraId,
  zoneId: null,
  zoneName: null,
  score: 0.9,
  startedAt,
  endedAt: null,
  snapshotUrl: null,
  trackIds: [],
  detail: {},
  scope: { placement: null, district: null, lines: [], routes: [] },
});

const groups: WallGroup[] = [
  { kind: 'all', id: null, label: 'All cameras', cameraIds: ['a', 'b', 'c'] },
  { kind: 'station', id: '40380', label: 'Clark/Lake', cameraIds: ['a', 'b'] },
  { kind: 'district', id: '1', label: 'District 1', cameraIds: ['a'] },
];

describe('video wall layout', () => {
  it('has square layouts', () => {
    expect([1, 4, 9, 16].map((n) => columns(n as 1 | 4 | 9 | 16))).toEqual([1, 2, 3, 4]);
  });

  it('resolves groups, "my district" through the chosen district', () => {
    expect(groupCameras(groups, DEFAULT_WALL_PREFS)).toEqual(['a', 'b', 'c']);
    expect(groupCameras(groups, { ...DEFAULT_WALL_PREFS, group: { kind: 'station', id: '40380' } })).toEqual(['a', 'b']);
    expect(groupCameras(groups, { ...DEFAULT_WALL_PREFS, group: { kind: 'station', id: 'gone' } })).toEqual([]);
    expect(groupCameras(groups, { ...DEFAULT_WALL_PREFS, group: { kind: 'my-district', id: null } })).toBeNull();
    expect(groupCameras(groups, { ...DEFAULT_WALL_PREFS, group: { kind: 'my-district', id: null }, myDistrict: '1' })).toEqual(['a']);
  });

  it('keeps the dragged order, skips unknown cameras, appends the rest by name', () => {
    const names: Record<string, string> = { a: 'Zulu', b: 'Alpha', c: 'Mike' };
    expect(arrange(['a', 'b', 'c'], [], (id) => names[id]!)).toEqual(['b', 'c', 'a']);
    expect(arrange(['a', 'b', 'c'], ['c', null, 'gone', 'a', 'c'], (id) => names[id]!)).toEqual(['c', 'a', 'b']);
    expect(swap(['x', 'y', 'z'], 0, 2)).toEqual(['z', 'y', 'x']);
    expect(swap(['x', 'y'], 0, 5)).toEqual(['x', 'y']);
  });

  it('spotlights the newest alert nobody acknowledged', () => {
    const alerts = [
      alert('n3', 'c', '2026-12-02T01:03:00Z'),
      alert('n2', 'b', '2026-12-02T01:02:00Z'),
      alert('n1', 'a', '2026-12-02T01:01:00Z'),
    ];
    const all = (): boolean => true;
    expect(spotlightAlert(alerts, new Map(), [], all)?.id).toBe('n3');
    const acks = new Map([['n3', [{ alertId: 'n3', by: 'ann', role: 'operator', at: 'now' }]]]);
    expect(spotlightAlert(alerts, acks, [], all)?.id).toBe('n2');
    const inc = { alertIds: ['n2'], state: 'acknowledged' } as unknown as Incident;
    expect(spotlightAlert(alerts, acks, [inc], all)?.id).toBe('n1');
    expect(spotlightAlert(alerts, acks, [inc], (id) => id !== 'a')).toBeNull();
  });
});
