import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server as IoServer, Socket } from 'socket.io';
import { z } from 'zod';
import {
  NODES_NAMESPACE,
  NodeAlert,
  NodeAlertChange,
  NodeCreate,
  NodeFrame,
  NodeHeartbeat,
  NodeOccupancy,
  NodeSegment,
  routes,
  BUILTIN_FIGHT_MODEL,
  type CameraAnalysisHealth,
  type CameraHealth,
  type CoreToNodeEvents,
  type NodeAck,
  type NodeAssignment,
  type NodeCamera,
  type NodeFightState,
  type NodeInfo,
  type NodeLoad,
  type NodeToCoreEvents,
  type NodesStatus,
} from '../../contract';
import { vehicleSpeed, alertScope } from '../analytics/scope';
import type { ZoneStore } from '../analytics/store';
import { OccupancyStore } from '../analytics/store';
import type { CameraService } from '../cameras';
import type { CameraCatalog } from '../cameras/catalog';
import { ModelChoiceStore } from '../analytics/store';
import { LeaseStore, type LeaseRow } from '../cluster/leases';
import type { Executor } from '../db/sql';
import type { Feature } from '../feature';
import type { Feeds } from '../feeds/feature';
import { parseInput } from '../http/errors';
import { place } from './placement';
import { NodeStore, type NodeRecord } from './store';

export interface NodesNeeds {
  cameraRepo: CameraCatalog;
  cameras: CameraService;
  zones: ZoneStore;
  feeds: Feeds;
}

type NodeSocket = Socket<NodeToCoreEvents, CoreToNodeEvents, Record<string, never>, { node: NodeRecord }>;

const CAMERA = 'camera:';
const NODE = 'node:';

/** What a node's lease carries (the technician view reads it from any replica). */
interface NodeLeaseInfo {
  name: string;
  load: NodeLoad;
  /** Read back by core/nodes/fight.ts nodeFightStates for the models view. */
  fight: NodeFightState;
}
/** What a camera's lease carries: its last health from the node running it. */
interface CameraLeaseInfo {
  health?: CameraHealth;
  analysis?: CameraAnalysisHealth | null;
}

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });

const UNHELD: CameraHealth = {
  state: 'offline',
  fpsIn: 0,
  fpsOut: 0,
  frames: 0,
  dropped: 0,
  reconnects: 0,
  lastFrameAt: null,
  lastError: 'no analytics node runs this camera (waiting for one with free capacity)',
  sourceWidth: null,
  sourceHeight: null,
  since: new Date(0).toISOString(),
};

/**
 * Analytics nodes (docs/scale.md), core side: node tokens (admin API, audited), the
 * authenticated socket.io namespace the nodes talk on, placement of cameras on nodes through
 * leases in the shared `leases` table (so every replica sees the same placement), and the
 * entry of what nodes report (alerts, acknowledged after commit and de-duplicated by the
 * node's alert id; occupancy; detections; health). The routes exist without nodes too (to
 * issue tokens before switching `analytics.nodes` on); the namespace only with it.
 */
export const nodesFeature: Feature<NodesNeeds> = {
  name: 'nodes',
  async register(ctx) {
    const { sql, log, config, cameraRepo, cameras, zones, feeds } = ctx;
    const store = new NodeStore(sql);
    const leases = new LeaseStore(sql);
    const modelChoices = new ModelChoiceStore(sql);
    const occupancy = new OccupancyStore(sql);
    const ttlMs = config.analytics.nodeLeaseTtlS * 1000;
    const heartbeatMs = Math.max(200, Math.round(ttlMs / 3));
    const snapshotsDir = join(config.dataDir, 'alert-snapshots');
    // The same directory the core's own recorder would use (core/cameras/service.ts), shared with the nodes.
    const recordingsDir = join(config.recording.dir ?? config.dataDir, 'recordings');
    const enabled = config.analytics.nodes;
    const nsp = (ctx.io as unknown as IoServer<NodeToCoreEvents, CoreToNodeEvents, Record<string, never>, { node: NodeRecord }>).of(
      NODES_NAMESPACE,
    );

    const liveLeases = async (prefix: string, now = Date.now(), ex?: Executor): Promise<LeaseRow[]> =>
      (await leases.list(prefix, ex)).filter((l) => l.expiresAtMs > now);

    const info = async (n: NodeRecord, now = Date.now()): Promise<NodeInfo> => {
      const lease = await leases.get(NODE + n.id);
      const live = Boolean(lease && lease.expiresAtMs > now && !n.revokedAt);
      return {
        id: n.id,
        name: n.name,
        capacity: n.capacity,
        createdAt: n.createdAt,
        revokedAt: n.revokedAt,
        live,
        lastSeenAt: lease?.renewedAt ?? null,
        load: lease ? ((lease.info as Partial<NodeLeaseInfo>).load ?? null) : null,
        fight: lease ? ((lease.info as Partial<NodeLeaseInfo>).fight ?? null) : null,
        cameras: (await liveLeases(CAMERA, now)).filter((l) => l.holder === n.id).map((l) => l.name.slice(CAMERA.length)),
      };
    };

    ctx.http.get(routes.nodes.path, async (): Promise<NodesStatus> => {
      const now = Date.now();
      const all = await store.list();
      const names = new Map(all.map((n) => [n.id, n.name]));
      return {
        enabled,
        nodes: await Promise.all(all.map((n) => info(n, now))),
        placements: (await leases.list(CAMERA)).map((l) => ({
          cameraId: l.name.slice(CAMERA.length),
          nodeId: l.holder,
          nodeName: names.get(l.holder) ?? l.holder,
          expiresAt: new Date(l.expiresAtMs).toISOString(),
          fence: l.fence,
        })),
      };
    });

    ctx.http.post(routes.nodeCreate.path, async (req, reply) => {
      const input = parseInput(NodeCreate, req.body);
      const { node, token } = await store.create(input.name, input.capacity, req.auth?.user.username ?? 'unknown');
      await ctx.audit.record(req, 'node.create', `node:${node.id}`, { name: node.name, capacity: node.capacity });
      log.info({ nodeId: node.id, name: node.name }, 'analytics node token issued');
      return reply.status(201).send({ node: await info(node), token });
    });

    ctx.http.delete(routes.nodeRevoke.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const node = await store.revoke(id);
      // Its cameras are free at once: the others claim them at their next heartbeat.
      await leases.releaseAll(id);
      for (const s of nsp.sockets.values()) {
        if (s.data.node?.id !== id) continue;
        s.emit('node:revoked');
        s.disconnect(true);
      }
      await ctx.audit.record(req, 'node.revoke', `node:${id}`, { name: node.name });
      log.warn({ nodeId: id, name: node.name }, 'analytics node revoked');
      return await info(node);
    });

    if (!enabled) return;

    // Camera health is read synchronously, on every health read of the registry and the viewers:
    // it comes from this copy of the camera leases, not from the database. The copy is reloaded
    // after every heartbeat this replica places and every second by the placement watch below,
    // so what a node reports through another replica shows here within a second.
    let cameraLeases = new Map<string, LeaseRow>();
    const reloadCameraLeases = async (): Promise<LeaseRow[]> => {
      const all = await leases.list(CAMERA);
      cameraLeases = new Map(all.map((l) => [l.name.slice(CAMERA.length), l]));
      return all;
    };
    await reloadCameraLeases();

    // A camera with no node (or whose node stopped heartbeating) says so in its health.
    cameras.setRemoteHealth((id) => {
      const l = cameraLeases.get(id);
      if (!l || l.expiresAtMs <= Date.now()) return UNHELD;
      return (l.info as CameraLeaseInfo).health ?? { ...UNHELD, state: 'connecting', lastError: null };
    });
    cameras.setAnalysisSource((id) => {
      const l = cameraLeases.get(id);
      return l && l.expiresAtMs > Date.now() ? ((l.info as CameraLeaseInfo).analysis ?? null) : null;
    });

    /** Hands the node the cameras it should hold now (placement.ts), renewing its claims. */
    const heartbeat = async (node: NodeRecord, hb: NodeHeartbeat): Promise<NodeAssignment> => {
      const now = Date.now();
      const reported = new Map(hb.cameras.map((c) => [c.cameraId, c]));
      const records = cameraRepo.list();
      // One transaction: the placement is decided on the leases as they are and written before
      // another heartbeat (of any replica) reads them. On Postgres the placement lock makes
      // heartbeats take turns, as SQLite's immediate transaction does (the conditional upsert
      // alone would keep one holder per camera, but the fair shares would be computed from a
      // stale count). Only `trx` inside: on SQLite the one connection is held by the transaction.
      const assigned = await sql.transaction(
        async (trx) => {
          await leases.acquire(
            NODE + node.id,
            node.id,
            ttlMs,
            { name: node.name, load: hb.load, fight: hb.fight } satisfies NodeLeaseInfo,
            now,
            trx,
          );
          const all = await leases.list(CAMERA, trx);
          const held = new Map(all.filter((l) => l.expiresAtMs > now).map((l) => [l.name.slice(CAMERA.length), l.holder]));
          const d = place({
            nodeId: node.id,
            capacity: node.capacity,
            cameras: records.map((c) => c.id),
            held,
            liveNodes: (await liveLeases(NODE, now, trx)).length,
          });
          for (const id of d.release) await leases.release(CAMERA + id, node.id, trx);
          // A lease of a camera deleted since is dropped.
          const known = new Set(records.map((c) => c.id));
          for (const l of all)
            if (l.holder === node.id && !known.has(l.name.slice(CAMERA.length))) await leases.release(l.name, node.id, trx);
          const out: { id: string; fence: number }[] = [];
          for (const id of [...d.keep, ...d.claim]) {
            const r = reported.get(id);
            const fence = await leases.acquire(
              CAMERA + id,
              node.id,
              ttlMs,
              (r ? { health: r.health, analysis: r.analysis } : {}) satisfies CameraLeaseInfo,
              now,
              trx,
            );
            if (fence !== null) out.push({ id, fence });
          }
          return { out, released: d.release, claimed: d.claim };
        },
        { locks: ['placement'] },
      );
      await reloadCameraLeases();
      if (assigned.claimed.length || assigned.released.length)
        log.info({ node: node.name, claimed: assigned.claimed, released: assigned.released }, 'cameras moved between analytics nodes');
      const byId = new Map(records.map((c) => [c.id, c]));
      // Read from the database at each heartbeat, not from this replica's model manager: the
      // technician may have changed a model through another replica.
      const chosen = await modelChoices.cameras();
      const defaultModel = (await modelChoices.slot('detector')) ?? config.analytics.model ?? config.inference.defaultModel;
      const fight = (await modelChoices.slot('fight')) ?? config.analytics.fightModel ?? BUILTIN_FIGHT_MODEL;
      const list: NodeCamera[] = [];
      for (const { id, fence } of assigned.out) {
        const c = byId.get(id);
        if (!c) continue;
        const speed = vehicleSpeed(c.mount, feeds.service);
        list.push({
          id: c.id,
          name: c.name,
          url: c.url,
          subUrl: c.subUrl,
          username: c.credentials.username ?? null,
          password: c.credentials.password ?? null,
          mount: c.mount,
          location: c.location,
          analyticsEnabled: c.analyticsEnabled,
          recordingEnabled: c.recordingEnabled,
          zones: await zones.list(c.id),
          model: chosen.get(c.id) ?? defaultModel,
          ...(speed !== undefined ? { speed } : {}),
          fence,
        });
      }
      for (const id of reported.keys()) cameras.publishHealth(id);
      return {
        nodeId: node.id,
        cameras: list,
        heartbeatMs,
        leaseTtlMs: ttlMs,
        recordingsDir: config.recording.enabled ? recordingsDir : null,
        segmentSeconds: config.recording.segmentSeconds,
        fightModel: fight === BUILTIN_FIGHT_MODEL ? null : fight,
      };
    };

    /** Commits a node's alert once: a resend (its acknowledgement was lost) finds it stored. */
    const acceptAlert = async (node: NodeRecord, a: NodeAlert): Promise<NodeAck> => {
      if (await ctx.alerts.get(a.id)) return { ok: true };
      const camera = cameraRepo.get(a.cameraId);
      if (!camera) return { ok: false, error: `no camera with id ${a.cameraId}`, retry: false };
      const lease = await leases.get(CAMERA + a.cameraId);
      // Only what the node saw while it held the camera: an alert from after another node took it over is refused.
      if (lease && lease.holder !== node.id && lease.expiresAtMs > Date.now() && Date.parse(a.startedAt) > Date.parse(lease.acquiredAt))
        return { ok: false, error: `camera ${a.cameraId} is held by another analytics node`, retry: false };
      let snapshotPath: string | null = null;
      if (a.snapshot) {
        try {
          mkdirSync(snapshotsDir, { recursive: true });
          snapshotPath = join(snapshotsDir, `${a.id}.jpg`);
          writeFileSync(snapshotPath, Buffer.from(a.snapshot, 'base64'));
        } catch (err) {
          // An alert without its picture is still an alert.
          log.error({ err, alertId: a.id }, 'cannot write a node alert snapshot');
          snapshotPath = null;
        }
      }
      try {
        await ctx.alerts.create({
          id: a.id,
          kind: a.kind,
          cameraId: camera.id,
          cameraName: camera.name,
          zoneId: a.zoneId,
          zoneName: a.zoneName,
          score: a.score,
          startedAt: new Date(a.startedAt),
          snapshotPath,
          trackIds: a.trackIds,
          detail: { ...a.detail, node: node.name },
          // Who sees the alert is the core's decision, from its own camera record and feeds.
          scope: alertScope(camera.mount, camera.location, feeds.geo, feeds.service),
        });
      } catch (err) {
        // Two replicas took the same resend at once: the other one committed it.
        if (await ctx.alerts.get(a.id).catch(() => null)) return { ok: true };
        log.error({ err, alertId: a.id, node: node.name }, 'cannot store a node alert; the node resends it');
        return { ok: false, error: 'the alert could not be stored yet', retry: true };
      }
      log.info({ alertId: a.id, kind: a.kind, cameraId: camera.id, node: node.name }, 'alert raised on an analytics node');
      return { ok: true };
    };

    /** Indexes a segment a node wrote into the shared directory, once it is there to be seen from here. */
    const acceptSegment = async (node: NodeRecord, seg: NodeSegment): Promise<NodeAck> => {
      if (!cameraRepo.get(seg.cameraId)) return { ok: false, error: `no camera with id ${seg.cameraId}`, retry: false };
      if (!seg.file.startsWith(`${seg.cameraId}/`))
        return { ok: false, error: 'a segment belongs under its camera’s folder', retry: false };
      const path = join(recordingsDir, ...seg.file.split('/'));
      if (!existsSync(path)) {
        // The node's recordings directory is not this one (not shared, or mounted elsewhere): say so loudly.
        log.error(
          { node: node.name, file: seg.file, recordingsDir },
          'a node reported a segment the core cannot see; is the recordings directory shared?',
        );
        return { ok: false, error: `segment ${seg.file} is not in the core's recordings directory ${recordingsDir}`, retry: false };
      }
      try {
        await cameras.addSegment({
          cameraId: seg.cameraId,
          path,
          startMs: seg.startMs,
          endMs: seg.endMs,
          bytes: seg.bytes,
          session: seg.session,
        });
      } catch (err) {
        log.warn({ err, node: node.name }, 'cannot index a node segment yet; the node resends it');
        return { ok: false, error: 'the segment could not be indexed yet', retry: true };
      }
      return { ok: true };
    };

    const acceptChange = async (node: NodeRecord, c: NodeAlertChange): Promise<NodeAck> => {
      const stored = await ctx.alerts.get(c.id);
      if (!stored) return { ok: false, error: `no alert with id ${c.id}`, retry: false };
      try {
        await ctx.alerts.update(c.id, {
          ...(c.endedAt !== undefined ? { endedAt: new Date(c.endedAt) } : {}),
          ...(c.score !== undefined ? { score: c.score } : {}),
          ...(c.trackIds !== undefined ? { trackIds: c.trackIds } : {}),
          ...(c.detail !== undefined ? { detail: { ...c.detail, node: node.name } } : {}),
        });
      } catch (err) {
        log.error({ err, alertId: c.id, node: node.name }, 'cannot store a node alert change; the node resends it');
        return { ok: false, error: 'the change could not be stored yet', retry: true };
      }
      return { ok: true };
    };

    nsp.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      void (typeof token === 'string' ? store.verify(token) : Promise.resolve(null)).then(
        (node) => {
          if (!node) {
            log.warn({ address: socket.handshake.address }, 'analytics node refused: unknown or revoked token');
            return next(new Error('unauthorized: unknown or revoked analytics node token (issue one with sentinel nodes add NAME)'));
          }
          (socket as NodeSocket).data.node = node;
          next();
        },
        (err: unknown) => {
          log.error({ err }, 'cannot check an analytics node token');
          next(new Error('the core cannot check node tokens now; retrying'));
        },
      );
    });

    nsp.on('connection', (socket: NodeSocket) => {
      const node = socket.data.node;
      log.info({ node: node.name, address: socket.handshake.address }, 'analytics node connected');
      /** The node as stored now: a revocation on another replica shows at its next message. */
      const current = async (): Promise<NodeRecord | null> => {
        const n = await store.get(node.id);
        if (n && !n.revokedAt) return n;
        socket.emit('node:revoked');
        socket.disconnect(true);
        return null;
      };
      const bad = (what: string, err: z.ZodError): string =>
        `${what}: ${err.issues[0]?.path.join('.') || '(root)'}: ${err.issues[0]?.message ?? 'invalid'}`;
      // A message whose handling fails (the database away) is answered as a retry, never left unanswered.
      const handle = <A>(what: string, ack: (a: A) => void, failed: A, fn: (n: NodeRecord) => Promise<A>): void =>
        void current()
          .then((n) => (n ? fn(n).then(ack) : undefined))
          .catch((err: unknown) => {
            log.error({ err, node: node.name }, `analytics node ${what} failed`);
            ack(failed);
          });
      socket.on('node:heartbeat', (raw, ack) => {
        if (typeof ack !== 'function') return;
        const hb = NodeHeartbeat.safeParse(raw);
        if (!hb.success) return ack({ error: bad('heartbeat', hb.error) });
        handle('heartbeat', ack, { error: 'the core could not place cameras now; retrying at the next heartbeat' }, (n) =>
          heartbeat(n, hb.data),
        );
      });
      const retry: NodeAck = { ok: false, error: 'the core could not take this now', retry: true };
      socket.on('node:alert', (raw, ack) => {
        if (typeof ack !== 'function') return;
        const a = NodeAlert.safeParse(raw);
        if (!a.success) return ack({ ok: false, error: bad('alert', a.error), retry: false });
        handle('alert', ack, retry, (n) => acceptAlert(n, a.data));
      });
      socket.on('node:alert-change', (raw, ack) => {
        if (typeof ack !== 'function') return;
        const c = NodeAlertChange.safeParse(raw);
        if (!c.success) return ack({ ok: false, error: bad('alert change', c.error), retry: false });
        handle('alert change', ack, retry, (n) => acceptChange(n, c.data));
      });
      socket.on('node:segment', (raw, ack) => {
        if (typeof ack !== 'function') return;
        const seg = NodeSegment.safeParse(raw);
        if (!seg.success) return ack({ ok: false, error: bad('segment', seg.error), retry: false });
        handle('segment', ack, { ok: false, error: 'the segment could not be indexed yet', retry: true }, (n) =>
          acceptSegment(n, seg.data),
        );
      });
      socket.on('node:occupancy', (raw) => {
        const o = NodeOccupancy.safeParse(raw);
        if (!o.success) return log.warn({ node: node.name }, bad('occupancy refused', o.error));
        void occupancy
          .add(o.data.cameraId, o.data.t, o.data.counts)
          .catch((err: unknown) => log.warn({ err, node: node.name }, 'occupancy sample from a node not stored'));
      });
      socket.on('node:frames', (raw) => {
        const f = z.array(NodeFrame).max(500).safeParse(raw);
        if (!f.success) return log.warn({ node: node.name }, bad('detections refused', f.error));
        for (const frame of f.data) ctx.bus.emit('analytics:frame', frame);
      });
      socket.on('node:bye', (ack) => {
        void leases
          .releaseAll(node.id)
          .then((freed) => log.info({ node: node.name, freed }, 'analytics node stopping; its cameras are free for the others'))
          .catch((err: unknown) =>
            log.warn({ err, node: node.name }, 'cannot free a stopping node’s cameras; its leases lapse by themselves'),
          )
          .finally(() => {
            if (typeof ack === 'function') ack();
          });
      });
      socket.on('disconnect', (reason) => {
        // Its connection closed (a killed node's socket closes at once): its cameras move after one
        // heartbeat instead of a whole lease time. The node stops them itself after half a
        // heartbeat without its connection, so two nodes do not run one camera; a node that comes
        // back within the heartbeat keeps them.
        // Its node lease too: the others' fair share counts live nodes.
        void leases
          .shorten(node.id, '', Date.now() + heartbeatMs)
          .then((moved) =>
            log.warn({ node: node.name, reason, leases: moved }, 'analytics node disconnected; its cameras move if it does not come back'),
          )
          .catch((err: unknown) =>
            log.warn({ err, node: node.name }, 'cannot shorten a disconnected node’s leases; they lapse by themselves'),
          );
      });
    });

    // A camera whose node stopped heartbeating changes state for its viewers (offline, then live on another node).
    const holders = new Map<string, string>();
    let watching = false;
    const watch = setInterval(() => {
      if (watching) return; // a slow database: the next check waits for this one
      watching = true;
      void (async () => {
        const all = await reloadCameraLeases();
        const now = Date.now();
        const live = new Map(all.filter((l) => l.expiresAtMs > now).map((l) => [l.name.slice(CAMERA.length), l.holder]));
        for (const c of cameraRepo.list()) {
          const h = live.get(c.id) ?? '';
          if ((holders.get(c.id) ?? '') !== h) cameras.publishHealth(c.id);
          holders.set(c.id, h);
        }
      })()
        .catch((err: unknown) => log.warn({ err }, 'cannot check camera placement'))
        .finally(() => {
          watching = false;
        });
    }, 1000);
    watch.unref();
    ctx.onClose(() => {
      clearInterval(watch);
      cameras.setRemoteHealth(null);
      cameras.setAnalysisSource(null);
      for (const s of nsp.sockets.values()) s.disconnect(true);
    });
    log.info({ leaseTtlMs: ttlMs, heartbeatMs }, 'cameras run on analytics nodes');
  },
};
