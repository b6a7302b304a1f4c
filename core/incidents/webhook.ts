import { createHmac } from 'node:crypto';
import type { Incident } from '../../contract';
import type { Logger } from '../logger';

export const SIGNATURE_HEADER = 'x-sentinel-signature';
export const TIMESTAMP_HEADER = 'x-sentinel-timestamp';

/**
 * The signature a dispatch system checks: HMAC-SHA256 over `<timestamp>.<body>` with the
 * shared secret, hex, as `sha256=<hex>`. The timestamp in the signed text lets the receiver
 * refuse replays of old deliveries.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Posts each incident change, in order, one at a time, retrying a failed delivery with
 * backoff (three tries). A dead receiver never blocks the core: deliveries queue in memory.
 */
export class WebhookSender {
  private queue: Promise<void> = Promise.resolve();
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly log: Logger,
  ) {}

  send(event: 'incident.created' | 'incident.updated', incident: Incident): void {
    const body = JSON.stringify({ event, incident });
    this.queue = this.queue.then(() => this.deliver(body));
  }

  /** Resolves when everything queued so far was delivered or given up. */
  drain(): Promise<void> {
    return this.queue;
  }

  private async deliver(body: string): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const ts = String(Math.floor(Date.now() / 1000));
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: ts, [SIGNATURE_HEADER]: signWebhook(this.secret, ts, body) },
          body,
          signal: AbortSignal.timeout(5000),
        });
        if (res.ok) return;
        this.log.warn({ status: res.status, attempt }, 'webhook receiver refused a delivery');
      } catch (err) {
        this.log.warn({ err: (err as Error).message, attempt }, 'webhook delivery failed');
      }
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
    this.log.error('webhook delivery given up after 3 attempts');
  }
}
