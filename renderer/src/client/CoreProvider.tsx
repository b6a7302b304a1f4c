import { createContext, useContext, type ReactNode } from 'react';
import { connectToCore, type ConnectionState, type CoreSocket } from './connection';
import { useStore, type Store } from './store';

interface CoreLink {
  socket: CoreSocket;
  state: Store<ConnectionState>;
}

const CoreContext = createContext<CoreLink | null>(null);

// One link per page, opened on first use. Not tied to a component's lifetime: React's
// StrictMode mounts twice in development, which would otherwise open two sockets.
let pageLink: CoreLink | null = null;
function getPageLink(): CoreLink {
  pageLink ??= connectToCore();
  return pageLink;
}

/** Provides the page's socket.io link to the core to the whole console. */
export function CoreProvider({ children, link }: { children: ReactNode; link?: CoreLink }) {
  return <CoreContext.Provider value={link ?? getPageLink()}>{children}</CoreContext.Provider>;
}

/** The live socket to the core, for features that subscribe to pushed events. */
export function useCoreSocket(): CoreSocket {
  const link = useContext(CoreContext);
  if (!link) throw new Error('useCoreSocket outside <CoreProvider>');
  return link.socket;
}

export function useConnection(): ConnectionState {
  const link = useContext(CoreContext);
  if (!link) throw new Error('useConnection outside <CoreProvider>');
  return useStore(link.state);
}
