import { useCallback, useMemo, useState } from 'react';
import { AlertQueue } from './alerts/AlertQueue';
import { AuditWorkspace } from './audit/AuditWorkspace';
import { AuthGate, UserMenu } from './auth/AuthGate';
import { can, useSession } from './auth/session';
import { IncidentQueue } from './incidents/IncidentQueue';
import { LiaisonView } from './liaison/LiaisonView';
import { CameraPanel } from './cameras/CameraPanel';
import { VideoWall } from './cameras/wall/VideoWall';
import { useConnection } from './client/CoreProvider';
import { FeedStatusItem } from './map/FeedStatusItem';
import { MapView } from './map/MapView';
import { useFleet } from './map/useFleet';
import { useMapOverlay } from './map/useMapOverlay';
import { AssetsDialog, ShortcutsDialog } from './shell/Dialogs';
import { useGlobalShortcuts } from './shell/keyboard';
import { Region } from './shell/Region';
import { StatusBar } from './shell/StatusBar';
import { CoreRestartBanner } from './shell/CoreRestartBanner';
import { ReviewWorkspace } from './review/ReviewWorkspace';
import { RiderTexts } from './sms/RiderTexts';
import { incidentPlace, riderAlertMarkers, useRiderTexts } from './sms/useRiderTexts';
import { TechnicianWorkspace, useWorkspace, WorkspaceTabs } from './technician/workspace';

type DialogId = 'shortcuts' | 'assets' | null;

/**
 * Signed out: the sign-in (or first-run set-up) screen. Signed in: the console for the role.
 */
export function App() {
  // Liaisons get their own view (any browser); everyone else the operator layout, with what
  // their role may not do hidden (the core enforces it regardless).
  // `?view=wall`: the video wall popped out into its own window (same origin, same session).
  if (new URLSearchParams(location.search).get('view') === 'wall') return <AuthGate>{() => <VideoWall standalone />}</AuthGate>;
  return <AuthGate>{(user) => (user.role === 'liaison' ? <LiaisonRoot /> : <OperatorConsole />)}</AuthGate>;
}

function LiaisonRoot() {
  const session = useSession();
  return <LiaisonView user={session.user} onSignOut={session.signOut} />;
}

/**
 * The operator layout: the map takes most of the screen, the alert queue sits on the right
 * (the operator's work list), the camera panel below the map, the status bar at the bottom.
 * Each region is a slot that a feature fills with its component.
 */
function OperatorConsole() {
  const session = useSession();
  const conn = useConnection();
  const fleet = useFleet();
  // Cameras, open alerts and the selected incident over the fleet, from the console's stores.
  const mapOverlay = useMapOverlay(session.user.role);
  const riders = useRiderTexts(incidentPlace, session.user.role !== 'technician');
  // Rider texts placed by what they say (a station with no camera, a bus) join the alert markers.
  const riderMarkers = useMemo(() => riderAlertMarkers(riders.points), [riders.points]);
  const overlay = useMemo(
    () => (mapOverlay.overlay ? { ...mapOverlay.overlay, extraAlerts: riderMarkers } : undefined),
    [mapOverlay.overlay, riderMarkers],
  );
  const [dialog, setDialog] = useState<DialogId>(null);
  const toggleHelp = useCallback(() => setDialog((d) => (d === 'shortcuts' ? null : 'shortcuts')), []);
  const escape = useCallback(() => {
    setDialog((d) => {
      if (d === null && document.activeElement instanceof HTMLElement) document.activeElement.blur();
      return null;
    });
  }, []);
  useGlobalShortcuts(toggleHelp, escape);
  const workspace = useWorkspace(session.user.role);
  const online = conn.status === 'connected';

  return (
    <div className={`app ${online ? '' : 'offline'}`}>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Sentinel
        </span>
        <span className="muted">CTA control center</span>
        <WorkspaceTabs workspace={workspace} />
        <span className="spacer" />
        <button type="button" className="ghost-button" onClick={toggleHelp} title="Keyboard shortcuts (?)">
          Shortcuts <kbd>?</kbd>
        </button>
        <UserMenu user={session.user} onSignOut={session.signOut} />
      </header>
      <CoreRestartBanner />
      {!online && conn.status !== 'connecting' && (
        <div className="banner banner-bad" role="alert" data-testid="disconnected-banner">
          Connection to the Sentinel core lost. What you see may be out of date; reconnecting automatically…
        </div>
      )}
      {/* Hidden, not unmounted: the map keeps its WebGL context while a technician works. */}
      <main className="layout" hidden={workspace.current !== 'operations'}>
        <Region id="map" title="Live map" className="area-map">
          <MapView fleet={fleet} {...mapOverlay} overlay={overlay} />
        </Region>
        <Region id="alerts" title="Alert queue" className="area-alerts">
          {session.user.role === 'technician' ? null : (
            <RiderTexts conversations={riders.conversations} onSent={riders.refresh} mayReply={can(session.user.role, 'workIncidents')} />
          )}
          {session.user.role === 'technician' ? null : <IncidentQueue role={session.user.role} />}
          <AlertQueue />
        </Region>
        <Region id="cameras" title="Cameras" className="area-cameras">
          <CameraPanel />
        </Region>
      </main>
      {workspace.current === 'wall' && (
        <main className="workspace-main">
          <VideoWall />
        </main>
      )}
      {workspace.current === 'cameras' && <TechnicianWorkspace />}
      {workspace.current === 'review' && (
        <main className="workspace-main">
          <ReviewWorkspace role={session.user.role} />
        </main>
      )}
      {workspace.current === 'audit' && (
        <main className="workspace-main">
          <AuditWorkspace />
        </main>
      )}
      <StatusBar onAssets={() => setDialog('assets')}>
        <FeedStatusItem fleet={fleet} />
      </StatusBar>
      {dialog === 'shortcuts' && <ShortcutsDialog onClose={() => setDialog(null)} />}
      {dialog === 'assets' && conn.hello && <AssetsDialog assets={conn.hello.assets} onClose={() => setDialog(null)} />}
    </div>
  );
}
