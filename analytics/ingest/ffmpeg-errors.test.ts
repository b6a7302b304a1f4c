import { describe, expect, it } from 'vitest';
import { describeFfmpegError, maskUrls } from './ffmpeg-errors';

describe('describeFfmpegError', () => {
  it('names the specific cause even when the last line is generic', () => {
    const stderr =
      '[tcp @ 0x1] Failed to resolve hostname cam.invalid: Name or service not known\nrtsp://cam.invalid/x: Input/output error\n';
    expect(describeFfmpegError(stderr)).toBe('host not found (DNS lookup failed)');
    expect(describeFfmpegError('[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized')).toMatch(/^401/);
  });

  it('falls back to the last line, with any password masked', () => {
    expect(describeFfmpegError('something odd at rtsp://u:s3cret@h/x\n')).toBe('ffmpeg stopped: something odd at rtsp://u:***@h/x');
    expect(maskUrls('rtsp://u:s3cret@h/x')).not.toContain('s3cret');
  });
});
