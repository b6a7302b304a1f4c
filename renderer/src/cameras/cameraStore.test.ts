import { describe, expect, it } from 'vitest';
import { testCamera as camera } from '../testing/camera';
import { parseSnapshot } from './cameraStore';

describe('parseSnapshot', () => {
  it('keeps every readable camera and names the one it cannot read, and what is wrong', () => {
    const bad = { ...camera('c2'), hasPassword: 'yes' };
    const r = parseSnapshot([camera('c1'), bad, camera('c3')]);
    expect(r.cameras?.map((c) => c.id)).toEqual(['c1', 'c3']);
    expect(r.problem).toMatch(/^1 camera not shown: c2 \(hasPassword: /);
  });

  it('counts records without an id by position, and shortens a long list of problems', () => {
    const r = parseSnapshot([{}, 7, null, { id: 'x' }, camera('ok')]);
    expect(r.cameras?.map((c) => c.id)).toEqual(['ok']);
    expect(r.problem).toMatch(/^4 cameras not shown: #1 \(.*\); #2 \(.*\); #3 \(.*\); …$/);
  });

  it('reports no problem for a valid list, empty or not, and refuses a payload that is not a list', () => {
    expect(parseSnapshot([])).toEqual({ cameras: [], problem: null });
    expect(parseSnapshot([camera('a')]).problem).toBeNull();
    expect(parseSnapshot({ cameras: [] })).toEqual({ cameras: null, problem: 'expected a list of cameras' });
  });
});
