import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { NearbyCamera, ParsedLocation, type SmsConversation, type SmsLanguage, type SmsMessage } from '../../contract';
import type { Kysely, Selectable } from 'kysely';
import { typed, type Executor, type SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import { openKey, type KeyProtection } from '../keys/at-rest';
import type { SmsTables } from './tables';

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

type ConvRow = Selectable<SmsTables['sms_conversations']> & { last4: string; opted_out_at: string | null };

const MESSAGE_COLUMNS = ['id', 'direction', 'body', 'at', 'author', 'status'] as const;

/** What an inbound text needs to open a conversation if the rider has none open. */
export interface NewConversation {
  language: SmsLanguage;
  location: ParsedLocation;
}
export interface NewMessage {
  direction: 'in' | 'out';
  body: string;
  author?: string | null;
  status: string;
  providerSid?: string | null;
}

/** Rider numbers, conversations and messages, on SQLite or Postgres. */
export class SmsStore {
  constructor(
    private readonly db: SqlDb,
    readonly vault: NumberVault,
  ) {}

  private get q(): Kysely<SmsTables> {
    return this.db.as<SmsTables>();
  }

  /** Records the number (encrypted) if new; returns its lookup hash. */
  async upsertNumber(number: string): Promise<string> {
    const hash = this.vault.hash(number);
    await this.q
      .insertInto('sms_numbers')
      .values({ number_hash: hash, number_enc: this.vault.encrypt(number), last4: number.replace(/\D/g, '').slice(-4).padStart(4, '•') })
      .onConflict((oc) => oc.column('number_hash').doNothing())
      .execute();
    return hash;
  }

  async numberState(hash: string): Promise<{ optedOut: boolean; blocked: boolean }> {
    const r = await this.q
      .selectFrom('sms_numbers')
      .select(['opted_out_at', 'blocked_at'])
      .where('number_hash', '=', hash)
      .executeTakeFirst();
    return { optedOut: !!r?.opted_out_at, blocked: !!r?.blocked_at };
  }

  async setOptOut(hash: string, out: boolean): Promise<void> {
    await this.q
      .updateTable('sms_numbers')
      .set({ opted_out_at: out ? new Date().toISOString() : null })
      .where('number_hash', '=', hash)
      .execute();
  }

  async block(hash: string, reason: string): Promise<void> {
    await this.q
      .updateTable('sms_numbers')
      .set({ blocked_at: new Date().toISOString(), block_reason: reason })
      .where('number_hash', '=', hash)
      .execute();
  }

  /** The rider's open conversation: the latest one with a message in the last `withinMs`. */
  async openConversation(hash: string, withinMs: number, ex: Executor = this.db.as()): Promise<string | null> {
    const since = new Date(Date.now() - withinMs).toISOString();
    const r = await typed<SmsTables>(ex)
      .selectFrom('sms_conversations')
      .select('id')
      .where('number_hash', '=', hash)
      .where('last_message_at', '>=', since)
      .orderBy('last_message_at', 'desc')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return r?.id ?? null;
  }

  async createConversation(
    hash: string,
    language: SmsLanguage,
    location: ParsedLocation,
    cameras: NearbyCamera[],
    ex: Executor = this.db.as(),
  ): Promise<string> {
    const id = randomUUID();
    const now = new Date().toISOString();
    await typed<SmsTables>(ex)
      .insertInto('sms_conversations')
      .values({
        id,
        number_hash: hash,
        language,
        location: JSON.stringify(location),
        cameras: JSON.stringify(cameras),
        created_at: now,
        last_message_at: now,
      })
      .execute();
    return id;
  }

  /**
   * Files an inbound text: into the rider's open conversation, else a new one, in one
   * transaction. Two texts from one rider arriving together (on one replica or two) queue here
   * and meet in one conversation: SQLite's immediate transaction serialises writers, and on
   * Postgres (READ COMMITTED, where both would read "none open" and both create one) the
   * number's row is locked first. `messageId` is null when the provider's id was seen before.
   */
  async receive(
    hash: string,
    withinMs: number,
    conv: NewConversation,
    m: NewMessage,
  ): Promise<{ conversationId: string; isNew: boolean; messageId: number | null }> {
    return this.db.transaction(async (trx) => {
      // FOR UPDATE is Postgres syntax; SQLite has no row locks (and needs none, see above).
      if (this.db.dialect === 'postgres')
        await typed<SmsTables>(trx).selectFrom('sms_numbers').select('number_hash').where('number_hash', '=', hash).forUpdate().execute();
      const open = await this.openConversation(hash, withinMs, trx);
      const conversationId = open ?? (await this.createConversation(hash, conv.language, conv.location, [], trx));
      const messageId = await this.addMessage(conversationId, m, trx);
      // A retried text whose conversation has gone quiet leaves no empty conversation behind.
      if (messageId === null && open === null)
        await typed<SmsTables>(trx).deleteFrom('sms_conversations').where('id', '=', conversationId).execute();
      return { conversationId, isNew: open === null, messageId };
    });
  }

  async setIncident(id: string, incidentId: string | null): Promise<void> {
    await this.q.updateTable('sms_conversations').set({ incident_id: incidentId }).where('id', '=', id).execute();
  }

  async setLocation(id: string, location: ParsedLocation, cameras: NearbyCamera[]): Promise<void> {
    await this.q
      .updateTable('sms_conversations')
      .set({ location: JSON.stringify(location), cameras: JSON.stringify(cameras) })
      .where('id', '=', id)
      .execute();
  }

  async setLanguage(id: string, language: SmsLanguage): Promise<void> {
    await this.q.updateTable('sms_conversations').set({ language }).where('id', '=', id).execute();
  }

  async setShared(id: string, shared: boolean): Promise<void> {
    await this.q
      .updateTable('sms_conversations')
      .set({ shared: shared ? 1 : 0 })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Adds a message and moves the conversation's last-message time, together; null when the
   * provider's id was seen before (the provider retried).
   */
  async addMessage(conversationId: string, m: NewMessage, ex?: Executor): Promise<number | null> {
    if (!ex) return this.db.transaction((trx) => this.addMessage(conversationId, m, trx));
    const at = new Date().toISOString();
    const r = await typed<SmsTables>(ex)
      .insertInto('sms_messages')
      .values({
        conversation_id: conversationId,
        direction: m.direction,
        body: m.body,
        at,
        author: m.author ?? null,
        status: m.status,
        provider_sid: m.providerSid ?? null,
      })
      .onConflict((oc) => oc.column('provider_sid').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!r) return null;
    await typed<SmsTables>(ex).updateTable('sms_conversations').set({ last_message_at: at }).where('id', '=', conversationId).execute();
    return r.id;
  }

  /** Sets the delivery status, and the provider's id once it gave one (else the stored id stays). */
  async setMessageStatus(id: number, status: string, providerSid?: string): Promise<void> {
    await this.q
      .updateTable('sms_messages')
      .set({ status, ...(providerSid !== undefined ? { provider_sid: providerSid } : {}) })
      .where('id', '=', id)
      .execute();
  }

  async message(id: number): Promise<SmsMessage> {
    const r = await this.q.selectFrom('sms_messages').select(MESSAGE_COLUMNS).where('id', '=', id).executeTakeFirst();
    if (!r) throw new SentinelError(`no SMS message with id ${id}`, 'not_found');
    return r;
  }

  async numberHashOf(conversationId: string): Promise<string | null> {
    const r = await this.q.selectFrom('sms_conversations').select('number_hash').where('id', '=', conversationId).executeTakeFirst();
    return r?.number_hash ?? null;
  }

  /** The full number: only for sending, and for the audited reveal. */
  async numberOf(hash: string): Promise<string> {
    const r = await this.q.selectFrom('sms_numbers').select('number_enc').where('number_hash', '=', hash).executeTakeFirst();
    if (!r) throw new SentinelError('no such rider number', 'not_found');
    return this.vault.decrypt(hash, r.number_enc);
  }

  async get(id: string): Promise<SmsConversation | null> {
    const rows = await this.conversations().where('c.id', '=', id).execute();
    return (await this.withMessages(rows))[0] ?? null;
  }

  async byIncident(incidentId: string): Promise<SmsConversation[]> {
    return this.withMessages(
      await this.conversations().where('c.incident_id', '=', incidentId).orderBy('c.created_at').orderBy('c.id').execute(),
    );
  }

  async list(limit = 200): Promise<SmsConversation[]> {
    return this.withMessages(await this.conversations().orderBy('c.last_message_at', 'desc').orderBy('c.id').limit(limit).execute());
  }

  /** Deletes conversations silent since `before`, and numbers left with none (unless blocked or opted out). */
  async deleteOlderThan(before: string): Promise<{ conversations: number; messages: number }> {
    return this.db.transaction(async (trx) => {
      const t = typed<SmsTables>(trx);
      const old = t.selectFrom('sms_conversations').select('id').where('last_message_at', '<', before);
      const counted = await t
        .selectFrom('sms_messages')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('conversation_id', 'in', old)
        .executeTakeFirstOrThrow();
      // Their messages go with them (ON DELETE CASCADE).
      const deleted = await t.deleteFrom('sms_conversations').where('last_message_at', '<', before).executeTakeFirst();
      await t
        .deleteFrom('sms_numbers')
        .where('blocked_at', 'is', null)
        .where('opted_out_at', 'is', null)
        .where('number_hash', 'not in', t.selectFrom('sms_conversations').select('number_hash'))
        .execute();
      return { conversations: Number(deleted.numDeletedRows), messages: Number(counted.n) };
    });
  }

  private conversations() {
    return this.q
      .selectFrom('sms_conversations as c')
      .innerJoin('sms_numbers as n', 'n.number_hash', 'c.number_hash')
      .selectAll('c')
      .select(['n.last4', 'n.opted_out_at']);
  }

  /** The conversations with their messages, in one query for all of them. */
  private async withMessages(rows: ConvRow[]): Promise<SmsConversation[]> {
    if (rows.length === 0) return [];
    const messages = await this.q
      .selectFrom('sms_messages')
      .select([...MESSAGE_COLUMNS, 'conversation_id'])
      .where(
        'conversation_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('id')
      .execute();
    const byConversation = new Map<string, SmsMessage[]>();
    for (const { conversation_id, ...m } of messages) {
      const list = byConversation.get(conversation_id) ?? [];
      list.push(m);
      byConversation.set(conversation_id, list);
    }
    return rows.map((r) => this.toConversation(r, byConversation.get(r.id) ?? []));
  }

  private toConversation(r: ConvRow, messages: SmsMessage[]): SmsConversation {
    const location = ParsedLocation.parse(JSON.parse(r.location));
    return {
      id: r.id,
      incidentId: r.incident_id,
      numberMasked: maskNumber(r.last4),
      sharedWithLiaisons: r.shared === 1,
      language: r.language,
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
