import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VehicleMode } from '../../contract';
import type { Config } from '../config';
import type { GeoData } from '../geo/geodata';
import type { Logger } from '../logger';
import { parseBusTrackerText } from './bus-tracker';
import { parseGtfsRt } from './gtfs-rt';
import { CallBudget, planBusPolling, type CallLedger } from './planner';
import { HttpPoller, type FeedSink, type FeedSource } from './pollers';
import { FleetSimulator } from './simulator';
import { ALL_TRAIN_ROUTES, parseTrainTrackerText } from './train-tracker';

const decoder = new TextDecoder();

/** Minimal CSV line split (GTFS quotes fields with commas in them). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Route id -> mode from a static GTFS routes.txt (route_type 3 = bus; 0, 1, 2 = rail). */
export function readGtfsRoutes(assetsDir: string | null): Map<string, VehicleMode> {
  const map = new Map<string, VehicleMode>();
  const file = assetsDir ? join(assetsDir, 'chicago', 'gtfs', 'routes.txt') : null;
  if (!file || !existsSync(file)) return map;
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = splitCsvLine(lines[0] ?? '');
  const idCol = header.indexOf('route_id');
  const typeCol = header.indexOf('route_type');
  for (const line of lines.slice(1)) {
    const f = splitCsvLine(line);
    const id = f[idCol];
    const type = Number(f[typeCol]);
    if (id) map.set(id, type === 3 ? 'bus' : 'train');
  }
  return map;
}

export interface BuiltSources {
  sources: Array<{ source: FeedSource; expectedEveryMs: number }>;
  notes: string[];
}

/**
 * The feeds this configuration asks for: the demo fleet with --demo (needs the assets'
 * geography), Bus Tracker and Train Tracker when their keys are set, and every configured
 * GTFS-realtime feed.
 */
export function buildSources(
  config: Config,
  geo: GeoData | null,
  sink: FeedSink,
  log: Logger,
  opts: { env?: NodeJS.ProcessEnv; ledger?: CallLedger } = {},
): BuiltSources {
  const env = opts.env ?? process.env;
  const f = config.feeds;
  const sources: BuiltSources['sources'] = [];
  const notes: string[] = [];

  if (config.demo) {
    if (!geo) notes.push('demo fleet unavailable: the assets have no CTA geography');
    else {
      const sim = new FleetSimulator(geo, {
        buses: f.simulator.buses,
        trains: f.simulator.trains,
        speed: f.simulator.speed,
        reportIntervalMs: f.simulator.reportIntervalS * 1000,
        groups: f.simulator.groups,
      });
      sources.push({ source: new SimulatorSource(sim, sink), expectedEveryMs: sim.groupIntervalMs });
    }
  }

  const busKey = f.busTracker.apiKey ?? (env.SENTINEL_BUS_TRACKER_KEY || undefined);
  if (busKey) {
    const gtfs = readGtfsRoutes(config.assetsDir);
    const routes = f.busTracker.routes.length > 0 ? f.busTracker.routes : [...gtfs].filter(([, m]) => m === 'bus').map(([id]) => id);
    const plan = planBusPolling(routes, { wantedIntervalMs: f.busTracker.intervalS * 1000, dailyBudget: f.busTracker.dailyBudget });
    if (plan.stretched)
      notes.push(
        `Bus Tracker: ${routes.length} routes in ${plan.batches.length} calls; each route polled every ${plan.cycleMs / 1000} s to stay within ${f.busTracker.dailyBudget} calls a day`,
      );
    const budget = new CallBudget(f.busTracker.dailyBudget, Date.now, opts.ledger);
    const base = f.busTracker.baseUrl.replace(/\/$/, '');
    const urls = plan.batches.map(
      (b) => `${base}/getvehicles?key=${encodeURIComponent(busKey)}&rt=${b.map(encodeURIComponent).join(',')}&format=json&tmres=s`,
    );
    sources.push({
      source: new HttpPoller({
        id: 'bus-tracker',
        kind: 'bus-tracker',
        urls: () => urls,
        spacingMs: Math.max(1000, plan.callSpacingMs),
        parse: (b) => parseBusTrackerText(decoder.decode(b)),
        sink,
        log,
        secrets: [busKey],
        takeBudget: () => budget.tryTake(),
      }),
      expectedEveryMs: Math.max(1000, plan.callSpacingMs),
    });
  }

  const trainKey = f.trainTracker.apiKey ?? (env.SENTINEL_TRAIN_TRACKER_KEY || undefined);
  if (trainKey) {
    const base = f.trainTracker.baseUrl.replace(/\/$/, '');
    const url = `${base}/ttpositions.aspx?key=${encodeURIComponent(trainKey)}&rt=${ALL_TRAIN_ROUTES.join(',')}&outputType=JSON`;
    sources.push({
      source: new HttpPoller({
        id: 'train-tracker',
        kind: 'train-tracker',
        urls: () => [url],
        spacingMs: f.trainTracker.intervalS * 1000,
        parse: (b) => parseTrainTrackerText(decoder.decode(b)),
        sink,
        log,
        secrets: [trainKey],
      }),
      expectedEveryMs: f.trainTracker.intervalS * 1000,
    });
  }

  if (f.gtfsRt.length > 0) {
    const routeModes = readGtfsRoutes(config.assetsDir);
    for (const g of f.gtfsRt) {
      sources.push({
        source: new HttpPoller({
          id: `gtfs-rt-${g.id}`,
          kind: 'gtfs-rt',
          urls: () => [g.url],
          spacingMs: g.intervalS * 1000,
          parse: (b) => parseGtfsRt(b, { defaultMode: g.defaultMode, routeModes }),
          sink,
          log,
          secrets: [],
        }),
        expectedEveryMs: g.intervalS * 1000,
      });
    }
  }
  return { sources, notes };
}

/** Drives the simulator on a timer: one group of vehicles reports per tick. */
export class SimulatorSource implements FeedSource {
  readonly id = 'demo';
  readonly kind = 'simulator' as const;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sim: FleetSimulator,
    private readonly sink: FeedSink,
  ) {}

  start(): void {
    if (this.timer) return;
    this.sink.vehicles(this.id, { vehicles: this.sim.all(Date.now()), errors: [] });
    this.timer = setInterval(
      () => this.sink.vehicles(this.id, { vehicles: this.sim.nextReports(Date.now()), errors: [] }),
      this.sim.groupIntervalMs,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
