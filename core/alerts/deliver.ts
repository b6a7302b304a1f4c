import type { Alert } from '../../contract';
import type { Feature, SentinelIo } from '../feature';

/**
 * The only place alerts go onto sockets. Producers (analytics) publish on the domain bus;
 * this module decides who receives what, so scoping (a district-1 liaison never sees
 * district 2) is enforced once, on the server.
 *
 * Rooms: `alerts:all` (operators, reviewers, admins), `district:<n>`, `line:<code>` and
 * `route:<id>` (liaisons, by their scope). Which sockets join which rooms is decided when
 * a socket connects (see `roomsForSocket`).
 */
export function alertRooms(alert: Alert): string[] {
  const rooms = ['alerts:all'];
  if (alert.scope.district) rooms.push(`district:${alert.scope.district}`);
  for (const l of alert.scope.lines) rooms.push(`line:${l}`);
  for (const r of alert.scope.routes) rooms.push(`route:${r}`);
  return rooms;
}

export function deliverAlert(io: SentinelIo, event: 'alert:raised' | 'alert:updated', alert: Alert): void {
  // io.to([...rooms]) sends once per socket even when a socket is in several of the rooms.
  io.to(alertRooms(alert)).emit(event, alert);
}

/** Until sockets carry a user (issue 7), every connected console is in `alerts:all`. */
export function roomsForSocket(): string[] {
  return ['alerts:all'];
}

export const alertDeliveryFeature: Feature = {
  name: 'alert-delivery',
  register(ctx) {
    ctx.io.on('connection', (socket) => {
      void socket.join(roomsForSocket());
    });
    ctx.bus.on('alert:raised', (a) => deliverAlert(ctx.io, 'alert:raised', a));
    ctx.bus.on('alert:updated', (a) => deliverAlert(ctx.io, 'alert:updated', a));
  },
};
