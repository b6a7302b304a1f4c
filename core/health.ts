import { routes, type HealthResponse } from '../contract';
import { schemaVersion } from './db/database';
import type { Feature } from './feature';
import { VERSION } from './version';

export const healthFeature: Feature = {
  name: 'health',
  register(ctx) {
    ctx.http.get(routes.health.path, async (): Promise<HealthResponse> => ({
      status: 'ok',
      version: VERSION,
      startedAt: ctx.startedAt.toISOString(),
      uptimeS: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
      database: { schemaVersion: schemaVersion(ctx.db), journalMode: String(ctx.db.pragma('journal_mode', { simple: true })) },
      assets: ctx.assets,
    }));
  },
};
