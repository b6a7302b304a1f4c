import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { NodeAck, NodeAlert, NodeAlertChange, NodeSegment } from '../../contract/nodes';
import type { Logger } from '../logger';

/** Everything the core must not miss: alerts, their changes, and recorded segments (footage it could not find otherwise). */
export type OutboxItem =
  { type: 'alert'; body: NodeAlert } | { type: 'change'; body: NodeAlertChange } | { type: 'segment'; body: NodeSegment };

/** Sends one item and resolves with the core's answer; rejects when no answer came (disconnected, timeout). */
export type OutboxSend = (item: OutboxItem) => Promise<NodeAck>;

/**
 * A node's alerts and alert changes on their way to the core, in order, one at a time: an item
 * leaves the outbox only when the core answers that it committed it (or refuses it for good:
 * a camera deleted). Without an answer it is sent again at the next `pump` (a reconnection,
 * the next heartbeat), under the same alert id, so the core stores it once. The outbox is a
 * small JSON file rewritten at each change (alert rates are a few a minute per node), so a
 * node killed before the core answered resends at its next start.
 */
export class Outbox {
  private items: OutboxItem[] = [];
  private sending = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly file: string | null,
    private readonly send: OutboxSend,
    private readonly log: Logger,
  ) {
    if (!file) return;
    try {
      this.items = JSON.parse(readFileSync(file, 'utf8')) as OutboxItem[];
      if (this.items.length)
        log.info({ pending: this.items.length }, 'alerts not yet acknowledged by the core from the last run: resending');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.error({ err, file }, 'cannot read the alert outbox; starting empty');
      this.items = [];
    }
  }

  get pending(): number {
    return this.items.length;
  }

  add(item: OutboxItem): void {
    this.items.push(item);
    this.save();
    void this.pump();
  }

  private save(): void {
    if (!this.file) return;
    try {
      // Written aside then renamed: a kill mid-write leaves the previous whole file.
      writeFileSync(`${this.file}.tmp`, JSON.stringify(this.items));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.log.error({ err }, 'cannot save the alert outbox; alerts stay in memory until acknowledged');
    }
  }

  /** Sends what is pending, in order, until the outbox is empty or the core does not answer. */
  async pump(): Promise<void> {
    if (this.sending || this.closed) return;
    this.sending = true;
    try {
      while (this.items.length && !this.closed) {
        const head = this.items[0]!;
        let ack: NodeAck;
        try {
          ack = await this.send(head);
        } catch {
          return; // not connected or no answer: the next pump resends it
        }
        if (!ack.ok && ack.retry) {
          this.log.warn({ id: head.body.id, type: head.type, error: ack.error }, 'the core could not store this yet; retrying');
          this.retryTimer ??= setTimeout(() => {
            this.retryTimer = null;
            void this.pump();
          }, 1000);
          return;
        }
        if (!ack.ok) this.log.error({ id: head.body.id, type: head.type, error: ack.error }, 'the core refused this for good; dropped');
        this.items.shift();
        this.save();
      }
    } finally {
      this.sending = false;
    }
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
