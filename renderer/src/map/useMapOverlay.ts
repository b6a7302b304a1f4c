import { useCallback, useMemo } from 'react';
import type { Role } from '../../../contract';
import { useAlerts } from '../alerts/useAlerts';
import { useCameras } from '../cameras/useCameras';
import { useConnection } from '../client/CoreProvider';
import { useStore } from '../client/store';
import { useIncidentStore } from '../incidents/incidentStore';
import { OPEN_CAMERA_EVENT } from '../shell/events';
import { select, selection } from '../shell/selection';
import type { MapViewProps } from './MapView';
import { vehicleContextFor } from './overlays';

/**
 * Everything the map needs from the rest of the console, read from the page's stores:
 * cameras, alerts, incidents, the shared selection and the link state. Picking an alert on
 * the map selects it (and its incident) everywhere and opens its camera.
 */
export function useMapOverlay(role: Role): Omit<MapViewProps, 'fleet'> {
  const { cameras } = useCameras();
  const alerts = useAlerts();
  const incidents = useStore(useIncidentStore(role !== 'technician').state);
  const sel = useStore(selection);
  const linkUp = useConnection().status === 'connected';

  const overlay = useMemo(
    () => ({
      cameras,
      alerts: alerts.alerts,
      incidents: incidents.incidents,
      acks: alerts.acks,
      selectedIncidentId: sel.incidentId,
      selectedAlertId: sel.alertId,
    }),
    [cameras, alerts.alerts, alerts.acks, incidents.incidents, sel],
  );
  const vehicleContext = useCallback(
    (vehicleId: string) =>
      vehicleContextFor(vehicleId, {
        cameras,
        alerts: alerts.alerts,
        incidents: incidents.incidents,
        linkUp,
        alertsLoaded: alerts.loaded,
        alertsProblem: alerts.lastProblem,
      }),
    [cameras, alerts.alerts, alerts.loaded, alerts.lastProblem, incidents.incidents, linkUp],
  );
  const onPickAlert = useCallback((p: { alertId: string; incidentId: string | null; cameraId: string | null }) => {
    select({ alertId: p.alertId, incidentId: p.incidentId });
    if (p.cameraId) window.dispatchEvent(new CustomEvent(OPEN_CAMERA_EVENT, { detail: { cameraId: p.cameraId } }));
  }, []);
  const onPickCamera = useCallback((cameraId: string) => {
    window.dispatchEvent(new CustomEvent(OPEN_CAMERA_EVENT, { detail: { cameraId } }));
  }, []);
  return { overlay, vehicleContext, onPickAlert, onPickCamera };
}
