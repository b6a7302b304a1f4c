import { describe, expect, it } from 'vitest';
import type { LiveVehicle, VehicleSnapshot } from '../../../contract';
import type { CoreSocket } from '../client/connection';
import { Fleet } from './fleet';

const v = (id: string, lat = 41.9): LiveVehicle => ({
  id,
  mode: 'bus',
  route: '22',
  lat,
  lon: -87.6,
  heading: null,
  destination: '',
  timestamp: '2024-01-01T00:00:00Z',
  delayed: false,
  feed: 'demo',
  stale: false,
  district: null,
  communityArea: null,
});

// A socket.io client needs a server; this records what the fleet asks and answers the resync.
function fakeSocket(snapshot: VehicleSnapshot) {
  const handlers = new Map<string, (p: unknown) => void>();
  const emitted: string[] = [];
  const socket = {
    on: (ev: string, fn: (p: unknown) => void) => void handlers.set(ev, fn),
    off: (ev: string) => void handlers.delete(ev),
    emit: (ev: string, ack: (s: VehicleSnapshot) => void) => {
      emitted.push(ev);
      ack(snapshot);
    },
  };
  return { socket: socket as unknown as CoreSocket, handlers, emitted };
}

describe('Fleet', () => {
  it('applies a snapshot then consecutive diffs, and ignores malformed payloads', () => {
    const f = new Fleet();
    const s = fakeSocket({ vehicles: [], feeds: [], seq: 0 });
    f.attach(s.socket);
    const changes: string[] = [];
    f.onChange((c) => changes.push(c.kind));
    s.handlers.get('vehicles:snapshot')!({ vehicles: [v('bus:1')], feeds: [], seq: 5 });
    s.handlers.get('vehicles:diff')!({ upsert: [v('bus:1', 42)], remove: [], seq: 6 });
    s.handlers.get('vehicles:diff')!({ upsert: [{ id: 'bus:2' }], remove: [], seq: 7 }); // invalid: dropped at the boundary
    expect(f.vehicles.get('bus:1')?.lat).toBe(42);
    expect(f.vehicles.has('bus:2')).toBe(false);
    expect(changes).toEqual(['reset', 'diff']);
  });

  it('asks for a fresh snapshot when a diff is missed', () => {
    const f = new Fleet();
    const s = fakeSocket({ vehicles: [v('bus:1', 41.5), v('bus:3')], feeds: [], seq: 9 });
    f.attach(s.socket);
    f.reset({ vehicles: [v('bus:1')], feeds: [], seq: 5 });
    f.applyDiff({ upsert: [v('bus:2')], remove: [], seq: 7 });
    expect(s.emitted).toEqual(['vehicles:resync']);
    expect([...f.vehicles.keys()].sort()).toEqual(['bus:1', 'bus:3']);
    expect(f.vehicles.get('bus:1')?.lat).toBe(41.5);
  });
});
