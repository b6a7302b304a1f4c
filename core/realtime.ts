import { PingPayload, type ServerHello } from '../contract';
import type { Feature } from './feature';
import type { CoreStatus } from './health';
import { nulAt } from './http/errors';
import { VERSION } from './version';

/** The socket.io basics: a hello with the server's state on connect, and a ping for latency. */
export const realtimeFeature: Feature<{ status: CoreStatus }> = {
  name: 'realtime',
  register(ctx) {
    const log = ctx.log.child({ name: 'socket' });
    ctx.io.on('connection', (socket) => {
      log.debug({ id: socket.id, address: socket.handshake.address }, 'client connected');
      const { path: _path, ...ffmpeg } = ctx.status.ffmpeg;
      const demo = ctx.status.demoCameras;
      const hello: ServerHello = {
        version: VERSION,
        serverTime: new Date().toISOString(),
        assets: ctx.assets,
        ffmpeg,
        ...(demo ? { demoCameras: demo } : {}),
      };
      // A NUL character in any event's payload is refused here, for every handler, as the HTTP
      // API refuses it (core/http/errors.ts): Postgres cannot store such text, SQLite can, so the
      // same acknowledgement would otherwise be "no such alert" on one and a failed write on the other.
      socket.use((packet, next) => {
        const args = packet.slice(1);
        const ack: unknown = args.at(-1);
        const at = nulAt(typeof ack === 'function' ? args.slice(0, -1) : args);
        if (at === null) return next();
        log.debug({ id: socket.id, event: packet[0], at }, 'refused a socket event holding a NUL character');
        const field = at.replace(/^\[0\]\.?/, '');
        const error = `payload${field ? `: ${field}` : ''} contains a NUL character`;
        if (typeof ack === 'function') (ack as (r: { ok: false; error: string }) => void)({ ok: false, error });
      });
      socket.emit('server:hello', hello);
      socket.on('client:ping', (payload, ack) => {
        const p = PingPayload.safeParse(payload);
        if (!p.success || typeof ack !== 'function') return; // a malformed ping is ignored, not fatal
        ack({ sentAt: p.data.sentAt, serverTime: Date.now() });
      });
      socket.on('disconnect', (reason) => log.debug({ id: socket.id, reason }, 'client disconnected'));
    });
  },
};
