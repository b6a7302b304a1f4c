import { ApiError, call } from '../client/api';
import { useCoreSocket } from '../client/CoreProvider';
import { useStore } from '../client/store';
import { AlertStore, type AlertsState } from './alertStore';

// One store per page, attached to the page's socket before it connects (the fleet's habit,
// map/useFleet.ts), so the queue, the map and the vehicle panel agree on what is open.
let page: { store: AlertStore; socket: unknown } | null = null;

export function useAlertStore(): AlertStore {
  const socket = useCoreSocket();
  if (!page || page.socket !== socket) {
    const store = new AlertStore();
    store.attach(socket);
    // The list again after every reconnect: what changed while the link was down is not lost.
    const load = (): void => {
      call('alerts', { query: { limit: '200' } })
        .then((l) => store.load(l))
        .catch((err: unknown) => store.fail(err instanceof ApiError ? err.message : 'could not load alerts'));
    };
    socket.on('connect', load);
    if (socket.connected) load();
    page = { store, socket };
  }
  return page.store;
}

export function useAlerts(): AlertsState {
  return useStore(useAlertStore().state);
}
