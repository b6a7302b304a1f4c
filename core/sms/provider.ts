import { z } from 'zod';
import type { Logger } from '../logger';

/** Sends one text. Resolves with the provider's message id; rejects with a reason to show the operator. */
export interface SmsProvider {
  send(to: string, body: string): Promise<{ sid: string }>;
}

const TwilioAnswer = z.object({ sid: z.string() });
const TwilioError = z.object({ message: z.string(), code: z.number().optional() });

/**
 * Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json, form body, HTTP basic
 * auth with the account SID and auth token). Plain fetch rather than the `twilio` client: the
 * client cannot be pointed at another base URL, and tests run a real local server in its place.
 */
export class TwilioProvider implements SmsProvider {
  constructor(
    private readonly o: { baseUrl: string; accountSid: string; authToken: string; from: string; log: Logger; timeoutMs?: number },
  ) {}

  async send(to: string, body: string): Promise<{ sid: string }> {
    const url = `${this.o.baseUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(this.o.accountSid)}/Messages.json`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${this.o.accountSid}:${this.o.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: to, From: this.o.from, Body: body }).toString(),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Reported below with the status.
    }
    if (!res.ok) {
      const e = TwilioError.safeParse(json);
      throw new Error(`SMS provider answered HTTP ${res.status}${e.success ? `: ${e.data.message}` : ''}`);
    }
    const ok = TwilioAnswer.safeParse(json);
    if (!ok.success) throw new Error(`SMS provider answered HTTP ${res.status} without a message sid`);
    this.o.log.debug({ sid: ok.data.sid }, 'sms sent');
    return { sid: ok.data.sid };
  }
}
