import { describe, expect, it } from 'vitest';
import { scrubSecret } from './technician-routes';

describe('scrubSecret', () => {
  it('removes a password in raw and percent-encoded form from a message', () => {
    const pw = 'Pa:ss@w%rd';
    const msg = `rtsp://u:${encodeURIComponent(pw)}@h/x: 401; tried ${pw}`;
    const out = scrubSecret(msg, pw);
    expect(out).toBe('rtsp://u:***@h/x: 401; tried ***');
    expect(out).not.toContain('w%rd');
  });
  it('leaves the message alone without a password', () => {
    expect(scrubSecret('connection refused', undefined)).toBe('connection refused');
    expect(scrubSecret('connection refused', '')).toBe('connection refused');
  });
});
