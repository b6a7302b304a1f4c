import type { Generated } from 'kysely';
import type { SmsLanguage } from '../../contract';

/**
 * The tables the SMS feature owns (core/db/migrations/0011_sms_statistics.ts; Postgres:
 * core/db/postgres/0020_baseline.ts), as stored. A rider's number is only ever here as its
 * lookup HMAC, its AES-GCM ciphertext and its last four digits (core/sms/store.ts).
 */
export interface SmsTables {
  sms_numbers: {
    number_hash: string;
    number_enc: Buffer;
    last4: string;
    opted_out_at: string | null;
    blocked_at: string | null;
    block_reason: string | null;
  };
  sms_conversations: {
    id: string;
    number_hash: string;
    incident_id: string | null;
    language: SmsLanguage;
    /** ParsedLocation as JSON. */
    location: string;
    /** NearbyCamera[] as JSON; '[]' by default. */
    cameras: Generated<string>;
    /** 0/1: the operator shared the (masked) number with liaisons; 0 by default. */
    shared: Generated<number>;
    created_at: string;
    last_message_at: string;
  };
  sms_messages: {
    id: Generated<number>;
    conversation_id: string;
    direction: 'in' | 'out';
    body: string;
    at: string;
    author: string | null;
    status: string;
    provider_sid: string | null;
  };
}
