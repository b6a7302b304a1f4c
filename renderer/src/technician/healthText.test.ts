import { describe, expect, it } from 'vitest';
import { reidText, viewerSessionText } from './healthText';

describe('camera health lines of the technician view', () => {
  const reid = { enabled: true, model: 'person-reid-0288', reassociated: 3, refused: 1, embeddings: 40, error: null };

  it('says whether re-ID runs, how many tracks it gave back, and why it is off when its model failed', () => {
    expect(reidText(reid)).toMatchObject({ text: 're-ID on · 3 tracks re-associated', problem: false });
    expect(reidText(reid).title).toContain('person-reid-0288');
    expect(reidText({ ...reid, reassociated: 1 }).text).toBe('re-ID on · 1 track re-associated');
    expect(reidText({ ...reid, enabled: false, model: null, reassociated: 0 })).toMatchObject({ text: 're-ID off', problem: false });
    expect(reidText({ ...reid, enabled: false, model: null, error: 'model person-reid-0288 not found' })).toMatchObject({
      text: 're-ID failed: model person-reid-0288 not found',
      problem: true,
    });
  });

  const live = {
    state: 'live' as const,
    session: 'viewers' as const,
    codec: 'avc1.64001f',
    width: 640,
    height: 480,
    fps: 5,
    kbps: 310,
    consumers: 2,
    transcoding: null,
    lastError: null,
    closesAt: null,
  };

  it("describes the core's own session for viewers of a node-held camera, and nothing for the camera's own", () => {
    expect(viewerSessionText(undefined)).toBeNull();
    expect(viewerSessionText({ ...live, session: 'camera' })).toBeNull();
    expect(viewerSessionText({ ...live, state: 'idle', consumers: 0, codec: null })?.text).toBe('none open (nobody watches)');
    expect(viewerSessionText(live)).toMatchObject({ text: 'live · 2 viewers · avc1.64001f · 5.0 fps · 310 kbit/s', problem: false });
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(viewerSessionText({ ...live, consumers: 0, closesAt: '2026-01-01T00:00:04Z' }, now)?.text).toBe(
      'live · 0 viewers · closes in 4 s · avc1.64001f · 5.0 fps · 310 kbit/s',
    );
    expect(viewerSessionText({ ...live, state: 'offline', consumers: 1, lastError: 'connection refused' })).toMatchObject({
      text: 'offline · 1 viewer · connection refused',
      problem: true,
    });
  });
});
