import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { expect } from 'vitest';
import {
  Alert,
  AlertAcked,
  AlertEscalated,
  AlertsResync,
  Incident,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type TestAlertRequest,
} from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig, type Config } from '../../core/config';
import { createLogger } from '../../core/logger';
import { connected, createAndLogin, signIn, type SignedIn } from './auth';
import { onTestDatabase } from './core';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A socket that records what it receives (each event validated with the contract), with the highest log sequence seen. */
export interface Recorder {
  s: Client;
  maxSeq: number;
  raised: Alert[];
  updated: Alert[];
  acked: AlertAcked[];
  escalated: AlertEscalated[];
  incidents: Incident[];
  resyncs: AlertsResync[];
}

export function record(s: Client): Recorder {
  const r: Recorder = { s, maxSeq: 0, raised: [], updated: [], acked: [], escalated: [], incidents: [], resyncs: [] };
  const seq = (n: number) => (r.maxSeq = Math.max(r.maxSeq, n));
  s.on('alert:raised', (a, n) => (r.raised.push(Alert.parse(a)), seq(n)));
  s.on('alert:updated', (a, n) => (r.updated.push(Alert.parse(a)), seq(n)));
  s.on('alert:acked', (a, n) => (r.acked.push(AlertAcked.parse(a)), seq(n)));
  s.on('alert:escalated', (e, n) => (r.escalated.push(AlertEscalated.parse(e)), seq(n)));
  s.on('incident:upsert', (i, n) => (r.incidents.push(Incident.parse(i)), seq(n)));
  s.on('alerts:resync', (p) => r.resyncs.push(AlertsResync.parse(p)));
  return r;
}

/**
 * A real in-process core with the people the alert-delivery tests talk about: the admin, an
 * operator, a district-1 + Red line liaison (`d1`), a district-2 liaison (`d2`) and the
 * escalation liaison (`backup`, district 18). `sock` opens a recording socket as one of them
 * (closed by `close`), `send` raises a test alert as the admin.
 */
export interface LiaisonCore {
  core: CoreHandle;
  admin: SignedIn;
  operator: SignedIn;
  d1: SignedIn;
  d2: SignedIn;
  backup: SignedIn;
  sock(u: SignedIn, opts?: { lastAlertId?: string; lastSeq?: number }): Promise<Recorder>;
  send(t: TestAlertRequest): Promise<string>;
  close(): Promise<void>;
}

/** Starts the core with `configure(config)` (escalation after 1.5 s unless it says otherwise). */
export async function liaisonCore(configure: (cfg: Config) => Config = (c) => c): Promise<LiaisonCore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-liaison-'));
  const base = loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {});
  // Escalation after 1.5 s so tests see it; the production default is 60 s.
  const core = await startCore(await onTestDatabase(configure({ ...base, push: { escalateAfterS: 1.5 } })), {
    log: createLogger('silent'),
  });
  const admin = await signIn(core);
  const as = (username: string, password: string, role: 'operator' | 'liaison', scope?: Parameters<typeof createAndLogin>[2]['scope']) =>
    createAndLogin(core.url, admin, { username, password, role, ...(scope ? { scope } : {}) });
  const operator = await as('op', 'operator-password-1', 'operator');
  const d1 = await as('d1', 'liaison-password-1', 'liaison', { districts: ['1'], lines: ['Red'] });
  const d2 = await as('d2', 'liaison-password-2', 'liaison', { districts: ['2'] });
  const backup = await as('sup', 'liaison-password-3', 'liaison', { districts: ['18'], escalation: true });
  const open: Client[] = [];
  return {
    core,
    admin,
    operator,
    d1,
    d2,
    backup,
    async sock(u, opts = {}) {
      const r = record(u.socket(opts));
      open.push(r.s);
      await connected(r.s);
      return r;
    },
    async send(t) {
      const res = await admin.api('/api/v1/test-alert', { method: 'POST', body: JSON.stringify(t) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    },
    async close() {
      for (const s of open) s.close();
      await core.close();
    },
  };
}
