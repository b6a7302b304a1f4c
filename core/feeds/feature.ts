import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { GEO_BASE, GeoLayerName, LocateQuery, routes, type VehicleSnapshot } from '../../contract';
import { SentinelError } from '../errors';
import type { CoreContext, Feature } from '../feature';
import { loadGeoData, type GeoData } from '../geo/geodata';
import { placePoint } from '../geo/place';
import { parseInput } from '../http/errors';
import { relayFeedReports } from './relay';
import { FeedsService } from './service';
import { SettingsCallLedger } from './call-ledger';
import { buildSources } from './sources';

/** The live fleet and the city's geography (null without the assets), as other features receive them. */
export interface Feeds {
  service: FeedsService;
  geo: GeoData | null;
}

const GlyphParams = z.strictObject({
  fontstack: z.string().min(1).max(200),
  range: z.string().regex(/^\d{1,5}-\d{1,5}\.pbf$/, 'expected <start>-<end>.pbf'),
});
const LayerParams = z.strictObject({ name: GeoLayerName });
const EMPTY_LAYER = JSON.stringify({ type: 'FeatureCollection', features: [] });

/**
 * Loads the geography and builds the feeds service (started by the feature). Built before the
 * features in core/app.ts because placing a camera for the visibility rule needs it.
 */
export function createFeeds(ctx: Pick<CoreContext, 'config' | 'log' | 'bus' | 'io' | 'cluster' | 'sql'>): Feeds {
  const log = ctx.log.child({ name: 'feeds' });
  const loaded = loadGeoData(ctx.config.assetsDir);
  const geo = loaded.geo;
  if (!loaded.geo) log.warn({ reason: loaded.reason }, 'map geography unavailable: no districts, stations or demo fleet');

  const f = ctx.config.feeds;
  const service = new FeedsService({
    staleAfterMs: f.staleAfterS * 1000,
    dropAfterMs: f.dropAfterS * 1000,
    ...(geo ? { locate: (lat: number, lon: number) => geo.locate(lat, lon) } : {}),
    log,
    // To this replica's own sockets: each replica keeps its own vehicle store (fed by the one
    // polling replica in a cluster), whose diff sequence its consoles follow; another
    // replica's diffs would look like gaps (docs/scale.md).
    onDiff: (diff) => {
      ctx.bus.emit('vehicles:diff', diff);
      ctx.io.local.emit('vehicles:diff', diff);
    },
    onStatus: (feeds) => {
      ctx.bus.emit('feeds:status', feeds);
      ctx.io.local.emit('feeds:status', feeds);
    },
  });
  const sink = ctx.cluster.clustered ? relayFeedReports(service, ctx.cluster, log) : service;
  // The Bus Tracker budget is counted in the database: one budget across restarts and replicas.
  const built = buildSources(ctx.config, geo, sink, log, { ledger: new SettingsCallLedger(ctx.sql, 'feeds.bus-tracker.calls', log) });
  for (const note of built.notes) log.info(note);
  for (const s of built.sources) service.add(s.source, s.expectedEveryMs);
  return { service, geo };
}

/**
 * Transit feeds and map data: runs the configured feeds (the demo fleet with --demo),
 * pushes vehicle diffs and feed status over socket.io, and serves the map's offline data
 * (GeoJSON layers and glyphs from the assets) under /api/v1/geo.
 */
export const feedsFeature: Feature<{ feeds: Feeds }> = {
  name: 'feeds',
  register(ctx) {
    const { service, geo } = ctx.feeds;
    ctx.io.on('connection', (socket) => {
      socket.emit('vehicles:snapshot', service.snapshot());
      socket.on('vehicles:resync', (ack) => {
        if (typeof ack === 'function') ack(service.snapshot());
      });
    });

    ctx.http.get(routes.vehicles.path, async (): Promise<VehicleSnapshot> => service.snapshot());
    ctx.http.get(routes.feeds.path, async () => ({ feeds: service.status() }));
    ctx.http.get(routes.geoLocate.path, async (req) => {
      const q = parseInput(LocateQuery, req.query, 'query');
      if (!geo) throw new SentinelError('map geography is unavailable: the assets directory has no chicago/geo data', 'unavailable');
      return placePoint(geo, q.lat, q.lon);
    });
    ctx.http.get(`${GEO_BASE}/layers/:name`, async (req, reply) => {
      const { name } = parseInput(LayerParams, req.params, 'params');
      // Without the geography the map is blank, not broken: an empty layer keeps MapLibre quiet,
      // and the console says why from the assets status it gets on connect.
      if (!geo) return reply.header('x-sentinel-unavailable', 'assets').type('application/geo+json').send(EMPTY_LAYER);
      return reply.header('cache-control', 'public, max-age=3600').type('application/geo+json').send(geo.layer(name));
    });
    const glyphsDir = ctx.config.assetsDir ? join(ctx.config.assetsDir, 'chicago', 'glyphs') : null;
    ctx.http.get(`${GEO_BASE}/glyphs/:fontstack/:range`, async (req, reply) => {
      const { fontstack, range } = parseInput(GlyphParams, req.params, 'params');
      // MapLibre asks for a comma-separated stack; serve the first font we have.
      const fonts = fontstack.split(',').map((s) => s.trim());
      if (fonts.some((s) => s.includes('/') || s.includes('\\') || s.startsWith('.')))
        throw new SentinelError(`font stack "${fontstack}" is not a font name`, 'bad_request', 'fontstack');
      const file = glyphsDir ? fonts.map((font) => join(glyphsDir, font, range)).find((p) => existsSync(p)) : undefined;
      reply.header('cache-control', 'public, max-age=86400').type('application/x-protobuf');
      // A range the assets lack (rare scripts) is an empty glyph set: labels still draw,
      // and MapLibre does not log an error for every label.
      return reply.send(file ? readFileSync(file) : Buffer.alloc(0));
    });

    if (ctx.cluster.clustered) {
      // One replica calls the APIs (one Bus Tracker budget for the cluster); every replica
      // sweeps its own store, so a dead poller's vehicles turn stale until another takes over.
      service.startSweeping();
      if (service.sourceCount > 0)
        ctx.cluster.leases.job('feed-polling', () => {
          service.startSources();
          return () => service.stopSources();
        });
    } else service.start();
    ctx.onClose(() => service.stop());
  },
};
