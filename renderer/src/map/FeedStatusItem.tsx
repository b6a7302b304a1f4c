import type { FeedStatus } from '../../../contract';
import { useStore } from '../client/store';
import type { Fleet } from './fleet';

function tone(s: FeedStatus['state']): 'ok' | 'warn' | 'bad' {
  switch (s) {
    case 'live':
      return 'ok';
    case 'starting':
    case 'stale':
    case 'disabled':
      return 'warn';
    case 'outage':
      return 'bad';
  }
}

/** One status-bar item per feed: live / stale / outage, with the reason on hover. */
export function FeedStatusItem({ fleet }: { fleet: Fleet }) {
  const feeds = useStore(fleet.feeds);
  if (feeds.length === 0)
    return (
      <span className="status-item muted" data-testid="feed-status" data-state="none">
        No transit feeds
      </span>
    );
  return (
    <>
      {feeds.map((f) => (
        <span
          key={f.id}
          className={`status-item link link-${tone(f.state)}`}
          data-testid="feed-status"
          data-feed={f.id}
          data-state={f.state}
          title={f.lastError ?? f.detail}
        >
          <span className="dot" aria-hidden="true" />
          {f.detail}
        </span>
      ))}
    </>
  );
}
