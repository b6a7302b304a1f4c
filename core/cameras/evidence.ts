import { z } from 'zod';
import { EvidenceHoldCreate, EvidenceHoldLift, routes, type Alert, type AlertClip, type EvidenceHold } from '../../contract';
import { actorOf, type Audit } from '../audit';
import type { SqlDb } from '../db/sql';
import type { Lifecycle } from '../lifecycle';
import type { ReviewStore } from '../review/service';
import { SentinelError } from '../errors';
import type { EventBus } from '../events/bus';
import type { CoreContext } from '../feature';
import { parseInput } from '../http/errors';
import type { Logger } from '../logger';
import type { Clips } from '../recording/clips';
import { AlertClipStore, HoldStore, type AlertClipLink, type EvidenceHold as HoldRecord } from '../recording/holds';

/**
 * What evidence needs to know about alerts and incidents, read through this interface so the
 * recording side never writes (or depends on the layout of) the alert and incident tables.
 */
export interface EvidenceRefs {
  /** Why an alert's footage must still be kept ("open incident", ...), or null when nothing needs it. */
  holdReason(alertId: string): Promise<string | null>;
  /** The alert ids of an incident, or null when there is no such incident. */
  alertsOfIncident(incidentId: string): Promise<string[] | null>;
}

/**
 * EvidenceRefs from the owners of the data: the alert store, the incidents repository, the
 * acknowledgement rule and the review store. An alert's footage is kept while its incident is
 * open, while nobody reviewed it (no acknowledgement, no verdict), and for as long as an
 * evidence export of its incident exists.
 */
export function evidenceRefs(lifecycle: Pick<Lifecycle, 'alerts' | 'incidents' | 'service'>, review: ReviewStore): EvidenceRefs {
  return {
    async holdReason(alertId) {
      if (!(await lifecycle.alerts.get(alertId))) return 'alert not found (kept to be safe)';
      const inc = await lifecycle.incidents.forAlert(alertId);
      if (inc && inc.state !== 'resolved' && inc.state !== 'false-alarm') return `incident ${inc.id} is open`;
      if (inc && (await review.exports(inc.id)).some((e) => e.state !== 'failed')) return `incident ${inc.id} has an evidence export`;
      const reviewed = (await lifecycle.service.acks(alertId)).length > 0 || (inc !== null && (await review.verdict(inc.id)) !== null);
      return reviewed ? null : 'not reviewed yet';
    },
    async alertsOfIncident(incidentId) {
      return (await lifecycle.incidents.get(incidentId)) ? lifecycle.incidents.alertIds(incidentId) : null;
    },
  };
}

export interface AutoEvidenceOptions {
  preRollMs: number;
  postRollMs: number;
  segmentSeconds: number;
  /** Clips cut at the same time (each is an ffmpeg copy: disk bound, cheap on CPU). */
  concurrency?: number;
}

/** A queued cut found the core stopping: it stays pending and resumes at the next start. */
class ShuttingDown extends Error {}

const iso = (ms: number): string => new Date(ms).toISOString();

export function toPublicHold(h: HoldRecord): EvidenceHold {
  const { fromMs, toMs, ...rest } = h;
  return { ...rest, from: iso(fromMs), to: iso(toMs) };
}

function toPublicClip(l: AlertClipLink): AlertClip {
  return {
    alertId: l.alertId,
    cameraId: l.cameraId,
    from: iso(l.fromMs),
    to: iso(l.toMs),
    state: l.state,
    clipId: l.clipId,
    sha256: l.sha256,
    error: l.error,
    updatedAt: l.updatedAt,
  };
}

/**
 * Every raised alert gets its evidence: a hold on its window of recording (so retention keeps
 * it whatever happens next), then, once the post-roll has been recorded, a clip cut from the
 * segments with its SHA-256, linked to the alert and announced as 'clip:ready'. When the cut
 * fails (no recording, a full disk) the alert is untouched, the error is stored on the link
 * and announced as 'clip:failed', and the footage stays held for a person to cut later.
 */
export class AutoEvidence {
  readonly holds: HoldStore;
  readonly links: AlertClipStore;
  private active = 0;
  private readonly queue: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Cuts waiting for their post-roll; shutdown wakes them (they stay pending and resume at the next start). */
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly db: SqlDb,
    private readonly bus: EventBus,
    private readonly clips: Clips,
    private readonly refs: EvidenceRefs,
    private readonly opts: AutoEvidenceOptions,
    private readonly log: Logger,
    private readonly audit: Audit,
  ) {
    this.holds = new HoldStore(db);
    this.links = new AlertClipStore(db);
  }

  /** Subscribes to alerts and resumes cuts a previous run left pending. */
  async start(): Promise<() => void> {
    const off = this.bus.on('alert:raised', (alert) => {
      // A bus listener must never throw into the publisher (the alert is already stored).
      this.track(
        this.onAlert(alert).catch((err: unknown) =>
          this.log.error({ err, alertId: alert.id }, 'could not start the evidence clip of an alert'),
        ),
      );
    });
    for (const l of await this.links.pending()) this.track(this.cut(l.alertId, l.cameraId, l.fromMs, l.toMs));
    return off;
  }

  /** Waits (at most `graceMs`) for the cuts under way; the rest stay pending and resume at the next start. */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  async onAlert(alert: Alert): Promise<void> {
    const t = Date.parse(alert.startedAt);
    const fromMs = t - this.opts.preRollMs;
    const toMs = t + this.opts.postRollMs;
    // Hold first: from this moment retention keeps the window, even if the cut never happens.
    await this.holds.place({ cameraId: alert.cameraId, fromMs, toMs, kind: 'alert', ref: alert.id, reason: 'alert evidence' });
    if (!(await this.links.begin(alert.id, alert.cameraId, fromMs, toMs))) return;
    this.track(this.cut(alert.id, alert.cameraId, fromMs, toMs));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    const max = this.opts.concurrency ?? 2;
    if (this.active >= max) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  private async cut(alertId: string, cameraId: string, fromMs: number, toMs: number): Promise<void> {
    try {
      // The post-roll is in the future when the alert is raised: wait for it to be recorded
      // (its segment is indexed when it closes), then take a cutting slot.
      const waitMs = toMs - Date.now();
      if (waitMs > 0) await this.sleep(waitMs);
      if (this.closed) return; // stays pending: resumed at the next start
      const clip = await this.slot(() =>
        this.closed
          ? Promise.reject(new ShuttingDown())
          : this.clips.cut(cameraId, fromMs, toMs, { preRollMs: 0, postRollMs: 0, waitForMs: this.opts.segmentSeconds * 2000 + 3000 }),
      );
      await this.links.ready(alertId, clip.id, clip.sha256);
      this.bus.emit('clip:ready', { alertId, clipId: clip.id, cameraId, sha256: clip.sha256 });
    } catch (err) {
      if (err instanceof ShuttingDown) return;
      const error = err instanceof Error ? err.message : String(err);
      this.log.warn({ alertId, cameraId, error }, 'evidence clip failed; the alert is kept and its footage stays held');
      try {
        await this.links.failed(alertId, error);
      } catch (e) {
        this.log.error({ err: e, alertId }, 'could not record the clip failure');
      }
      this.bus.emit('clip:failed', { alertId, cameraId, error });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /**
   * Lifts the alert holds nothing refers to any more (each lift audited as the system's),
   * then returns every range still held, for the retention sweep.
   */
  async releaseAndListHeld(now = new Date()): Promise<HoldRecord[]> {
    const keep: HoldRecord[] = [];
    for (const h of await this.holds.active()) {
      if (h.kind === 'alert') {
        const why = await this.refs.holdReason(h.ref);
        if (why === null) {
          // The lift and its audit record commit together.
          const lifted = await this.db.transaction(async (trx) => {
            const l = await this.holds.lift(h.id, 'system', 'alert reviewed and its incident closed', now, trx);
            const rec = l
              ? await this.audit.trail.append(
                  {
                    actorId: null,
                    actor: 'system',
                    action: 'evidence.hold_lift',
                    target: `hold:${h.id}`,
                    detail: { cameraId: h.cameraId, alertId: h.ref, reason: l.liftReason },
                  },
                  trx,
                )
              : null;
            return l && rec ? { l, rec } : null;
          });
          if (lifted) {
            this.audit.trail.published(lifted.rec);
            continue;
          }
        }
      }
      keep.push(h);
    }
    return keep;
  }

  async clipsOf(alertIds: string[]): Promise<AlertClip[]> {
    return (await Promise.all(alertIds.map((id) => this.links.get(id)))).filter((l): l is AlertClipLink => l !== null).map(toPublicClip);
  }
}

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
const HoldIdParams = z.strictObject({ id: z.coerce.number().int().positive() });
const HoldsQuery = z.strictObject({ active: z.enum(['true', 'false']).optional() });

/** The evidence routes: an incident's clips and holds; listing, placing and lifting holds (audited). */
export function registerEvidenceRoutes(
  ctx: CoreContext,
  ev: AutoEvidence,
  refs: EvidenceRefs,
  cameraExists: (id: string) => boolean,
): void {
  const { http } = ctx;
  http.get(routes.incidentEvidence.path, async (req) => {
    const { id } = parseInput(IdParams, req.params, 'params');
    const alertIds = await refs.alertsOfIncident(id);
    if (!alertIds) throw new SentinelError(`no incident with id ${id}`, 'not_found', 'id');
    const holds = (await Promise.all(alertIds.map((a) => ev.holds.forAlert(a)))).flat();
    return { clips: await ev.clipsOf(alertIds), holds: holds.map(toPublicHold) };
  });
  http.get(routes.evidenceHolds.path, async (req) => {
    const q = parseInput(HoldsQuery, req.query, 'query');
    const rows = q.active === 'false' ? await ev.holds.recent(1000) : await ev.holds.active();
    return { holds: rows.map(toPublicHold) };
  });
  http.post(routes.evidenceHoldCreate.path, async (req, reply) => {
    const b = parseInput(EvidenceHoldCreate, req.body);
    const fromMs = typeof b.from === 'number' ? b.from : Date.parse(b.from);
    const toMs = typeof b.to === 'number' ? b.to : Date.parse(b.to);
    if (!(toMs > fromMs)) throw new SentinelError('"to" must be after "from"', 'bad_request', 'to');
    if (!cameraExists(b.cameraId)) throw new SentinelError(`no camera with id ${b.cameraId}`, 'not_found', 'cameraId');
    const h = await ev.holds.place({
      cameraId: b.cameraId,
      fromMs,
      toMs,
      kind: 'manual',
      ref: b.ref,
      reason: b.reason,
      createdBy: req.auth?.user.username ?? null,
    });
    await ctx.audit.record(req, 'evidence.hold_place', `hold:${h.id}`, {
      cameraId: h.cameraId,
      from: iso(fromMs),
      to: iso(toMs),
      ref: h.ref,
      reason: h.reason,
    });
    return reply.status(201).send(toPublicHold(h));
  });
  http.post(routes.evidenceHoldLift.path, async (req) => {
    const { id } = parseInput(HoldIdParams, req.params, 'params');
    const { reason } = parseInput(EvidenceHoldLift, req.body);
    const cur = await ev.holds.get(id);
    if (!cur) throw new SentinelError(`no evidence hold with id ${id}`, 'not_found', 'id');
    if (cur.liftedAt) throw new SentinelError(`evidence hold ${id} was already lifted at ${cur.liftedAt}`, 'conflict', 'id');
    // The lift and its audit record commit together.
    const done = await ctx.sql.transaction(async (trx) => {
      const l = await ev.holds.lift(id, req.auth?.user.username ?? 'unknown', reason, new Date(), trx);
      if (!l) return null;
      const rec = await ctx.audit.trail.append(
        {
          ...actorOf(req),
          action: 'evidence.hold_lift',
          target: `hold:${id}`,
          detail: { cameraId: l.cameraId, kind: l.kind, ref: l.ref, reason },
        },
        trx,
      );
      return { l, rec };
    });
    if (done) ctx.audit.trail.published(done.rec);
    const lifted = done?.l ?? null;
    if (!lifted) throw new SentinelError(`evidence hold ${id} was already lifted`, 'conflict', 'id');
    return toPublicHold(lifted);
  });
}
