import { z } from 'zod';
import { FeedParseResult } from '../../contract';
import type { Cluster } from '../cluster';
import type { Logger } from '../logger';
import type { FeedSink } from './pollers';

/** The cluster topic on which the polling replica hands its feed reports to the others. */
export const FEEDS_TOPIC = 'feeds';

const Relayed = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('vehicles'), feed: z.string().min(1), result: FeedParseResult }),
  z.strictObject({ op: z.literal('failure'), feed: z.string().min(1), message: z.string() }),
]);

/**
 * Feed polling in a cluster: one replica (the holder of the `feed-polling` lease) calls the
 * CTA's APIs, so N replicas spend one Bus Tracker budget, not N. What it parses goes into its
 * own feeds service and, through Redis, into every other replica's, which apply the same
 * reports to their own vehicle stores. Each store then issues its own diff sequence to its
 * own consoles, as before. The relayed reports are the parsed vehicles (no API key, no raw
 * body), checked with the contract's schema on arrival.
 */
export function relayFeedReports(local: FeedSink, cluster: Pick<Cluster, 'publish' | 'subscribe'>, log: Logger): FeedSink {
  cluster
    .subscribe(FEEDS_TOPIC, (payload, from) => {
      const m = Relayed.safeParse(payload);
      if (!m.success) return void log.warn({ from, issue: m.error.issues[0]?.message }, 'a relayed feed report is malformed; ignored');
      if (m.data.op === 'vehicles') local.vehicles(m.data.feed, m.data.result);
      else local.failure(m.data.feed, m.data.message);
    })
    .catch((err: unknown) => log.error({ err }, 'cannot subscribe to the other replicas’ feed reports; this replica’s map goes stale'));
  return {
    vehicles(feed, result) {
      local.vehicles(feed, result);
      cluster.publish(FEEDS_TOPIC, { op: 'vehicles', feed, result });
    },
    failure(feed, message) {
      local.failure(feed, message);
      cluster.publish(FEEDS_TOPIC, { op: 'failure', feed, message });
    },
  };
}
