import { connect, createServer, type Server, type Socket as NetSocket } from 'node:net';
import { io as ioClient, type Socket } from 'socket.io-client';
import { Alert, AlertEscalated, SOCKET_PATH, type ClientToServerEvents, type ServerToClientEvents } from '../../contract';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * A liaison's console as the renderer builds it: it remembers the highest log sequence it saw
 * and sends it at every (re)connection (socket.io calls the auth function each time).
 */
export function liaisonClient(url: string, token: string) {
  let lastSeq: number | null = null;
  const raised = new Map<string, number>();
  const alerts: Alert[] = [];
  const escalated: AlertEscalated[] = [];
  const seen = (seq: unknown): void => {
    if (typeof seq === 'number' && (lastSeq === null || seq > lastSeq)) lastSeq = seq;
  };
  const s: Client = ioClient(url, {
    path: SOCKET_PATH,
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 200,
    reconnectionDelayMax: 1000,
    auth: (cb) => cb({ token, ...(lastSeq !== null ? { lastSeq } : {}) }),
  });
  s.on('alert:raised', (a, seq) => {
    const alert = Alert.parse(a);
    raised.set(alert.id, (raised.get(alert.id) ?? 0) + 1);
    if (!alerts.some((x) => x.id === alert.id)) alerts.push(alert);
    seen(seq);
  });
  s.on('alert:escalated', (e, seq) => {
    escalated.push(AlertEscalated.parse(e));
    seen(seq);
  });
  s.on('alert:updated', (_a, seq) => seen(seq));
  s.on('alert:acked', (_a, seq) => seen(seq));
  s.on('incident:upsert', (_i, seq) => seen(seq));
  return { s, raised, escalated, alerts: () => alerts, lastSeq: () => lastSeq };
}

/**
 * What a load balancer in front of the replicas does, in a few lines: each new connection
 * goes to the first replica that accepts it. A dead replica refuses, so its clients'
 * reconnections land on the next one.
 */
export function balancer(ports: () => number[]): Promise<{ url: string; close(): void }> {
  const conns = new Set<NetSocket>();
  const server: Server = createServer((client) => {
    conns.add(client);
    client.on('close', () => conns.delete(client));
    const tryPort = (i: number): void => {
      const port = ports()[i];
      if (port === undefined) return void client.destroy();
      const up = connect(port, '127.0.0.1');
      up.once('error', () => (up.bytesRead === 0 && up.bytesWritten === 0 ? tryPort(i + 1) : client.destroy()));
      up.once('connect', () => {
        up.removeAllListeners('error');
        up.on('error', () => client.destroy());
        client.on('error', () => up.destroy());
        up.on('close', () => client.destroy());
        client.on('close', () => up.destroy());
        client.pipe(up).pipe(client);
      });
    };
    tryPort(0);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () => {
          for (const c of conns) c.destroy();
          server.close();
        },
      });
    }),
  );
}

export const portOf = (url: string): number => Number(new URL(url).port);
