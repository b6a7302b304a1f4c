import { describe, expect, it } from 'vitest';
import { place } from './placement';

const cams = ['a', 'b', 'c', 'd'];

describe('camera placement over analytics nodes', () => {
  it('a lone node claims every free camera up to its capacity', () => {
    expect(place({ nodeId: 'n1', capacity: 3, cameras: cams, held: new Map(), liveNodes: 1 })).toEqual({
      keep: [],
      claim: ['a', 'b', 'c'],
      release: [],
    });
  });

  it('a node above its fair share gives the excess up; the newcomer claims it', () => {
    const held = new Map(cams.map((c) => [c, 'n1']));
    expect(place({ nodeId: 'n1', capacity: 8, cameras: cams, held, liveNodes: 2 })).toEqual({
      keep: ['a', 'b'],
      claim: [],
      release: ['c', 'd'],
    });
    held.delete('c');
    held.delete('d');
    expect(place({ nodeId: 'n2', capacity: 8, cameras: cams, held, liveNodes: 2 })).toEqual({ keep: [], claim: ['c', 'd'], release: [] });
  });

  it('takes a dead node’s cameras once their leases lapse, and never another live holder’s', () => {
    const held = new Map([
      ['a', 'n2'],
      ['b', 'n3'],
    ]);
    expect(place({ nodeId: 'n2', capacity: 8, cameras: cams, held, liveNodes: 2 })).toEqual({ keep: ['a'], claim: ['c'], release: [] });
  });
});
