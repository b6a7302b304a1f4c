import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { NearbyCamera, ParsedLocation, type SmsConversation, type SmsLanguage, type SmsMessage } from '../../contract';
import type { Database } from '../db/database';
import { SentinelError } from '../errors';
import { openKey, type KeyProtection } from '../keys/at-rest';

/**
 * Riders' numbers at rest, as camera credentials are (core/cameras/secrets.ts): AES-256-GCM
 * with a key file in the data directory (`keys/sms-numbers.key`, mode 0600), never in the
 * database. A second key derived from the same file makes the HMAC that finds a rider's
 * earlier conversation without decrypting every row.
 */
export class NumberVault {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(dataDir: string, protection: KeyProtection | null) {
    const file = join(dataDir, 'keys', 'sms-numbers.key');
    // Sealed like the other installation keys when a key protection is set (core/keys/at-rest.ts).
    const key = openKey(dataDir, 'sms-numbers.key', protection, () => randomBytes(32));
    if (key.length !== 32)
      throw new SentinelError(
        `rider number key ${file} is damaged (expected 32 bytes, found ${key.length}); restore it from a backup`,
        'internal',
      );
    this.encKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'sentinel sms number encryption', 32));
    this.macKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'sentinel sms number lookup', 32));
  }

  hash(number: string): string {
    return createHmac('sha256', this.macKey).update(number).digest('hex');
  }

  encrypt(number: string): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.encKey, iv);
    c.setAAD(Buffer.from(this.hash(number)));
    const body = Buffer.concat([c.update(number, 'utf8'), c.final()]);
    return Buffer.concat([Buffer.from([1]), iv, c.getAuthTag(), body]);
  }

  decrypt(hash: string, blob: Buffer): string {
    if (blob[0] !== 1 || blob.length < 30) throw new SentinelError('a stored rider number is in an unknown format', 'internal');
    const d = createDecipheriv('aes-256-gcm', this.encKey, blob.subarray(1, 13));
    d.setAAD(Buffer.from(hash));
    d.setAuthTag(blob.subarray(13, 29));
    try {
      return Buffer.concat([d.update(blob.subarray(29)), d.final()]).toString('utf8');
    } catch {
      throw new SentinelError('a stored rider number cannot be decrypted (the key file was replaced?)', 'internal');
    }
  }
}

export function maskNumber(last4: string): string {
  return `•••• ${last4}`;
}

interface ConvRow {
  id: string;
  number_hash: string;
  incident_id: string | null;
  language: string;
  location: string;
  cameras: string;
  shared: number;
  created_at: string;
  last_message_at: string;
  last4: string;
  opted_out_at: string | null;
}
interface MsgRow {
  id: number;
  direction: 'in' | 'out';
  body: string;
  at: string;
  author: string | null;
  status: string;
}

const CONV_SQL = 'SELECT c.*, n.last4, n.opted_out_at FROM sms_conversations c JOIN sms_numbers n ON n.number_hash = c.number_hash';

/** Rider numbers, conversations and messages in SQLite. */
export class SmsStore {
  constructor(
    private readonly db: Database,
    readonly vault: NumberVault,
  ) {}

  /** Records the number (encrypted) if new; returns its lookup hash. */
  upsertNumber(number: string): string {
    const hash = this.vault.hash(number);
    this.db
      .prepare('INSERT INTO sms_numbers (number_hash, number_enc, last4) VALUES (?, ?, ?) ON CONFLICT (number_hash) DO NOTHING')
      .run(hash, this.vault.encrypt(number), number.replace(/\D/g, '').slice(-4).padStart(4, '•'));
    return hash;
  }

  numberState(hash: string): { optedOut: boolean; blocked: boolean } {
    const r = this.db.prepare('SELECT opted_out_at, blocked_at FROM sms_numbers WHERE number_hash = ?').get(hash) as
      { opted_out_at: string | null; blocked_at: string | null } | undefined;
    return { optedOut: !!r?.opted_out_at, blocked: !!r?.blocked_at };
  }

  setOptOut(hash: string, out: boolean): void {
    this.db.prepare('UPDATE sms_numbers SET opted_out_at = ? WHERE number_hash = ?').run(out ? new Date().toISOString() : null, hash);
  }

  block(hash: string, reason: string): void {
    this.db
      .prepare('UPDATE sms_numbers SET blocked_at = ?, block_reason = ? WHERE number_hash = ?')
      .run(new Date().toISOString(), reason, hash);
  }

  /** The rider's open conversation: the latest one with a message in the last `withinMs`. */
  openConversation(hash: string, withinMs: number): string | null {
    const since = new Date(Date.now() - withinMs).toISOString();
    const r = this.db
      .prepare('SELECT id FROM sms_conversations WHERE number_hash = ? AND last_message_at >= ? ORDER BY last_message_at DESC LIMIT 1')
      .get(hash, since) as { id: string } | undefined;
    return r?.id ?? null;
  }

  createConversation(hash: string, language: SmsLanguage, location: ParsedLocation, cameras: NearbyCamera[]): string {
    const id = randomUUID();
    const now = new Date().toISOString();
    this.db
      .prepare(
        'INSERT INTO sms_conversations (id, number_hash, language, location, cameras, created_at, last_message_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, hash, language, JSON.stringify(location), JSON.stringify(cameras), now, now);
    return id;
  }

  setIncident(id: string, incidentId: string | null): void {
    this.db.prepare('UPDATE sms_conversations SET incident_id = ? WHERE id = ?').run(incidentId, id);
  }

  setLocation(id: string, location: ParsedLocation, cameras: NearbyCamera[]): void {
    this.db
      .prepare('UPDATE sms_conversations SET location = ?, cameras = ? WHERE id = ?')
      .run(JSON.stringify(location), JSON.stringify(cameras), id);
  }

  setLanguage(id: string, language: SmsLanguage): void {
    this.db.prepare('UPDATE sms_conversations SET language = ? WHERE id = ?').run(language, id);
  }

  setShared(id: string, shared: boolean): void {
    this.db.prepare('UPDATE sms_conversations SET shared = ? WHERE id = ?').run(shared ? 1 : 0, id);
  }

  /** Adds a message; false when the provider's id was seen before (the provider retried). */
  addMessage(
    conversationId: string,
    m: { direction: 'in' | 'out'; body: string; author?: string | null; status: string; providerSid?: string | null },
  ): number | null {
    const at = new Date().toISOString();
    const info = this.db
      .prepare(
        'INSERT INTO sms_messages (conversation_id, direction, body, at, author, status, provider_sid) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider_sid) DO NOTHING',
      )
      .run(conversationId, m.direction, m.body, at, m.author ?? null, m.status, m.providerSid ?? null);
    if (info.changes === 0) return null;
    this.db.prepare('UPDATE sms_conversations SET last_message_at = ? WHERE id = ?').run(at, conversationId);
    return Number(info.lastInsertRowid);
  }

  setMessageStatus(id: number, status: string, providerSid?: string): void {
    this.db
      .prepare('UPDATE sms_messages SET status = ?, provider_sid = coalesce(?, provider_sid) WHERE id = ?')
      .run(status, providerSid ?? null, id);
  }

  message(id: number): SmsMessage {
    return this.db.prepare('SELECT id, direction, body, at, author, status FROM sms_messages WHERE id = ?').get(id) as MsgRow;
  }

  numberHashOf(conversationId: string): string | null {
    const r = this.db.prepare('SELECT number_hash FROM sms_conversations WHERE id = ?').get(conversationId) as
      { number_hash: string } | undefined;
    return r?.number_hash ?? null;
  }

  /** The full number: only for sending, and for the audited reveal. */
  numberOf(hash: string): string {
    const r = this.db.prepare('SELECT number_enc FROM sms_numbers WHERE number_hash = ?').get(hash) as { number_enc: Buffer } | undefined;
    if (!r) throw new SentinelError('no such rider number', 'not_found');
    return this.vault.decrypt(hash, r.number_enc);
  }

  get(id: string): SmsConversation | null {
    const r = this.db.prepare(`${CONV_SQL} WHERE c.id = ?`).get(id) as ConvRow | undefined;
    return r ? this.toConversation(r) : null;
  }

  byIncident(incidentId: string): SmsConversation[] {
    return (this.db.prepare(`${CONV_SQL} WHERE c.incident_id = ? ORDER BY c.created_at`).all(incidentId) as ConvRow[]).map((r) =>
      this.toConversation(r),
    );
  }

  list(limit = 200): SmsConversation[] {
    return (this.db.prepare(`${CONV_SQL} ORDER BY c.last_message_at DESC LIMIT ?`).all(limit) as ConvRow[]).map((r) =>
      this.toConversation(r),
    );
  }

  /** Deletes conversations silent since `before`, and numbers left with none (unless blocked). */
  deleteOlderThan(before: string): { conversations: number; messages: number } {
    return this.db.transaction(() => {
      const messages = (
        this.db
          .prepare(
            'SELECT count(*) AS n FROM sms_messages WHERE conversation_id IN (SELECT id FROM sms_conversations WHERE last_message_at < ?)',
          )
          .get(before) as { n: number }
      ).n;
      const conversations = this.db.prepare('DELETE FROM sms_conversations WHERE last_message_at < ?').run(before).changes;
      this.db
        .prepare(
          'DELETE FROM sms_numbers WHERE blocked_at IS NULL AND opted_out_at IS NULL AND number_hash NOT IN (SELECT number_hash FROM sms_conversations)',
        )
        .run();
      return { conversations, messages };
    })();
  }

  private toConversation(r: ConvRow): SmsConversation {
    const location = ParsedLocation.parse(JSON.parse(r.location));
    const messages = this.db
      .prepare('SELECT id, direction, body, at, author, status FROM sms_messages WHERE conversation_id = ? ORDER BY id')
      .all(r.id) as MsgRow[];
    return {
      id: r.id,
      incidentId: r.incident_id,
      numberMasked: maskNumber(r.last4),
      sharedWithLiaisons: r.shared === 1,
      language: r.language as SmsLanguage,
      location,
      needsLocation: location.stationId === null && location.busNumber === null && location.railcar === null,
      cameras: NearbyCamera.array().parse(JSON.parse(r.cameras)),
      optedOut: r.opted_out_at !== null,
      createdAt: r.created_at,
      lastMessageAt: r.last_message_at,
      messages,
    };
  }
}
