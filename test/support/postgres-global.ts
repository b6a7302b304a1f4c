import type { TestProject } from 'vitest/node';
import { POSTGRES_BIN, startPostgres } from './postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The admin URL of the run's private Postgres, or null when its binaries are absent. */
    postgresAdminUrl: string | null;
  }
}

/**
 * One private Postgres for a whole test project (vitest globalSetup): starting a cluster costs
 * about a second, and every test that runs on both databases makes its own database in it.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!POSTGRES_BIN) {
    project.provide('postgresAdminUrl', null);
    return undefined;
  }
  const server = await startPostgres();
  project.provide('postgresAdminUrl', server.url);
  return () => server.stop();
}
