import { defineConfig } from 'vitest/config';

// The integration tests that CI runs twice: on SQLite (the integration project) and again with
// every core on its own Postgres database (integration-postgres): those whose subject is the
// database (the spine across replicas, audit, access, statistics). Every integration test reads
// what a core stored through its SqlDb (test/support/rows.ts), so `npm run test:postgres` runs the
// whole integration project on Postgres; CI's 30 minutes do not fit all of it twice.
const ON_BOTH_DATABASES = [
  'technician-api',
  'sso',
  'review',
  'push',
  'lifecycle',
  'incidents',
  'ingest-api',
  'rate-limit',
  'core-app',
  'evidence-replicas',
  'node-models',
  'camera-health',
  'cluster',
  'audit',
  'audit-checkpoints',
  'statistics',
  'auth',
  'mfa',
  'sms',
  'access-matrix',
  'evidence',
].map((f) => `test/integration/${f}.test.ts`);

/**
 * Four projects: unit tests beside the code (`foo.ts` + `foo.test.ts`, those touching the
 * database on SQLite and Postgres alike), integration tests against real parts (RTSP server,
 * ffmpeg, ONNX models, SQLite files, Redis), the database-heavy integration tests again on
 * Postgres, and end-to-end tests in Chromium. `npm test` runs them all; CI runs `npm test`.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // One private Postgres per project run, for the tests that run on both databases.
          globalSetup: ['test/support/postgres-global.ts'],
          include: ['{contract,core,analytics,models,renderer,tools}/**/*.test.{ts,tsx}'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          globalSetup: ['test/support/postgres-global.ts'],
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Real servers and ffmpeg processes on 2 cores: one file at a time keeps timings sane.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'integration-postgres',
          include: ON_BOTH_DATABASES,
          env: { SENTINEL_TEST_DATABASE: 'postgres' },
          globalSetup: ['test/support/postgres-global.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Fails any test whose pages logged a browser error it did not declare expected.
          setupFiles: ['test/e2e/setup.ts'],
          environment: 'node',
          testTimeout: 90_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
