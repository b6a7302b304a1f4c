// The push benchmark's liaison clients, in their own worker thread: they read their sockets
// on their own event loop, as liaisons on other machines would, instead of waiting behind the
// core's work in the main thread. Times are absolute (timeOrigin + now), comparable across
// threads of one process.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { io } from 'socket.io-client';

const { url, path, clients } = workerData;
const arrivals = {};
const wrong = [];
// Arrivals per server URL too, for a benchmark whose clients are spread over several.
const byServer = {};
const now = () => performance.timeOrigin + performance.now();
// A client may name its own server (the cluster benchmark spreads them over replicas).
const sockets = clients.map(({ district, token, url: own }) => {
  const s = io(own ?? url, { path, transports: ['websocket'], auth: { token }, forceNew: true });
  s.on('alert:raised', (a) => {
    const t = now();
    if (a.scope.district !== district) wrong.push(a.id);
    (arrivals[a.id] ??= []).push(t);
    ((byServer[own ?? url] ??= {})[a.id] ??= []).push(t);
  });
  return s;
});
await Promise.all(sockets.map((s) => new Promise((r) => (s.connected ? r() : s.once('connect', r)))));
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', (m) => {
  if (m.type === 'counts')
    parentPort.postMessage({ type: 'counts', counts: Object.fromEntries(m.ids.map((id) => [id, arrivals[id]?.length ?? 0])) });
  if (m.type === 'report') parentPort.postMessage({ type: 'report', arrivals, wrong, byServer });
  if (m.type === 'close') {
    for (const s of sockets) s.close();
    parentPort.close();
  }
});
