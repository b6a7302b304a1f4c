import { createHmac } from 'node:crypto';

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
