// The fight classifier's worker thread: the trained clip classifier's rules (one per watch
// zone per camera, analytics/rules/fight-clip.ts) with their window state, fed every analysed
// frame. The grey conversion, the zone downsample, the frame differences and the scoring run
// here, so the core's main thread only copies the frame and routes the message.
import { parentPort } from 'node:worker_threads';
import type { Zone } from '../../contract/zones';
import { toGrey } from '../pipeline/pipeline';
import { ClipFightRule } from '../rules/fight-clip';
import type { FightFromWorker, FightToWorker } from './fight-protocol';

const port = parentPort;
if (!port) throw new Error('analytics/inference/fight-thread.ts must run as a worker thread');

const cameras = new Map<string, { version: number; rules: ClipFightRule[] }>();

function rulesFor(key: string, version: number, zones: readonly Zone[] | undefined): ClipFightRule[] {
  const cur = cameras.get(key);
  if (cur && cur.version === version) return cur.rules;
  // A new zone list restarts every window (as a new pipeline does on the main thread).
  const rules = (zones ?? []).filter((z) => z.kind === 'watch').map((z) => new ClipFightRule(z));
  cameras.set(key, { version, rules });
  return rules;
}

port.on('message', (msg: FightToWorker) => {
  if (msg.type === 'forget') {
    cameras.delete(msg.key);
    return;
  }
  let reply: FightFromWorker;
  try {
    const rules = rulesFor(msg.key, msg.version, msg.zones);
    const bgr = new Uint8Array(msg.data);
    const grey = rules.length ? toGrey(bgr, msg.width, msg.height) : null;
    const inZone = new Map(msg.inZone);
    const events = rules.flatMap((r) =>
      r.evaluate({ t: msg.t, width: msg.width, height: msg.height, tracks: [], inZone, grey, prevGrey: null, speedKmh: null, objects: [] }),
    );
    reply = { type: 'events', id: msg.id, events, data: msg.data };
  } catch (err) {
    reply = { type: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err), data: msg.data };
  }
  port.postMessage(reply, [reply.data]);
});
