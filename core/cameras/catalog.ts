import type { CameraCreate, CameraUpdate } from '../../contract/cameras';
import type { Cluster } from '../cluster';
import type { Logger } from '../logger';
import type { CameraRecord, CameraRepository } from './repository';

/** The cluster topic on which a replica says "camera <id> changed" (the others re-read it). */
const TOPIC = 'cameras';
/**
 * How often a clustered replica re-reads every camera. Notices go over Redis and are dropped
 * while it is away; this bounds how long a missed one can leave a camera stale (the same
 * bound the visibility rule's own placement cache has: core/access/camera-scope.ts).
 */
export const CAMERA_RESYNC_MS = 10_000;

/** A camera that changed: `before` null for a new one, `after` null for a deleted one. */
export interface CameraChange {
  id: string;
  before: CameraRecord | null;
  after: CameraRecord | null;
  /** 'here' for a write through this process, 'replica' for one another replica made. */
  origin: 'here' | 'replica';
}

const byName = (a: CameraRecord, b: CameraRecord): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
/** Whether two reads of a camera differ (two edits within one millisecond share `updatedAt`). */
const differs = (a: CameraRecord | null, b: CameraRecord | null): boolean => JSON.stringify(a) !== JSON.stringify(b);

/**
 * Every camera in memory, for the synchronous readers that run per alert, per socket and per
 * frame (the visibility rule, live video, analytics start-up, node heartbeats): a camera
 * lookup there must not become a database round trip. Loaded at start; every write goes
 * through here (to the repository, then into the map), so this process never reads its own
 * writes stale. Replicas share the database: after each write the catalog tells the others on
 * the cluster's `cameras` topic, and they re-read that camera at once; a notice lost while
 * Redis is away is made good by the full re-read every CAMERA_RESYNC_MS. A reader that must
 * not act on a camera another replica created a moment ago (it would refuse it as unknown)
 * uses `fresh()`, which asks the database on a miss.
 */
export class CameraCatalog {
  private readonly byId = new Map<string, CameraRecord>();
  private readonly listeners = new Set<(c: CameraChange) => void>();
  /** Counts this process's writes: a re-read that overlapped one may hold older data and is not applied. */
  private writes = 0;
  private cluster: Pick<Cluster, 'publish'> | null = null;

  constructor(
    readonly repo: CameraRepository,
    private readonly log: Logger,
  ) {}

  /** Reads every camera from the database (at start, and at each resync when clustered). */
  async load(origin: CameraChange['origin'] = 'replica'): Promise<void> {
    const before = this.writes;
    const all = await this.repo.list();
    if (this.writes !== before) return; // a write of ours overlapped the read: the next resync re-reads
    const seen = new Set<string>();
    for (const c of all) {
      seen.add(c.id);
      if (differs(this.byId.get(c.id) ?? null, c)) this.apply(c.id, c, origin);
    }
    for (const id of [...this.byId.keys()]) if (!seen.has(id)) this.apply(id, null, origin);
  }

  /** Every camera by name (the order the database's `ORDER BY name` gives: byte order). */
  list(): CameraRecord[] {
    return [...this.byId.values()].sort(byName);
  }

  get(id: string): CameraRecord | null {
    return this.byId.get(id) ?? null;
  }

  findByName(name: string): CameraRecord | null {
    for (const c of this.byId.values()) if (c.name === name) return c;
    return null;
  }

  /** Like `get`, but a camera unknown here is looked up in the database (another replica may have just created it). */
  async fresh(id: string): Promise<CameraRecord | null> {
    const hit = this.byId.get(id);
    if (hit) return hit;
    await this.refresh(id);
    return this.byId.get(id) ?? null;
  }

  async create(input: CameraCreate, opts: { demo?: boolean } = {}): Promise<CameraRecord> {
    this.writes++;
    const c = await this.repo.create(input, opts);
    this.written(c.id, c);
    return c;
  }

  /** Creates every camera in one transaction, or none (CSV import). */
  async createAll(inputs: readonly CameraCreate[]): Promise<CameraRecord[]> {
    this.writes++;
    const all = await this.repo.createAll(inputs);
    for (const c of all) this.written(c.id, c);
    return all;
  }

  async update(id: string, patch: CameraUpdate): Promise<CameraRecord> {
    this.writes++;
    const c = await this.repo.update(id, patch);
    this.written(id, c);
    return c;
  }

  async delete(id: string): Promise<boolean> {
    this.writes++;
    const deleted = await this.repo.delete(id);
    this.written(id, null);
    return deleted;
  }

  /** Called on every change, this process's writes and the other replicas' alike. A listener must not throw. */
  onChange(fn: (c: CameraChange) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /**
   * Keeps the catalog in step with the other replicas (no-op alone): re-reads a camera when a
   * replica says it changed, tells them about this process's writes, and re-reads everything
   * every `everyMs`. Returns the stop function.
   */
  async follow(cluster: Pick<Cluster, 'clustered' | 'publish' | 'subscribe'>, everyMs = CAMERA_RESYNC_MS): Promise<() => void> {
    if (!cluster.clustered) return () => undefined;
    await cluster.subscribe(TOPIC, (payload) => {
      const id = (payload as { id?: unknown } | null)?.id;
      if (typeof id !== 'string') return void this.log.warn({ payload }, 'a camera change notice without a camera id; ignored');
      void this.refresh(id).catch((err: unknown) =>
        this.log.warn({ err, cameraId: id }, 'cannot re-read a camera another replica changed'),
      );
    });
    this.cluster = cluster;
    const timer = setInterval(() => {
      void this.load().catch((err: unknown) => this.log.warn({ err }, 'cannot re-read the cameras'));
    }, everyMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.cluster = null;
    };
  }

  /** Re-reads one camera; a read that overlapped a write of ours is repeated (it may predate it). */
  private async refresh(id: string): Promise<void> {
    for (;;) {
      const before = this.writes;
      const c = await this.repo.get(id);
      if (this.writes !== before) continue;
      if (differs(this.byId.get(id) ?? null, c)) this.apply(id, c, 'replica');
      return;
    }
  }

  private written(id: string, c: CameraRecord | null): void {
    this.apply(id, c, 'here');
    this.cluster?.publish(TOPIC, { id });
  }

  private apply(id: string, after: CameraRecord | null, origin: CameraChange['origin']): void {
    const before = this.byId.get(id) ?? null;
    if (after) this.byId.set(id, after);
    else this.byId.delete(id);
    if (!before && !after) return;
    for (const fn of this.listeners) {
      try {
        fn({ id, before, after, origin });
      } catch (err) {
        this.log.error({ err, cameraId: id }, 'a camera change listener failed');
      }
    }
  }
}
