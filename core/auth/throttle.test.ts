import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './store';

describe('login throttle', () => {
  it('lets a few failures through, then doubles the wait per failure, and forgets after success', () => {
    let now = 1_000_000;
    const t = new LoginThrottle(3, 60_000, () => now);
    const keys = ['user:ada'];
    for (let i = 0; i < 3; i++) t.fail(keys);
    expect(t.waitMs(keys)).toBe(0);
    t.fail(keys);
    expect(t.waitMs(keys)).toBe(1000);
    now += 1000;
    t.fail(keys);
    expect(t.waitMs(keys)).toBe(2000);
    now += 2000;
    t.fail(keys);
    expect(t.waitMs(keys)).toBe(4000);
    for (let i = 0; i < 20; i++) t.fail(keys);
    expect(t.waitMs(keys)).toBe(60_000); // capped
    t.succeed(keys);
    expect(t.waitMs(keys)).toBe(0);
  });

  it('gives an address more room than one user name, since many people share a control-room address', () => {
    const t = new LoginThrottle(2);
    for (let i = 0; i < 5; i++) t.fail(['ip:10.0.0.1']);
    expect(t.waitMs(['ip:10.0.0.1'])).toBe(0);
  });
});
