import { PingPayload, type ServerHello } from '../contract';
import type { Feature } from './feature';
import type { CoreStatus } from './health';
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
