import { randomUUID } from 'node:crypto';
import { CameraCreate, CameraMount, GeoPoint, parseRtspUrl, type CameraUpdate, type ParsedRtspUrl } from '../../contract/cameras';
import type { Database } from '../db/database';
import { SentinelError } from '../errors';
import type { Credentials, CredentialVault } from './secrets';

/** A camera as the core holds it: credential-free URLs plus decrypted credentials. */
export interface CameraRecord {
  id: string;
  name: string;
  /** Credential-free main stream URL (recorded). */
  url: string;
  subUrl: string | null;
  credentials: Credentials;
  mount: CameraMount;
  location: GeoPoint | null;
  analyticsEnabled: boolean;
  recordingEnabled: boolean;
  demo: boolean;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  url: string;
  sub_url: string | null;
  credentials: Buffer | null;
  mount: string;
  location: string | null;
  analytics_enabled: number;
  recording_enabled: number;
  demo: number;
  created_at: string;
  updated_at: string;
}

function split(url: string, field: string): ParsedRtspUrl {
  const r = parseRtspUrl(url);
  if ('error' in r) throw new SentinelError(`${field}: ${r.error}`, 'validation_failed', field);
  return r;
}

/** Cameras in SQLite. Input is validated with the contract schemas by the caller (routes). */
export class CameraRepository {
  constructor(
    private readonly db: Database,
    private readonly vault: CredentialVault,
  ) {}

  private fromRow(r: Row): CameraRecord {
    return {
      id: r.id,
      name: r.name,
      url: r.url,
      subUrl: r.sub_url,
      credentials: this.vault.decrypt(r.id, r.credentials),
      mount: CameraMount.parse(JSON.parse(r.mount)),
      location: r.location ? GeoPoint.parse(JSON.parse(r.location)) : null,
      analyticsEnabled: r.analytics_enabled === 1,
      recordingEnabled: r.recording_enabled === 1,
      demo: r.demo === 1,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  list(): CameraRecord[] {
    return (this.db.prepare('SELECT * FROM cameras ORDER BY name').all() as Row[]).map((r) => this.fromRow(r));
  }

  get(id: string): CameraRecord | null {
    const r = this.db.prepare('SELECT * FROM cameras WHERE id = ?').get(id) as Row | undefined;
    return r ? this.fromRow(r) : null;
  }

  findByName(name: string): CameraRecord | null {
    const r = this.db.prepare('SELECT * FROM cameras WHERE name = ?').get(name) as Row | undefined;
    return r ? this.fromRow(r) : null;
  }

  private assertNameFree(name: string, exceptId?: string): void {
    const other = this.findByName(name);
    if (other && other.id !== exceptId) throw new SentinelError(`a camera named "${name}" already exists`, 'conflict', 'name');
  }

  create(input: CameraCreate, opts: { demo?: boolean } = {}): CameraRecord {
    const c = CameraCreate.parse(input);
    this.assertNameFree(c.name);
    const main = split(c.url, 'url');
    const sub = c.subUrl ? split(c.subUrl, 'subUrl') : null;
    // Separate fields win over credentials embedded in the URL.
    const creds: Credentials = { username: c.username ?? main.username, password: c.password ?? main.password };
    const id = randomUUID();
    const now = new Date().toISOString();
    this.db
      .prepare(
        'INSERT INTO cameras (id, name, url, sub_url, credentials, mount, location, analytics_enabled, recording_enabled, demo, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        id,
        c.name,
        main.url,
        sub?.url ?? null,
        this.vault.encrypt(id, creds),
        JSON.stringify(c.mount),
        c.location ? JSON.stringify(c.location) : null,
        c.analyticsEnabled ? 1 : 0,
        c.recordingEnabled ? 1 : 0,
        opts.demo ? 1 : 0,
        now,
        now,
      );
    return this.get(id)!;
  }

  update(id: string, patch: CameraUpdate): CameraRecord {
    const cur = this.get(id);
    if (!cur) throw new SentinelError(`no camera with id ${id}`, 'not_found');
    if (patch.name !== undefined) this.assertNameFree(patch.name, id);
    let url = cur.url;
    const creds: Credentials = { ...cur.credentials };
    if (patch.url !== undefined) {
      const main = split(patch.url, 'url');
      url = main.url;
      if (main.username !== undefined || main.password !== undefined) {
        creds.username = main.username;
        creds.password = main.password;
      }
    }
    if (patch.username !== undefined) creds.username = patch.username ?? undefined;
    if (patch.password !== undefined) creds.password = patch.password ?? undefined;
    const subUrl = patch.subUrl === undefined ? cur.subUrl : patch.subUrl === null ? null : split(patch.subUrl, 'subUrl').url;
    const next = {
      name: patch.name ?? cur.name,
      mount: patch.mount ?? cur.mount,
      location: patch.location === undefined ? cur.location : patch.location,
      analyticsEnabled: patch.analyticsEnabled ?? cur.analyticsEnabled,
      recordingEnabled: patch.recordingEnabled ?? cur.recordingEnabled,
    };
    this.db
      .prepare(
        'UPDATE cameras SET name = ?, url = ?, sub_url = ?, credentials = ?, mount = ?, location = ?, analytics_enabled = ?, recording_enabled = ?, updated_at = ? WHERE id = ?',
      )
      .run(
        next.name,
        url,
        subUrl,
        this.vault.encrypt(id, creds),
        JSON.stringify(next.mount),
        next.location ? JSON.stringify(next.location) : null,
        next.analyticsEnabled ? 1 : 0,
        next.recordingEnabled ? 1 : 0,
        new Date().toISOString(),
        id,
      );
    return this.get(id)!;
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM cameras WHERE id = ?').run(id).changes > 0;
  }
}
