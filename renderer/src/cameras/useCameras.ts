import { useCoreSocket } from '../client/CoreProvider';
import { useStore } from '../client/store';
import { CameraStore, type CamerasState } from './cameraStore';

// One store per page, attached before the socket connects so the snapshot sent on connect
// is never missed (React StrictMode's double mount is harmless).
let page: { store: CameraStore; socket: unknown } | null = null;

export function useCameras(): CamerasState {
  const socket = useCoreSocket();
  if (!page || page.socket !== socket) {
    const store = new CameraStore();
    store.attach(socket);
    page = { store, socket };
  }
  return useStore(page.store.state);
}
