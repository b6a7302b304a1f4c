import { routes, type HealthResponse } from '../contract';
import { schemaVersion } from './db/database';
import type { CoreContext, Feature } from './feature';
import { VERSION } from './version';

function relativeTo(dir: string | null, path: string): string {
  if (dir && path.startsWith(dir)) return path.slice(dir.length).replace(/^[/\\]+/, '') || '.';
  return path.split(/[/\\]/).pop() ?? path;
}

function lifecycleHealth(ctx: CoreContext, signedIn: boolean): NonNullable<HealthResponse['lifecycle']> {
  const w = ctx.lifecycle.alerts.writeStatus();
  let webhookPending: number | null = null;
  try {
    webhookPending = ctx.lifecycle.outbox?.pending() ?? null;
  } catch {
    // A database that cannot answer is what health is for: say unknown, do not fail.
  }
  return { pendingAlertWrites: w.pending, failedAlertWrites: w.failedAttempts, lastWriteError: signedIn ? w.lastError : null, webhookPending, listenerFailures: ctx.bus.failures };
}

export const healthFeature: Feature = {
  name: 'health',
  register(ctx) {
    ctx.http.get(routes.health.path, async (req): Promise<HealthResponse> => ({
      status: 'ok',
      version: VERSION,
      startedAt: ctx.startedAt.toISOString(),
      uptimeS: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
      database: { schemaVersion: schemaVersion(ctx.db), journalMode: String(ctx.db.pragma('journal_mode', { simple: true })) },
      // Health is public (load balancers, the Electron shell): signed out, it says what is
      // missing but not where the installation keeps its files.
      assets: req.auth ? ctx.assets : { dir: null, ok: ctx.assets.ok, missing: ctx.assets.missing.map((m) => ({ ...m, path: relativeTo(ctx.assets.dir, m.path) })) },
      lifecycle: lifecycleHealth(ctx, req.auth !== null),
    }));
  },
};
