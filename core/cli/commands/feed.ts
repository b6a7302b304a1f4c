import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { FeedParseResult } from '../../../contract';
import { SentinelError } from '../../errors';
import { parseBusTrackerText } from '../../feeds/bus-tracker';
import { parseGtfsRt } from '../../feeds/gtfs-rt';
import { parseTrainTrackerText } from '../../feeds/train-tracker';
import { FeedFormatError } from '../../feeds/values';
import { printJson } from '../util';

export const FEED_FORMATS = ['bus-tracker', 'train-tracker', 'gtfs-rt'] as const;
type FeedFormat = (typeof FEED_FORMATS)[number];

export function parseFeedFile(format: FeedFormat, bytes: Uint8Array): FeedParseResult {
  switch (format) {
    case 'bus-tracker':
      return parseBusTrackerText(new TextDecoder().decode(bytes));
    case 'train-tracker':
      return parseTrainTrackerText(new TextDecoder().decode(bytes));
    case 'gtfs-rt':
      return parseGtfsRt(bytes);
  }
}

/** `sentinel feed parse`: runs one adapter on a saved payload, for support and for testing a feed. */
export function registerFeed(program: Command): void {
  const feed = program.command('feed').description('transit feeds (CTA Bus Tracker, Train Tracker, GTFS-realtime)');
  feed
    .command('parse')
    .description('normalise a saved feed payload and print {"vehicles":[...],"errors":[...]}')
    .addOption(new Option('--format <format>', 'payload format').choices(FEED_FORMATS).makeOptionMandatory())
    .argument('<file>', 'payload file (JSON for the CTA APIs, protobuf for GTFS-realtime)')
    .option('--json', 'one JSON document on stdout (the default output is also JSON; kept for scripts that pass it)')
    .action((file: string, opts: { format: FeedFormat; json?: boolean }) => {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (err) {
        throw new SentinelError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      let result: FeedParseResult;
      try {
        result = parseFeedFile(opts.format, bytes);
      } catch (err) {
        if (err instanceof FeedFormatError) throw new SentinelError(`${file}: ${err.message}`);
        throw err;
      }
      printJson(result);
    });
}
