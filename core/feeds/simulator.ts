import { RAIL_LINES, vehicleId, type RailLine, type Vehicle } from '../../contract';
import type { BusShape, GeoData, RailSegment, Station } from '../geo/geodata';
import { bearingDeg, distanceM } from '../geo/pip';
import { Polyline } from './polyline';

/**
 * The demo fleet: buses and trains moving along real CTA geometry from the assets (bus
 * route shapes, 'L' track segments) at real or accelerated speed. Vehicles report in
 * groups spread over the report interval, as real Bus Tracker polling does (ten routes a
 * call), so the core and the map handle a steady trickle of small diffs rather than one
 * burst. Seeded, so a test sees the same fleet every run.
 */
export interface SimulatorOptions {
  buses: number;
  trains: number;
  /** 1 = real speeds; 10 = ten times faster (a lively demo). */
  speed: number;
  /** Every vehicle reports once per interval... */
  reportIntervalMs: number;
  /** ...in this many groups, spaced evenly over the interval. */
  groups: number;
  seed?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Rail data LEGEND codes per line, and the lines running on the shared Loop ('ML') track.
const LEGEND: Record<RailLine, string> = { Red: 'RD', Blue: 'BL', Brn: 'BR', G: 'GR', Org: 'OR', P: 'PR', Pink: 'PK', Y: 'YL' };
const LOOP_LINES = new Set<RailLine>(['Brn', 'G', 'Org', 'P', 'Pink']);
// Terminals: [when heading north or west, otherwise]; the axis says which component decides.
const TERMINALS: Record<RailLine, { axis: 'ns' | 'ew'; up: string; down: string }> = {
  Red: { axis: 'ns', up: 'Howard', down: '95th/Dan Ryan' },
  Blue: { axis: 'ew', up: "O'Hare", down: 'Forest Park' },
  Brn: { axis: 'ns', up: 'Kimball', down: 'Loop' },
  G: { axis: 'ew', up: 'Harlem/Lake', down: 'Ashland/63rd' },
  Org: { axis: 'ns', up: 'Loop', down: 'Midway' },
  P: { axis: 'ns', up: 'Linden', down: 'Loop' },
  Pink: { axis: 'ew', up: '54th/Cermak', down: 'Loop' },
  Y: { axis: 'ns', up: 'Skokie', down: 'Howard' },
};

interface SimBus {
  id: string;
  route: string;
  shapes: Polyline[];
  directions: string[];
  shape: number;
  d: number;
  speed: number;
  delayedUntil: number;
}

interface RailEdge {
  line: Polyline;
  primary: string;
  from: string;
  to: string;
}

interface SimTrain {
  id: string;
  line: RailLine;
  edge: RailEdge;
  forward: boolean;
  d: number;
  speed: number;
  delayedUntil: number;
  cameFrom: RailEdge | null;
}

const nodeKey = (p: readonly [number, number]): string => `${p[0].toFixed(4)},${p[1].toFixed(4)}`;

export class FleetSimulator {
  private readonly rand: () => number;
  private readonly buses: SimBus[] = [];
  private readonly trains: SimTrain[] = [];
  private readonly edgesAt = new Map<string, RailEdge[]>();
  private readonly stationsByLine = new Map<string, Station[]>();
  private readonly lastAdvance: number[];
  private nextGroup = 0;

  constructor(
    geo: GeoData,
    private readonly opts: SimulatorOptions,
    startMs = Date.now(),
  ) {
    this.rand = mulberry32(opts.seed ?? 20240101);
    this.buildBuses(geo.busShapes);
    this.buildTrains(geo.railSegments);
    for (const s of geo.stations) for (const l of s.lines) this.stationsByLine.set(l, [...(this.stationsByLine.get(l) ?? []), s]);
    this.lastAdvance = new Array<number>(Math.max(1, opts.groups)).fill(startMs);
  }

  get size(): { buses: number; trains: number } {
    return { buses: this.buses.length, trains: this.trains.length };
  }

  /** Delay between two groups' reports. */
  get groupIntervalMs(): number {
    return this.opts.reportIntervalMs / Math.max(1, this.opts.groups);
  }

  /** Every vehicle's current report (the first snapshot). */
  all(nowMs: number): Vehicle[] {
    const ts = new Date(nowMs).toISOString();
    return [...this.buses.map((b) => this.busReport(b, ts, nowMs)), ...this.trains.map((t) => this.trainReport(t, ts, nowMs))];
  }

  /** Advances the next group of vehicles to `nowMs` and returns their reports. */
  nextReports(nowMs: number): Vehicle[] {
    const groups = this.lastAdvance.length;
    const g = this.nextGroup;
    this.nextGroup = (g + 1) % groups;
    const dtS = (Math.max(0, nowMs - (this.lastAdvance[g] as number)) / 1000) * this.opts.speed;
    this.lastAdvance[g] = nowMs;
    const ts = new Date(nowMs).toISOString();
    const out: Vehicle[] = [];
    for (let i = g; i < this.buses.length; i += groups) {
      const b = this.buses[i]!;
      this.moveBus(b, dtS, nowMs);
      out.push(this.busReport(b, ts, nowMs));
    }
    for (let i = g; i < this.trains.length; i += groups) {
      const t = this.trains[i]!;
      this.moveTrain(t, dtS, nowMs);
      out.push(this.trainReport(t, ts, nowMs));
    }
    return out;
  }

  private buildBuses(shapes: BusShape[]): void {
    const byRoute = new Map<string, BusShape[]>();
    for (const s of shapes) byRoute.set(s.route, [...(byRoute.get(s.route) ?? []), s]);
    const routes = [...byRoute.entries()].map(([route, list]) => ({
      route,
      lines: list.map((s) => new Polyline(s.coords)),
      directions: list.map((s) => s.direction),
    }));
    const total = routes.reduce((sum, r) => sum + r.lines.reduce((a, l) => a + l.length, 0), 0);
    if (routes.length === 0 || total === 0) return;
    // Buses per route in proportion to route length (long routes run more buses), at least one.
    let vid = 1000;
    for (const r of routes) {
      const len = r.lines.reduce((a, l) => a + l.length, 0);
      const n = Math.max(1, Math.round((this.opts.buses * len) / total));
      for (let k = 0; k < n && this.buses.length < this.opts.buses; k++) {
        const shape = Math.floor(this.rand() * r.lines.length);
        this.buses.push({
          id: vehicleId('bus', String(vid++)),
          route: r.route,
          shapes: r.lines,
          directions: r.directions,
          shape,
          d: this.rand() * (r.lines[shape]?.length ?? 0),
          speed: 4 + this.rand() * 4, // m/s: city buses average 15-25 km/h with stops
          delayedUntil: 0,
        });
      }
    }
    // Rounding can leave the fleet short: top up on the longest routes.
    const longest = [...routes].sort((a, b) => b.lines[0]!.length - a.lines[0]!.length);
    for (let i = 0; this.buses.length < this.opts.buses; i++) {
      const r = longest[i % longest.length]!;
      this.buses.push({
        id: vehicleId('bus', String(vid++)),
        route: r.route,
        shapes: r.lines,
        directions: r.directions,
        shape: 0,
        d: this.rand() * r.lines[0]!.length,
        speed: 4 + this.rand() * 4,
        delayedUntil: 0,
      });
    }
  }

  private buildTrains(segments: RailSegment[]): void {
    const edges: RailEdge[] = segments.map((s) => {
      const edge: RailEdge = {
        line: new Polyline(s.coords),
        primary: s.legend,
        from: nodeKey(s.coords[0]!),
        to: nodeKey(s.coords[s.coords.length - 1]!),
      };
      return edge;
    });
    const allowed = new Map<RailLine, Set<RailEdge>>();
    for (const line of RAIL_LINES) {
      const code = LEGEND[line];
      const set = new Set<RailEdge>();
      segments.forEach((s, i) => {
        if (s.legend === code || s.altLegend.includes(code) || (s.legend === 'ML' && LOOP_LINES.has(line))) set.add(edges[i]!);
      });
      allowed.set(line, set);
    }
    for (const e of edges) {
      this.edgesAt.set(e.from, [...(this.edgesAt.get(e.from) ?? []), e]);
      this.edgesAt.set(e.to, [...(this.edgesAt.get(e.to) ?? []), e]);
    }
    this.allowedEdges = allowed;
    const lineLength = (l: RailLine): number =>
      [...(allowed.get(l) ?? [])].filter((e) => e.primary === LEGEND[l]).reduce((a, e) => a + e.line.length, 0);
    const total = RAIL_LINES.reduce((a, l) => a + lineLength(l), 0);
    if (total === 0) return;
    let run = 100;
    const ownEdges = (line: RailLine): RailEdge[] => [...(allowed.get(line) ?? [])].filter((e) => e.primary === LEGEND[line]);
    const add = (line: RailLine, own: RailEdge[]): void => {
      // A point picked uniformly along the line's track (not per segment: short segments
      // near the Loop would otherwise collect trains).
      let at = this.rand() * own.reduce((a, e) => a + e.line.length, 0);
      let edge = own[own.length - 1]!;
      for (const e of own) {
        if (at < e.line.length) {
          edge = e;
          break;
        }
        at -= e.line.length;
      }
      this.trains.push({
        id: vehicleId('train', String(run++)),
        line,
        edge,
        forward: this.rand() < 0.5,
        d: this.rand() * edge.line.length,
        speed: 10 + this.rand() * 6, // m/s: ~45 km/h average between stations
        delayedUntil: 0,
        cameFrom: null,
      });
    };
    for (const line of RAIL_LINES) {
      const own = ownEdges(line);
      const n = Math.max(2, Math.round((this.opts.trains * lineLength(line)) / total));
      for (let k = 0; k < n && own.length > 0; k++) add(line, own);
    }
    // Rounding can leave the fleet short: top up on the longest lines.
    const longest = [...RAIL_LINES].sort((a, b) => lineLength(b) - lineLength(a));
    for (let i = 0; this.trains.length < this.opts.trains; i++) add(longest[i % 3]!, ownEdges(longest[i % 3]!));
  }

  private allowedEdges = new Map<RailLine, Set<RailEdge>>();

  private moveBus(b: SimBus, dtS: number, nowMs: number): void {
    this.maybeDelay(b, nowMs, 0.002);
    let left = dtS * b.speed * (b.delayedUntil > nowMs ? 0.3 : 1);
    for (let guard = 0; left > 0 && guard < 8; guard++) {
      const line = b.shapes[b.shape]!;
      const room = line.length - b.d;
      if (left < room) {
        b.d += left;
        return;
      }
      left -= room;
      // End of the line: the bus turns round onto the route's other direction.
      b.shape = b.shapes.length > 1 ? (b.shape + 1) % b.shapes.length : b.shape;
      b.d = 0;
    }
  }

  private moveTrain(t: SimTrain, dtS: number, nowMs: number): void {
    this.maybeDelay(t, nowMs, 0.003);
    let left = dtS * t.speed * (t.delayedUntil > nowMs ? 0.2 : 1);
    for (let guard = 0; left > 0 && guard < 32; guard++) {
      const len = t.edge.line.length;
      const pos = t.forward ? t.d : len - t.d;
      const room = len - pos;
      if (left < room) {
        t.d = t.forward ? t.d + left : t.d - left;
        return;
      }
      left -= room;
      const node = t.forward ? t.edge.to : t.edge.from;
      const options = (this.edgesAt.get(node) ?? []).filter((e) => e !== t.edge && this.allowedEdges.get(t.line)?.has(e));
      const own = options.filter((e) => e.primary === LEGEND[t.line]);
      const pick = own.length > 0 ? own : options;
      if (pick.length === 0) {
        // A terminal: the train reverses.
        t.forward = !t.forward;
        t.d = t.forward ? 0 : len;
        continue;
      }
      const next = pick[Math.floor(this.rand() * pick.length)]!;
      t.cameFrom = t.edge;
      t.edge = next;
      t.forward = next.from === node;
      t.d = t.forward ? 0 : next.line.length;
    }
  }

  private maybeDelay(v: { delayedUntil: number }, nowMs: number, p: number): void {
    if (v.delayedUntil <= nowMs && this.rand() < p) v.delayedUntil = nowMs + (3 + this.rand() * 7) * 60_000;
  }

  private busReport(b: SimBus, ts: string, nowMs: number): Vehicle {
    const line = b.shapes[b.shape]!;
    const p = line.at(b.d);
    const dir = b.directions[b.shape];
    return {
      id: b.id,
      mode: 'bus',
      route: b.route,
      lat: round6(p.lat),
      lon: round6(p.lon),
      heading: Math.round(p.heading) % 360,
      destination: dir ? `${dir}bound` : '',
      timestamp: ts,
      delayed: b.delayedUntil > nowMs,
      // What it moves at now (m/s to km/h), slower while held up, as a real bus reports it.
      speedKmh: Math.round(b.speed * 3.6 * (b.delayedUntil > nowMs ? 0.3 : 1) * 10) / 10,
    };
  }

  private trainReport(t: SimTrain, ts: string, nowMs: number): Vehicle {
    const p = t.edge.line.at(t.d, t.forward);
    const term = TERMINALS[t.line];
    const rad = (p.heading * Math.PI) / 180;
    const up = term.axis === 'ns' ? Math.cos(rad) > 0 : Math.sin(rad) < 0;
    const next = this.nextStation(t.line, p.lat, p.lon, p.heading);
    return {
      id: t.id,
      mode: 'train',
      route: t.line,
      lat: round6(p.lat),
      lon: round6(p.lon),
      heading: Math.round(p.heading) % 360,
      destination: up ? term.up : term.down,
      timestamp: ts,
      delayed: t.delayedUntil > nowMs,
      ...(next ? { nextStop: next } : {}),
    };
  }

  /** The nearest station of the line ahead of the train (within 60 degrees of its heading). */
  private nextStation(line: RailLine, lat: number, lon: number, heading: number): string | undefined {
    let best: { name: string; d: number } | undefined;
    for (const s of this.stationsByLine.get(line) ?? []) {
      const d = distanceM(lat, lon, s.lat, s.lon);
      if (d < 30 || d > 4000 || (best && d >= best.d)) continue;
      const diff = Math.abs(((bearingDeg(lat, lon, s.lat, s.lon) - heading + 540) % 360) - 180);
      if (diff <= 60) best = { name: s.name, d };
    }
    return best?.name;
  }
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
