import { Camera, type CameraHealth } from '../../../contract';

/** Health of a live camera, for renderer unit tests. */
export const liveHealth: CameraHealth = {
  state: 'live',
  fpsIn: 5,
  fpsOut: 5,
  frames: 1,
  dropped: 0,
  reconnects: 0,
  lastFrameAt: null,
  lastError: null,
  sourceWidth: null,
  sourceHeight: null,
  since: '2026-01-01T10:00:00Z',
};

/**
 * A camera as the core sends it, for renderer unit tests: a live station camera unless
 * `overrides` says otherwise. Parsed against the contract, so a fixture cannot drift from it.
 */
export function testCamera(id: string, overrides: Partial<Camera> = {}): Camera {
  return Camera.parse({
    id,
    name: id,
    url: 'rtsp://cam.example/stream',
    subUrl: null,
    username: null,
    hasPassword: false,
    mount: { kind: 'station', stationId: '40380' },
    location: null,
    analyticsEnabled: true,
    recordingEnabled: true,
    createdAt: '2026-01-01T10:00:00Z',
    updatedAt: '2026-01-01T10:00:00Z',
    health: liveHealth,
    ...overrides,
  });
}
