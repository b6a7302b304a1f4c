import type { PointFeature } from '../map/overlays';
import type { FeatureCollection } from 'geojson';
import { useEffect, useMemo, useState } from 'react';
import { SmsConversation } from '../../../contract';
import { call } from '../client/api';
import { useCoreSocket } from '../client/CoreProvider';

/**
 * Rider text conversations, kept fresh by `sms:conversation` pushes (the payload names the
 * conversation; its content, numbers masked, comes from the API under the reader's role).
 */
export function useRiderTexts(
  placeOf: (incidentId: string) => Promise<number[] | null>,
  enabled = true,
): {
  conversations: SmsConversation[];
  points: FeatureCollection;
  refresh: (id: string) => void;
} {
  const socket = useCoreSocket();
  const [conversations, setConversations] = useState<SmsConversation[]>([]);
  const [places, setPlaces] = useState<Record<string, { pos: [number, number]; incidentId: string }>>({});

  useEffect(() => {
    // Roles without access (technicians) never ask: a refused request would only add noise.
    if (!enabled) return;
    let live = true;
    const upsert = (c: SmsConversation): void => {
      if (!live) return;
      setConversations((list) => [c, ...list.filter((x) => x.id !== c.id)].sort((a, b) => b.lastMessageAt.localeCompare(a.lastMessageAt)));
      if (c.incidentId) {
        void placeOf(c.incidentId).then((p) => {
          if (live && p && p.length === 2) setPlaces((m) => ({ ...m, [c.id]: { pos: [p[0]!, p[1]!], incidentId: c.incidentId! } }));
        });
      }
    };
    call('smsConversations', { query: { limit: '50' } })
      .then((r) => r.conversations.forEach(upsert))
      .catch(() => undefined);
    const on = (e: { conversationId: string }): void => {
      call('smsConversation', { params: { id: e.conversationId } })
        .then((c) => upsert(SmsConversation.parse(c)))
        .catch(() => undefined);
    };
    socket.on('sms:conversation', on);
    return () => {
      live = false;
      socket.off('sms:conversation', on);
    };
  }, [socket, placeOf, enabled]);

  const points = useMemo<FeatureCollection>(
    () => ({
      type: 'FeatureCollection',
      features: Object.entries(places).map(
        ([
          id,
          {
            pos: [lat, lon],
            incidentId,
          },
        ]) => ({
          type: 'Feature',
          properties: { id: `sms:${id}`, severity: 'high', kind: 'rider-report', incidentId },
          geometry: { type: 'Point', coordinates: [lon, lat] },
        }),
      ),
    }),
    [places],
  );
  const refresh = (id: string): void => {
    call('smsConversation', { params: { id } })
      .then((c) => setConversations((list) => list.map((x) => (x.id === c.id ? SmsConversation.parse(c) : x))))
      .catch(() => undefined);
  };
  return { conversations, points, refresh };
}

/** Where an incident is on the map ([lat, lon]), from its placement. */
export async function incidentPlace(incidentId: string): Promise<number[] | null> {
  const inc = await call('incident', { params: { id: incidentId } });
  const p = inc.scope.placement;
  return p ? [p.lat, p.lon] : null;
}

/**
 * Rider-text points as alert markers for the map's alerts layer, with every property its style
 * reads (so no expression meets a missing value).
 */
export function riderAlertMarkers(points: FeatureCollection): PointFeature[] {
  const out: PointFeature[] = [];
  for (const f of points.features) {
    if (f.geometry.type !== 'Point') continue;
    const id = String(f.properties?.id ?? '');
    out.push({
      type: 'Feature',
      id,
      geometry: f.geometry,
      properties: {
        id,
        alertId: id,
        incidentId: null,
        cameraId: null,
        vehicleId: null,
        kind: 'rider-report',
        severity: 'high',
        count: 1,
        age: 0,
        active: true,
        acknowledged: false,
        selected: false,
        stale: false,
      },
    });
  }
  return out;
}
