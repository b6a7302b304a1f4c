import { randomUUID } from 'node:crypto';
import { CameraCreate, CameraMount, GeoPoint, parseRtspUrl, type CameraUpdate, type ParsedRtspUrl } from '../../contract/cameras';
import { typed, type Executor, type SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import type { Credentials, CredentialVault } from './secrets';
import type { CameraTables } from './tables';

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

type Row = CameraTables['cameras'];

function split(url: string, field: string): ParsedRtspUrl {
  const r = parseRtspUrl(url);
  if ('error' in r) throw new SentinelError(`${field}: ${r.error}`, 'validation_failed', field);
  return r;
}

/**
 * Cameras in the database (SQLite or Postgres). Input is validated with the contract schemas
 * by the caller (routes). Credentials are encrypted under the camera's id before they are
 * written and decrypted only into the CameraRecord the core keeps; rows never leave here.
 * Most readers go through CameraCatalog (catalog.ts), which keeps these records in memory.
 */
export class CameraRepository {
  constructor(
    private readonly db: SqlDb,
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

  /** Every camera by name (byte order on both databases: SQLite's BINARY, Postgres's C collation). */
  async list(ex: Executor = this.db.as()): Promise<CameraRecord[]> {
    const rows = await typed<CameraTables>(ex).selectFrom('cameras').selectAll().orderBy('name').execute();
    return rows.map((r) => this.fromRow(r));
  }

  async get(id: string, ex: Executor = this.db.as()): Promise<CameraRecord | null> {
    const r = await typed<CameraTables>(ex).selectFrom('cameras').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? this.fromRow(r) : null;
  }

  async findByName(name: string, ex: Executor = this.db.as()): Promise<CameraRecord | null> {
    const r = await typed<CameraTables>(ex).selectFrom('cameras').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? this.fromRow(r) : null;
  }

  private async assertNameFree(ex: Executor, name: string, exceptId?: string): Promise<void> {
    const other = await typed<CameraTables>(ex).selectFrom('cameras').select('id').where('name', '=', name).executeTakeFirst();
    if (other && other.id !== exceptId) throw new SentinelError(`a camera named "${name}" already exists`, 'conflict', 'name');
  }

  /** Creates a camera; `ex` is the caller's transaction when several are created at once (CSV import). */
  async create(input: CameraCreate, opts: { demo?: boolean } = {}, ex: Executor = this.db.as()): Promise<CameraRecord> {
    const c = CameraCreate.parse(input);
    await this.assertNameFree(ex, c.name);
    const main = split(c.url, 'url');
    const sub = c.subUrl ? split(c.subUrl, 'subUrl') : null;
    // Separate fields win over credentials embedded in the URL.
    const creds: Credentials = { username: c.username ?? main.username, password: c.password ?? main.password };
    const id = randomUUID();
    const now = new Date().toISOString();
    const row = await typed<CameraTables>(ex)
      .insertInto('cameras')
      .values({
        id,
        name: c.name,
        url: main.url,
        sub_url: sub?.url ?? null,
        credentials: this.vault.encrypt(id, creds),
        mount: JSON.stringify(c.mount),
        location: c.location ? JSON.stringify(c.location) : null,
        analytics_enabled: c.analyticsEnabled ? 1 : 0,
        recording_enabled: c.recordingEnabled ? 1 : 0,
        demo: opts.demo ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.fromRow(row);
  }

  /** Creates every camera in one transaction, or none when one fails (CSV import: all or nothing). */
  createAll(inputs: readonly CameraCreate[]): Promise<CameraRecord[]> {
    return this.db.transaction(async (trx) => {
      const out: CameraRecord[] = [];
      for (const input of inputs) out.push(await this.create(input, {}, trx));
      return out;
    });
  }

  /**
   * Applies a patch. The read, the name check and the write are one transaction, so two edits
   * of one camera through two replicas cannot interleave (the second sees the first's result).
   */
  update(id: string, patch: CameraUpdate): Promise<CameraRecord> {
    return this.db.transaction(async (trx) => {
      const cur = await this.get(id, trx);
      if (!cur) throw new SentinelError(`no camera with id ${id}`, 'not_found');
      if (patch.name !== undefined) await this.assertNameFree(trx, patch.name, id);
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
      const row = await typed<CameraTables>(trx)
        .updateTable('cameras')
        .set({
          name: next.name,
          url,
          sub_url: subUrl,
          credentials: this.vault.encrypt(id, creds),
          mount: JSON.stringify(next.mount),
          location: next.location ? JSON.stringify(next.location) : null,
          analytics_enabled: next.analyticsEnabled ? 1 : 0,
          recording_enabled: next.recordingEnabled ? 1 : 0,
          updated_at: new Date().toISOString(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return this.fromRow(row);
    });
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.as<CameraTables>().deleteFrom('cameras').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
