import { Store } from '../client/store';

/**
 * What the operator is looking at, shared by panels that do not know each other: the alert
 * queue, the incident queue and the map highlight the same alert and incident. One per page.
 */
export interface Selection {
  alertId: string | null;
  incidentId: string | null;
}

export const selection = new Store<Selection>({ alertId: null, incidentId: null });

export function select(next: Partial<Selection>): void {
  selection.update((s) => {
    const merged = { ...s, ...next };
    return merged.alertId === s.alertId && merged.incidentId === s.incidentId ? s : merged;
  });
}
