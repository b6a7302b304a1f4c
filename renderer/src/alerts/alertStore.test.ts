import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../contract';
import { mergeAlert } from './alertStore';

const alert = (id: string, startedAt: string, endedAt: string | null = null): Alert => ({
  id,
  kind: 'crowding',
  cameraId: 'c',
  cameraName: 'C',
  zoneId: 'z',
  zoneName: 'Z',
  score: 1,
  startedAt,
  endedAt,
  snapshotUrl: null,
  trackIds: [],
  detail: {},
  scope: { placement: null, district: null, lines: [], routes: [] },
});

describe('mergeAlert', () => {
  it('keeps the newest first and replaces an alert seen again (cleared) in place', () => {
    let list = mergeAlert([], alert('a', '2026-01-01T10:00:00Z'));
    list = mergeAlert(list, alert('b', '2026-01-01T10:05:00Z'));
    list = mergeAlert(list, alert('a', '2026-01-01T10:00:00Z', '2026-01-01T10:09:00Z'));
    expect(list.map((a) => [a.id, a.endedAt])).toEqual([
      ['b', null],
      ['a', '2026-01-01T10:09:00Z'],
    ]);
  });
});
