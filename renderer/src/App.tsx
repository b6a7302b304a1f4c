import { useCallback, useState } from 'react';
import { CameraPanel } from './cameras/CameraPanel';
import { useConnection } from './client/CoreProvider';
import { FeedStatusItem } from './map/FeedStatusItem';
import { MapView } from './map/MapView';
import { useFleet } from './map/useFleet';
import { AssetsDialog, ShortcutsDialog } from './shell/Dialogs';
import { EmptyState } from './shell/EmptyState';
import { useGlobalShortcuts } from './shell/keyboard';
import { Region } from './shell/Region';
import { StatusBar } from './shell/StatusBar';

type DialogId = 'shortcuts' | 'assets' | null;

/**
 * The operator layout: the map takes most of the screen, the alert queue sits on the right
 * (the operator's work list), the camera panel below the map, the status bar at the bottom.
 * Each region is a slot that a feature fills with its component.
 */
export function App() {
  const conn = useConnection();
  const fleet = useFleet();
  const [dialog, setDialog] = useState<DialogId>(null);
  const toggleHelp = useCallback(() => setDialog((d) => (d === 'shortcuts' ? null : 'shortcuts')), []);
  const escape = useCallback(() => {
    setDialog((d) => {
      if (d === null && document.activeElement instanceof HTMLElement) document.activeElement.blur();
      return null;
    });
  }, []);
  useGlobalShortcuts(toggleHelp, escape);
  const online = conn.status === 'connected';

  return (
    <div className={`app ${online ? '' : 'offline'}`}>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Sentinel
        </span>
        <span className="muted">CTA control center</span>
        <span className="spacer" />
        <button type="button" className="ghost-button" onClick={toggleHelp} title="Keyboard shortcuts (?)">
          Shortcuts <kbd>?</kbd>
        </button>
      </header>
      {!online && conn.status !== 'connecting' && (
        <div className="banner banner-bad" role="alert" data-testid="disconnected-banner">
          Connection to the Sentinel core lost. What you see may be out of date; reconnecting automatically…
        </div>
      )}
      <main className="layout">
        <Region id="map" title="Live map" className="area-map">
          <MapView fleet={fleet} />
        </Region>
        <Region id="alerts" title="Alert queue" className="area-alerts">
          <EmptyState title="No open alerts">New alerts arrive here, newest first.</EmptyState>
        </Region>
        <Region id="cameras" title="Cameras" className="area-cameras">
          <CameraPanel />
        </Region>
      </main>
      <StatusBar onAssets={() => setDialog('assets')}>
        <FeedStatusItem fleet={fleet} />
      </StatusBar>
      {dialog === 'shortcuts' && <ShortcutsDialog onClose={() => setDialog(null)} />}
      {dialog === 'assets' && conn.hello && <AssetsDialog assets={conn.hello.assets} onClose={() => setDialog(null)} />}
    </div>
  );
}
