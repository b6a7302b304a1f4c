import { useCoreSocket } from '../client/CoreProvider';
import { Fleet } from './fleet';

// One fleet per page, attached to the page's socket before it connects, so the snapshot the
// core sends on connect is never missed (and React StrictMode's double mount is harmless).
let pageFleet: { fleet: Fleet; socket: unknown } | null = null;

export function useFleet(): Fleet {
  const socket = useCoreSocket();
  if (!pageFleet || pageFleet.socket !== socket) {
    const fleet = new Fleet();
    fleet.attach(socket);
    pageFleet = { fleet, socket };
  }
  return pageFleet.fleet;
}
