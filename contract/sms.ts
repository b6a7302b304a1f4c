import { z } from 'zod';
import { PUBLIC, type Role } from './auth';

/**
 * Rider text reports: riders text a number; the core files each report as an incident of kind
 * `rider-report`, placed by what the text says, and the operator answers from the incident.
 * Phone numbers never leave the core in full except to the roles in SMS_NUMBER_ROLES, audited.
 */
export const SmsLanguage = z.enum(['en', 'es', 'pl', 'zh']);
export type SmsLanguage = z.infer<typeof SmsLanguage>;

/** Twilio's inbound message webhook (form-encoded). Other Twilio fields are accepted and ignored. */
export const SmsInbound = z
  .object({
    From: z.string().min(3).max(32),
    To: z.string().min(1).max(32),
    Body: z.string().max(1600).default(''),
    MessageSid: z.string().min(1).max(64),
    NumMedia: z.coerce.number().int().min(0).max(10).default(0),
  })
  .catchall(z.string());
export type SmsInbound = z.infer<typeof SmsInbound>;

/** What the location parser understood from a text (fields are null when the text does not say). */
export const ParsedLocation = z.strictObject({
  stationId: z.string().nullable(),
  stationName: z.string().nullable(),
  /** Other stations of the same name (the Belmont on the Blue Line, say) the operator may mean. */
  alternatives: z.array(z.strictObject({ id: z.string(), name: z.string(), lines: z.array(z.string()) })),
  line: z.string().nullable(),
  direction: z.enum(['northbound', 'southbound', 'eastbound', 'westbound']).nullable(),
  busRoute: z.string().nullable(),
  busNumber: z.string().nullable(),
  railcar: z.string().nullable(),
});
export type ParsedLocation = z.infer<typeof ParsedLocation>;

export const SmsMessage = z.strictObject({
  id: z.number().int(),
  direction: z.enum(['in', 'out']),
  body: z.string(),
  at: z.string(),
  /** Username of the operator who wrote an outbound message; null for the rider and automatic answers. */
  author: z.string().nullable(),
  /** Outbound delivery: queued, sent, failed (with the provider's reason). */
  status: z.string(),
});
export type SmsMessage = z.infer<typeof SmsMessage>;

export const NearbyCamera = z.strictObject({ id: z.string(), name: z.string(), why: z.enum(['vehicle', 'station', 'nearby']) });
export type NearbyCamera = z.infer<typeof NearbyCamera>;

export const SmsConversation = z.strictObject({
  id: z.string(),
  incidentId: z.string().nullable(),
  /** "•••• 1234": what every console shows. */
  numberMasked: z.string(),
  /** Liaisons see the number (masked) only once an operator shared it. */
  sharedWithLiaisons: z.boolean(),
  language: SmsLanguage,
  location: ParsedLocation,
  /** True when the text named no place the parser knows: the operator has to ask. */
  needsLocation: z.boolean(),
  cameras: z.array(NearbyCamera),
  optedOut: z.boolean(),
  createdAt: z.string(),
  lastMessageAt: z.string(),
  messages: z.array(SmsMessage),
});
export type SmsConversation = z.infer<typeof SmsConversation>;
export const SmsConversationList = z.strictObject({ conversations: z.array(SmsConversation) });

/** Operator replies are short: one SMS segment of plain text (the rider may be next to the offender). */
export const SmsReply = z.strictObject({ body: z.string().trim().min(1).max(160) });
export type SmsReply = z.infer<typeof SmsReply>;
export const SmsReveal = z.strictObject({ reason: z.string().trim().min(3).max(200) });
export const SmsRevealResponse = z.strictObject({ number: z.string() });
export const SmsShare = z.strictObject({ shared: z.boolean() });
export const SmsBlock = z.strictObject({ reason: z.string().trim().min(3).max(200) });
const OK = z.strictObject({ ok: z.literal(true) });

/** Who may see a rider's full number (each look audited): operators and administrators. */
export const SMS_NUMBER_ROLES: readonly Role[] = ['operator'];
const SMS_READ_ROLES: readonly Role[] = ['operator', 'liaison', 'reviewer'];

export const smsRoutes = {
  /** Twilio's webhook: authenticated by X-Twilio-Signature, not a session; rate-limited per number. */
  smsInbound: { method: 'POST', path: '/api/v1/sms/inbound', response: z.unknown(), roles: PUBLIC },
  smsConversations: { method: 'GET', path: '/api/v1/sms/conversations', response: SmsConversationList, roles: SMS_READ_ROLES },
  smsConversation: { method: 'GET', path: '/api/v1/sms/conversations/:id', response: SmsConversation, roles: SMS_READ_ROLES },
  smsReply: { method: 'POST', path: '/api/v1/sms/conversations/:id/reply', response: SmsMessage, body: SmsReply, roles: ['operator'] },
  smsReveal: {
    method: 'POST',
    path: '/api/v1/sms/conversations/:id/reveal',
    response: SmsRevealResponse,
    body: SmsReveal,
    roles: SMS_NUMBER_ROLES,
  },
  smsShare: { method: 'POST', path: '/api/v1/sms/conversations/:id/share', response: OK, body: SmsShare, roles: ['operator'] },
  smsBlock: { method: 'POST', path: '/api/v1/sms/conversations/:id/block', response: OK, body: SmsBlock, roles: ['operator'] },
} as const;
