import { z } from 'zod';

/**
 * Zones: named polygons on one camera's picture, in normalised image coordinates
 * (0..1, x to the right, y down), so a zone survives a change of stream resolution. The
 * same schema checks the zones REST routes, the `--zones ZONES.json` file of
 * `sentinel analyze` and what the zone editor sends. The geometry checks live
 * here, not in analytics, because the console's editor needs the same answers.
 */

/**
 * `crowding`: counts people against a capacity; `operator`: the protected area around a bus
 * operator (a person inside it is a breach); `watch`: where fights are looked for;
 * `trackbed`: the track bed beside a platform (anyone inside is an intrusion, at once);
 * `loitering`: where staying long is the warning (platform edge, an operator area at a
 * terminal); `unattended`: where a bag left alone is looked for; `person-down`: where a person
 * falling and staying down is looked for; `surge`: where occupancy rising fast is the warning;
 * `privacy`: a privacy mask (a window into a home, a screen), pixelated in snapshots and
 * public copies and covered in the console's players; no rule runs on it; `motion-mask`: an
 * area whose changes never count as motion (a clock, a screen, trees), so it never wakes the
 * person detector; no rule runs on it either.
 */
export const ZoneKind = z.enum([
  'crowding',
  'operator',
  'watch',
  'trackbed',
  'loitering',
  'unattended',
  'person-down',
  'surge',
  'privacy',
  'motion-mask',
]);
export type ZoneKind = z.infer<typeof ZoneKind>;

/**
 * The kinds that only hide or quiet an area (no rule, no capacity, a polygon required): what
 * each is called, and what it does to its area.
 */
export const MASK_KINDS = {
  privacy: { label: 'privacy mask', does: 'hide' },
  'motion-mask': { label: 'motion mask', does: 'ignore' },
} as const;
export type MaskKind = keyof typeof MASK_KINDS;
export const isMaskKind = (k: ZoneKind): k is MaskKind => k in MASK_KINDS;

export type Point = [number, number];
const Coordinate = z.number().refine(Number.isFinite, 'must be a finite number');
export const Point = z.tuple([Coordinate, Coordinate]);

/** Which point of a person's box decides where the person is. */
export const ZoneAnchor = z.enum(['feet', 'center']);

/** Per-zone overrides of the rule settings; anything left out takes the documented default. */
export const ZoneRules = z.strictObject({
  /** Crowding: seconds at/above capacity before raising, and below the clear ratio before clearing (default 10). */
  holdS: z.number().min(0).max(3600).optional(),
  /** Crowding clears below this share of the capacity (default 0.8). */
  clearRatio: z.number().gt(0).max(1).optional(),
  /**
   * Seconds after an alert clears during which the same zone raises nothing new (default: 60
   * crowding, 30 barrier, 30 fight, 10 track intrusion, 120 loitering, 60 unattended object,
   * 60 person down, 60 crowd surge).
   */
  cooldownS: z.number().min(0).max(86_400).optional(),
  /** Operator zone: how long a person must be inside before it is a breach (default 1500 ms); track bed: before it is an intrusion (default 0, at once). */
  dwellMs: z.number().int().min(0).max(600_000).optional(),
  /** Operator zone: raise only while the vehicle moves, when its speed is known (default false). */
  onlyWhileMoving: z.boolean().optional(),
  /** Fight: frames of sustained abrupt motion (default 6). */
  fightFrames: z.number().int().min(2).max(300).optional(),
  /** Loitering: seconds one tracked person stays in the zone before raising (default 300, 5 minutes). */
  loiterS: z.number().min(1).max(86_400).optional(),
  /** Unattended object: seconds a bag stays still with nobody within reach before raising (default 30). */
  unattendedS: z.number().min(1).max(3600).optional(),
  /** Unattended object: how near a person must be to attend a bag, in that person's heights (default 1.5). */
  reachHeights: z.number().gt(0).max(10).optional(),
  /** Person down: seconds a person lies still after falling before raising (default 5). */
  downS: z.number().min(0).max(600).optional(),
  /** Crowd surge: rise in people within `surgeWindowS` that raises (default 6). */
  surgeRise: z.number().int().min(1).max(1000).optional(),
  /** Crowd surge: the window the rise is measured over, seconds (default 15). */
  surgeWindowS: z.number().min(1).max(600).optional(),
});
export type ZoneRules = z.infer<typeof ZoneRules>;

/** One rule option a zone of some kind takes, with the default the rule applies when it is left out. */
export interface ZoneRuleOption {
  key: keyof ZoneRules;
  label: string;
  /** The documented default (analytics/rules/*: a test keeps them equal). */
  default: number | boolean;
  step?: number;
}

/**
 * The options each kind's rule reads, for the zone editor (which shows the default as the
 * placeholder) and the docs. Options of other kinds are accepted by the schema but unused.
 */
export const ZONE_RULE_OPTIONS: Record<ZoneKind, readonly ZoneRuleOption[]> = {
  crowding: [
    { key: 'holdS', label: 'Hold (s)', default: 10 },
    { key: 'clearRatio', label: 'Clear ratio', default: 0.8, step: 0.05 },
    { key: 'cooldownS', label: 'Cooldown (s)', default: 60 },
  ],
  operator: [
    { key: 'dwellMs', label: 'Inside before a breach (ms)', default: 1500, step: 100 },
    { key: 'onlyWhileMoving', label: 'Only while the bus moves', default: false },
    { key: 'cooldownS', label: 'Cooldown (s)', default: 30 },
  ],
  watch: [{ key: 'cooldownS', label: 'Cooldown (s)', default: 30 }],
  trackbed: [
    { key: 'dwellMs', label: 'Inside before raising (ms)', default: 0, step: 100 },
    { key: 'cooldownS', label: 'Cooldown (s)', default: 10 },
  ],
  loitering: [
    { key: 'loiterS', label: 'Stay longer than (s)', default: 300 },
    { key: 'cooldownS', label: 'Cooldown (s)', default: 120 },
  ],
  unattended: [
    { key: 'unattendedS', label: 'Alone for (s)', default: 30 },
    { key: 'reachHeights', label: 'Reach (person heights)', default: 1.5, step: 0.1 },
    { key: 'cooldownS', label: 'Cooldown (s)', default: 60 },
  ],
  'person-down': [
    { key: 'downS', label: 'Down and still for (s)', default: 5 },
    { key: 'cooldownS', label: 'Cooldown (s)', default: 60 },
  ],
  surge: [
    { key: 'surgeRise', label: 'Rise of (people)', default: 6 },
    { key: 'surgeWindowS', label: 'Within (s)', default: 15 },
    { key: 'cooldownS', label: 'Cooldown (s)', default: 60 },
  ],
  privacy: [],
  'motion-mask': [],
};

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const ZoneBase = z.strictObject({
  id: z.string().regex(ID_RE, 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
  name: z.string().min(1).max(100).optional(),
  kind: ZoneKind,
  /** Three or more points; leave it out for the whole frame. */
  polygon: z.array(Point).optional(),
  /** People the zone holds; required for `crowding`, a whole number above 0. */
  capacity: z.number().optional(),
  /** Sub-zones that do not count (the operator's own seat inside an operator zone). */
  exclude: z.array(z.array(Point)).max(8).optional(),
  anchor: ZoneAnchor.optional(),
  rules: ZoneRules.optional(),
});

/** Twice the signed area of a polygon (shoelace). */
export function polygonArea2(poly: readonly Point[]): number {
  let a = 0;
  for (let i = 0; i < poly.length; i++) {
    const p = poly[i]!;
    const q = poly[(i + 1) % poly.length]!;
    a += p[0] * q[1] - q[0] * p[1];
  }
  return a;
}

function orient(a: Point, b: Point, c: Point): number {
  const v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  return Math.abs(v) < 1e-12 ? 0 : Math.sign(v);
}

function onSegment(a: Point, b: Point, p: Point): boolean {
  return (
    Math.min(a[0], b[0]) - 1e-12 <= p[0] &&
    p[0] <= Math.max(a[0], b[0]) + 1e-12 &&
    Math.min(a[1], b[1]) - 1e-12 <= p[1] &&
    p[1] <= Math.max(a[1], b[1]) + 1e-12
  );
}

/** Whether segments ab and cd share a point (touching counts). */
export function segmentsIntersect(a: Point, b: Point, c: Point, d: Point): boolean {
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  if (o1 === 0 && onSegment(a, b, c)) return true;
  if (o2 === 0 && onSegment(a, b, d)) return true;
  if (o3 === 0 && onSegment(c, d, a)) return true;
  if (o4 === 0 && onSegment(c, d, b)) return true;
  return false;
}

/** The first pair of non-adjacent edges that cross, as edge indexes, or null for a simple polygon. */
export function selfIntersection(poly: readonly Point[]): [number, number] | null {
  const n = poly.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Adjacent edges share a vertex by construction.
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsIntersect(poly[i]!, poly[(i + 1) % n]!, poly[j]!, poly[(j + 1) % n]!)) return [i, j];
    }
  }
  return null;
}

/** Ray casting; points on the boundary may fall either way (zones are never that precise). */
export function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!;
    const b = poly[j]!;
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/** Problems of one polygon, each with the message a person needs to fix it. */
export function polygonProblems(poly: readonly Point[]): string | null {
  if (poly.length < 3) return `needs at least 3 points, has ${poly.length}`;
  for (let i = 0; i < poly.length; i++) {
    const [x, y] = poly[i]!;
    if (x < 0 || x > 1 || y < 0 || y > 1) return `point ${i + 1} (${x}, ${y}) is outside the frame; coordinates are normalised to 0..1`;
  }
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    if (a[0] === b[0] && a[1] === b[1]) return `points ${i + 1} and ${((i + 1) % poly.length) + 1} are the same point`;
  }
  const x = selfIntersection(poly);
  if (x) return `crosses itself (edge ${x[0] + 1} crosses edge ${x[1] + 1})`;
  // A polygon thinner than this (0.01 % of the frame) is a line drawn by mistake.
  if (Math.abs(polygonArea2(poly)) / 2 < 1e-4) return 'is degenerate (its area is zero or almost zero: are the points on one line?)';
  return null;
}

function checkZone(z0: z.infer<typeof ZoneBase>, ctx: z.RefinementCtx): void {
  if (z0.polygon) {
    const p = polygonProblems(z0.polygon);
    if (p) ctx.addIssue({ code: 'custom', path: ['polygon'], message: `polygon ${p}` });
  }
  z0.exclude?.forEach((ex, i) => {
    const p = polygonProblems(ex);
    if (p) ctx.addIssue({ code: 'custom', path: ['exclude', i], message: `excluded polygon ${p}` });
  });
  if (isMaskKind(z0.kind) && !z0.polygon) {
    const mask = MASK_KINDS[z0.kind];
    ctx.addIssue({
      code: 'custom',
      path: ['polygon'],
      message: `a ${mask.label} needs a polygon (the area to ${mask.does}), not the whole frame`,
    });
  }
  if (z0.kind === 'crowding') {
    if (z0.capacity === undefined)
      ctx.addIssue({ code: 'custom', path: ['capacity'], message: 'a crowding zone needs a capacity (people, a whole number above 0)' });
    else if (!Number.isInteger(z0.capacity) || z0.capacity <= 0)
      ctx.addIssue({ code: 'custom', path: ['capacity'], message: `capacity must be a whole number above 0, got ${z0.capacity}` });
  } else if (z0.capacity !== undefined && (!Number.isInteger(z0.capacity) || z0.capacity <= 0)) {
    ctx.addIssue({ code: 'custom', path: ['capacity'], message: `capacity must be a whole number above 0, got ${z0.capacity}` });
  }
}

export const Zone = ZoneBase.superRefine(checkZone);
export type Zone = z.infer<typeof Zone>;

/** A camera's zones, as stored and as the `ZONES.json` file of `sentinel analyze`. */
export const ZonesFile = z.strictObject({ zones: z.array(Zone).max(64) }).superRefine((f, ctx) => {
  const seen = new Set<string>();
  f.zones.forEach((zone, i) => {
    if (seen.has(zone.id)) ctx.addIssue({ code: 'custom', path: ['zones', i, 'id'], message: `zone id "${zone.id}" is used twice` });
    seen.add(zone.id);
  });
});
export type ZonesFile = z.infer<typeof ZonesFile>;

/** One line naming the zone and the key of the first problem: `zones[1] ("door").polygon: ...`. */
export function formatZoneIssue(err: z.ZodError, raw: unknown): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid zones';
  const path = issue.path;
  let where = path.length ? path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') : '(root)';
  if (path[0] === 'zones' && typeof path[1] === 'number') {
    const zones = (raw as { zones?: unknown[] } | null)?.zones;
    const id = (zones?.[path[1]] as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string') where = where.replace(`zones[${path[1]}]`, `zones[${path[1]}] ("${id}")`);
  }
  if (issue.code === 'unrecognized_keys')
    return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `${where}: ${issue.message}`;
}

/** One point of a zone's occupancy series (people counted in the zone, per sample). */
export const OccupancyPoint = z.strictObject({ t: z.string(), count: z.number().int().min(0) });
export type OccupancyPoint = z.infer<typeof OccupancyPoint>;

export const OccupancySeries = z.strictObject({
  cameraId: z.string(),
  zoneId: z.string(),
  capacity: z.number().nullable(),
  points: z.array(OccupancyPoint),
});
export type OccupancySeries = z.infer<typeof OccupancySeries>;

export const CameraZones = z.strictObject({ cameraId: z.string(), zones: z.array(Zone) });
export type CameraZones = z.infer<typeof CameraZones>;

const masksOf = (zones: readonly Zone[], kind: MaskKind): Point[][] =>
  zones.filter((z0) => z0.kind === kind && z0.polygon).map((z0) => z0.polygon!);

/** The privacy masks among a camera's zones: the polygons to hide. */
export const privacyMasks = (zones: readonly Zone[]): Point[][] => masksOf(zones, 'privacy');

/** The motion masks among a camera's zones: the polygons whose changes never count as motion. */
export const motionMasks = (zones: readonly Zone[]): Point[][] => masksOf(zones, 'motion-mask');
