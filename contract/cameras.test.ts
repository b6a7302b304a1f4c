import { describe, expect, it } from 'vitest';
import { CameraCreate, maskRtspUrl, parseRtspUrl, withCredentials } from './cameras';

describe('parseRtspUrl', () => {
  it('splits percent-encoded credentials with @ : % off the URL', () => {
    const r = parseRtspUrl('rtsp://op%40cta:p%3Aa%40s%25s@10.0.0.5:554/Streaming/101');
    expect(r).toEqual({ url: 'rtsp://10.0.0.5:554/Streaming/101', host: '10.0.0.5', username: 'op@cta', password: 'p:a@s%s' });
  });

  it('takes the last @ as the end of the credentials when a raw @ is in the password', () => {
    expect(parseRtspUrl('rtsp://admin:p@ss@cam.local/live')).toMatchObject({ host: 'cam.local', username: 'admin', password: 'p@ss' });
  });

  it.each([
    ['rtsp://cam one/x', /space .*position 11/],
    ['rtsp:///x', /no host/],
    ['http://cam/x', /scheme "http:"/],
    ['cam.local/x', /no scheme/],
    ['rtsp://cam/x;reboot', /character ";"/],
    ['rtsp://cam/$(id)', /character "\$"/],
    ['rtsp://cam/x|nc', /character "\|"/],
    ['rtsp://u:100%@cam/x', /percent-escape/],
    ['rtsp://cam:99999/x', /not a valid URL|out of range/],
    ['', /empty/],
  ])('rejects %j with a message naming the problem', (url, msg) => {
    const r = parseRtspUrl(url);
    expect('error' in r && r.error).toMatch(msg);
  });
});

describe('maskRtspUrl / withCredentials', () => {
  it('masks the password and round-trips credentials with special characters', () => {
    const full = withCredentials('rtsp://cam/x', 'op@cta', 'p:a@s%s');
    expect(parseRtspUrl(full)).toMatchObject({ username: 'op@cta', password: 'p:a@s%s' });
    expect(maskRtspUrl(full)).toBe('rtsp://op%40cta:***@cam/x');
    expect(maskRtspUrl('rtsp://cam/x')).toBe('rtsp://cam/x');
    expect(maskRtspUrl('not a url user:secret@host')).not.toContain('secret');
  });
});

describe('CameraCreate', () => {
  it('names the field of a bad URL and applies defaults', () => {
    const bad = CameraCreate.safeParse({ name: 'A', url: 'rtsp://a b/x' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['url']);
    const ok = CameraCreate.parse({ name: ' A ', url: 'rtsp://a/x' });
    expect(ok).toMatchObject({ name: 'A', mount: { kind: 'other' }, location: null, analyticsEnabled: true, recordingEnabled: true });
  });
});
