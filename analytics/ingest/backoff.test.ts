import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';

describe('Backoff', () => {
  it('grows from 1 s by doubling and stops at the 30 s cap', () => {
    const b = new Backoff();
    const seq = Array.from({ length: 8 }, () => b.next());
    expect(seq).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('starts over after reset', () => {
    const b = new Backoff(500, 4000);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(500);
  });
});
