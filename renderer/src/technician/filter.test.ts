import { describe, expect, it } from 'vitest';
import type { Camera, CameraMount, CameraState } from '../../../contract';
import { liveHealth, testCamera } from '../testing/camera';
import { filterCameras, NO_FILTER, stateCounts, urlHostPath } from './filter';

function cam(name: string, mount: CameraMount, state: CameraState = 'live', url = 'rtsp://cam.local:554/main'): Camera {
  return testCamera(name.toLowerCase().replace(/\W+/g, '-'), { name, mount, url, health: { ...liveHealth, state } });
}

const cams = [
  cam('Clark/Lake P1', { kind: 'station', stationId: '40380', platform: '1' }, 'live', 'rtsp://admin:***@10.1.2.3:554/stream1'),
  cam('Bus 8123 front', { kind: 'bus', vehicleId: '8123' }, 'offline'),
  cam('Railcar 3301', { kind: 'railcar', railcarId: '3301', line: 'Blue' }, 'stalled'),
  cam('Depot yard', { kind: 'other' }, 'disabled', 'rtsp://192.168.7.40/yard'),
];

describe('technician camera filter', () => {
  it('returns everything, sorted by name, with no filter', () => {
    expect(filterCameras(cams, NO_FILTER).map((c) => c.name)).toEqual(['Bus 8123 front', 'Clark/Lake P1', 'Depot yard', 'Railcar 3301']);
  });

  it('searches name, URL host and station name, but never the credentials', () => {
    const names = new Map([['40380', 'Clark/Lake']]);
    expect(filterCameras(cams, { ...NO_FILTER, text: '192.168.7' }).map((c) => c.name)).toEqual(['Depot yard']);
    expect(filterCameras(cams, { ...NO_FILTER, text: 'clark' }, names).map((c) => c.name)).toEqual(['Clark/Lake P1']);
    expect(filterCameras(cams, { ...NO_FILTER, text: 'admin' })).toEqual([]);
    expect(urlHostPath('rtsp://u:***@h:8554/a/b')).toBe('h:8554/a/b');
  });

  it('filters by mount kind, station, vehicle or line, and state together', () => {
    expect(filterCameras(cams, { ...NO_FILTER, mountKind: 'bus' }).map((c) => c.name)).toEqual(['Bus 8123 front']);
    expect(filterCameras(cams, { ...NO_FILTER, stationId: '40380' }).map((c) => c.name)).toEqual(['Clark/Lake P1']);
    expect(filterCameras(cams, { ...NO_FILTER, vehicle: 'blue' }).map((c) => c.name)).toEqual(['Railcar 3301']);
    expect(filterCameras(cams, { ...NO_FILTER, vehicle: '81' }).map((c) => c.name)).toEqual(['Bus 8123 front']);
    expect(filterCameras(cams, { ...NO_FILTER, state: 'offline', mountKind: 'station' })).toEqual([]);
    expect(stateCounts(cams)).toEqual({ live: 1, connecting: 0, stalled: 1, offline: 1, disabled: 1 });
  });
});
