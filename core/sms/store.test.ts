import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ParsedLocation } from '../../contract';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { NumberVault, SmsStore } from './store';
import type { SmsTables } from './tables';

const keyDir = mkdtempSync(join(tmpdir(), 'sentinel-sms-store-'));
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));
const vault = new NumberVault(keyDir, null);

const NOWHERE: ParsedLocation = {
  stationId: null,
  stationName: null,
  alternatives: [],
  line: null,
  direction: null,
  busRoute: null,
  busNumber: null,
  railcar: null,
};
const BELMONT: ParsedLocation = { ...NOWHERE, stationId: '41320', stationName: 'Belmont', line: 'Red' };
const HOUR = 3_600_000;
const inbound = (body: string, sid: string) => ({ direction: 'in' as const, body, status: 'received', providerSid: sid });

/** Moves a conversation's last message back in time, as the hours passing would. */
const age = (db: SqlDb, id: string, msAgo: number) =>
  db
    .as<SmsTables>()
    .updateTable('sms_conversations')
    .set({ last_message_at: new Date(Date.now() - msAgo).toISOString() })
    .where('id', '=', id)
    .execute();

describeOnBothDatabases('SmsStore', (open) => {
  const setup = async () => {
    const db = await open();
    return { db, store: new SmsStore(db, vault) };
  };

  it('stores a number once, as hash, ciphertext and last four digits only; reveals it by hash', async () => {
    const { db, store } = await setup();
    const hash = await store.upsertNumber('+1 (312) 555-1234');
    expect(await store.upsertNumber('+1 (312) 555-1234')).toBe(hash);
    expect(hash).toBe(vault.hash('+1 (312) 555-1234'));
    const rows = await db.as<SmsTables>().selectFrom('sms_numbers').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.last4).toBe('1234');
    expect(Buffer.isBuffer(rows[0]!.number_enc)).toBe(true);
    expect(rows[0]!.number_enc.includes(Buffer.from('555'))).toBe(false);
    expect(await store.numberOf(hash)).toBe('+1 (312) 555-1234');
    await expect(store.numberOf(vault.hash('+13125550000'))).rejects.toThrow('no such rider number');
  });

  it('finds the open conversation by number hash within the window, and creates one otherwise', async () => {
    const { db, store } = await setup();
    const hash = await store.upsertNumber('+13125551111');
    const other = await store.upsertNumber('+13125552222');
    expect(await store.openConversation(hash, 4 * HOUR)).toBeNull();
    const a = await store.createConversation(hash, 'es', BELMONT, [{ id: 'cam1', name: 'Belmont north', why: 'station' }]);
    await store.createConversation(other, 'en', NOWHERE, []);
    expect(await store.openConversation(hash, 4 * HOUR)).toBe(a);
    expect(await store.numberHashOf(a)).toBe(hash);
    expect(await store.numberHashOf('nope')).toBeNull();
    await age(db, a, 5 * HOUR);
    expect(await store.openConversation(hash, 4 * HOUR)).toBeNull();
    const c = (await store.get(a))!;
    expect(c).toMatchObject({
      id: a,
      incidentId: null,
      numberMasked: '•••• 1111',
      sharedWithLiaisons: false,
      language: 'es',
      location: BELMONT,
      needsLocation: false,
      cameras: [{ id: 'cam1', name: 'Belmont north', why: 'station' }],
      optedOut: false,
      messages: [],
    });
    expect(await store.get('nope')).toBeNull();
  });

  it('appends messages in order, ignores a provider retry, and moves the last-message time', async () => {
    const { db, store } = await setup();
    const hash = await store.upsertNumber('+13125551111');
    const id = await store.createConversation(hash, 'en', NOWHERE, []);
    await age(db, id, HOUR);
    const before = (await store.get(id))!.lastMessageAt;
    const m1 = await store.addMessage(id, inbound('fight at belmont', 'SM1'));
    const m2 = await store.addMessage(id, { direction: 'out', body: 'on our way', status: 'queued', author: 'op' });
    expect(m1).not.toBeNull();
    expect(m2).toBeGreaterThan(m1!);
    expect(await store.addMessage(id, inbound('fight at belmont', 'SM1'))).toBeNull();
    const c = (await store.get(id))!;
    expect(c.messages.map((m) => [m.direction, m.body, m.author, m.status])).toEqual([
      ['in', 'fight at belmont', null, 'received'],
      ['out', 'on our way', 'op', 'queued'],
    ]);
    expect(c.lastMessageAt > before).toBe(true);

    await store.setMessageStatus(m2!, 'sent', 'SMout1');
    expect(await store.message(m2!)).toMatchObject({ id: m2, status: 'sent' });
    await store.setMessageStatus(m2!, 'delivered');
    const stored = await db
      .as<SmsTables>()
      .selectFrom('sms_messages')
      .select('provider_sid')
      .where('id', '=', m2!)
      .executeTakeFirstOrThrow();
    expect(stored.provider_sid).toBe('SMout1'); // kept when no new id is given
    await expect(store.message(999_999)).rejects.toThrow('no SMS message');
  });

  it('receives texts into one open conversation, a new one after the window, and drops a retry without leaving an empty one', async () => {
    const { db, store } = await setup();
    const hash = await store.upsertNumber('+13125551111');
    const first = await store.receive(hash, 4 * HOUR, { language: 'pl', location: NOWHERE }, inbound('bójka', 'SM1'));
    expect(first).toMatchObject({ isNew: true });
    expect(first.messageId).not.toBeNull();
    expect((await store.get(first.conversationId))!.language).toBe('pl');
    const second = await store.receive(hash, 4 * HOUR, { language: 'en', location: NOWHERE }, inbound('at belmont', 'SM2'));
    expect(second).toMatchObject({ conversationId: first.conversationId, isNew: false });
    expect(await store.receive(hash, 4 * HOUR, { language: 'en', location: NOWHERE }, inbound('at belmont', 'SM2'))).toMatchObject({
      conversationId: first.conversationId,
      messageId: null,
    });
    await age(db, first.conversationId, 5 * HOUR);
    const retried = await store.receive(hash, 4 * HOUR, { language: 'en', location: NOWHERE }, inbound('bójka', 'SM1'));
    expect(retried).toMatchObject({ isNew: true, messageId: null });
    expect(await store.get(retried.conversationId)).toBeNull();
    const later = await store.receive(hash, 4 * HOUR, { language: 'en', location: NOWHERE }, inbound('again', 'SM3'));
    expect(later.isNew).toBe(true);
    expect(later.conversationId).not.toBe(first.conversationId);
    expect((await store.list()).map((c) => c.id)).toEqual([later.conversationId, first.conversationId]);
  });

  it('texts from one rider arriving together meet in one conversation', async () => {
    const { store } = await setup();
    const hash = await store.upsertNumber('+13125551111');
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.receive(hash, 4 * HOUR, { language: 'en', location: NOWHERE }, inbound(`text ${i}`, `SM${i}`)),
      ),
    );
    expect(new Set(got.map((r) => r.conversationId)).size).toBe(1);
    expect(got.filter((r) => r.isNew)).toHaveLength(1);
    expect((await store.get(got[0]!.conversationId))!.messages).toHaveLength(8);
  });

  it('blocks a number, and opts it out and back in', async () => {
    const { db, store } = await setup();
    const hash = await store.upsertNumber('+13125551111');
    const other = await store.upsertNumber('+13125552222');
    expect(await store.numberState(hash)).toEqual({ optedOut: false, blocked: false });
    expect(await store.numberState(vault.hash('+13125550000'))).toEqual({ optedOut: false, blocked: false });
    await store.block(hash, 'abusive texts');
    expect(await store.numberState(hash)).toEqual({ optedOut: false, blocked: true });
    expect(await store.numberState(other)).toEqual({ optedOut: false, blocked: false });
    const row = await db
      .as<SmsTables>()
      .selectFrom('sms_numbers')
      .select('block_reason')
      .where('number_hash', '=', hash)
      .executeTakeFirstOrThrow();
    expect(row.block_reason).toBe('abusive texts');

    const id = await store.createConversation(other, 'en', NOWHERE, []);
    await store.setOptOut(other, true);
    expect(await store.numberState(other)).toEqual({ optedOut: true, blocked: false });
    expect((await store.get(id))!.optedOut).toBe(true);
    await store.setOptOut(other, false);
    expect(await store.numberState(other)).toEqual({ optedOut: false, blocked: false });
    expect((await store.get(id))!.optedOut).toBe(false);
  });

  it('shares with liaisons, files into an incident, and updates language and place', async () => {
    const { db, store } = await setup();
    const hash = await store.upsertNumber('+13125551111');
    const a = await store.createConversation(hash, 'en', NOWHERE, []);
    const b = await store.createConversation(hash, 'en', NOWHERE, []);
    // An incident's conversations come in the order they began.
    await db.as<SmsTables>().updateTable('sms_conversations').set({ created_at: '2026-01-01T00:00:00.000Z' }).where('id', '=', a).execute();
    await store.createConversation(hash, 'en', NOWHERE, []);
    expect((await store.get(a))!.needsLocation).toBe(true);
    await store.setShared(a, true);
    expect((await store.get(a))!.sharedWithLiaisons).toBe(true);
    await store.setShared(a, false);
    expect((await store.get(a))!.sharedWithLiaisons).toBe(false);
    await store.setLanguage(a, 'zh');
    await store.setLocation(a, BELMONT, [{ id: 'cam1', name: 'Belmont north', why: 'station' }]);
    expect(await store.get(a)).toMatchObject({ language: 'zh', location: BELMONT, needsLocation: false, cameras: [{ id: 'cam1' }] });
    await store.setIncident(b, 'inc-1');
    await store.setIncident(a, 'inc-1');
    expect((await store.byIncident('inc-1')).map((c) => c.id)).toEqual([a, b]);
    await store.setIncident(b, null);
    expect((await store.byIncident('inc-1')).map((c) => c.id)).toEqual([a]);
    expect(await store.byIncident('inc-2')).toEqual([]);
  });

  it('lists the latest conversations first, with their own messages, up to the limit', async () => {
    const { db, store } = await setup();
    const ids: string[] = [];
    for (const [i, n] of ['+13125551111', '+13125552222', '+13125553333'].entries()) {
      const id = await store.createConversation(await store.upsertNumber(n), 'en', NOWHERE, []);
      await store.addMessage(id, inbound(`from ${n}`, `SM${i}`));
      await age(db, id, (3 - i) * HOUR);
      ids.push(id);
    }
    const list = await store.list();
    expect(list.map((c) => c.id)).toEqual([...ids].reverse());
    expect(list.map((c) => c.messages.map((m) => m.body))).toEqual([['from +13125553333'], ['from +13125552222'], ['from +13125551111']]);
    expect(list.map((c) => c.numberMasked)).toEqual(['•••• 3333', '•••• 2222', '•••• 1111']);
    expect((await store.list(2)).map((c) => c.id)).toEqual([ids[2], ids[1]]);
  });

  it('deletes conversations past retention with their messages, counting both, and numbers left with none unless blocked or opted out', async () => {
    const { db, store } = await setup();
    const old = async (n: string, messages: number) => {
      const hash = await store.upsertNumber(n);
      const id = await store.createConversation(hash, 'en', NOWHERE, []);
      for (let i = 0; i < messages; i++) await store.addMessage(id, inbound(`m${i}`, `${n}-${i}`));
      await age(db, id, 200 * 24 * HOUR);
      return { hash, id };
    };
    const plain = await old('+13125551111', 2);
    const blocked = await old('+13125552222', 1);
    await store.block(blocked.hash, 'abuse');
    const optedOut = await old('+13125553333', 0);
    await store.setOptOut(optedOut.hash, true);
    const kept = await old('+13125554444', 1);
    await age(db, kept.id, HOUR);
    const keptOld = await store.createConversation(kept.hash, 'en', NOWHERE, []);
    await age(db, keptOld, 200 * 24 * HOUR);

    const before = new Date(Date.now() - 90 * 24 * HOUR).toISOString();
    expect(await store.deleteOlderThan(before)).toEqual({ conversations: 4, messages: 3 });
    expect((await store.list()).map((c) => c.id)).toEqual([kept.id]);
    expect(await store.get(plain.id)).toBeNull();
    await expect(store.numberOf(plain.hash)).rejects.toThrow('no such rider number');
    const messages = await db.as<SmsTables>().selectFrom('sms_messages').select('conversation_id').execute();
    expect(messages.map((m) => m.conversation_id)).toEqual([kept.id]);
    const numbers = await db.as<SmsTables>().selectFrom('sms_numbers').select('number_hash').orderBy('number_hash').execute();
    expect(numbers.map((r) => r.number_hash)).toEqual([blocked.hash, optedOut.hash, kept.hash].sort());
    expect(await store.numberState(blocked.hash)).toEqual({ optedOut: false, blocked: true });
    expect(await store.deleteOlderThan(before)).toEqual({ conversations: 0, messages: 0 });
  });
});
