import { describe, expect, it } from 'vitest';
import { clockTenths, clockTime, dateTime } from './time';

describe('control-center time', () => {
  it('shows Chicago time in 24-hour form, whatever the machine zone is', () => {
    // 2026-11-28T20:03:27.456Z is 14:03:27 in Chicago (CST, UTC-6).
    const t = Date.parse('2026-11-28T20:03:27.456Z');
    expect(clockTime(t)).toBe('14:03:27');
    expect(clockTenths(t)).toBe('14:03:27.4');
    expect(dateTime(t)).toBe('Nov 28, 14:03:27');
    // Summer: CDT, UTC-5; and midnight is 00, not 24.
    expect(clockTime('2026-07-01T05:00:00Z')).toBe('00:00:00');
  });
});
