import { useState, type FormEvent } from 'react';
import type { SmsConversation } from '../../../contract';
import { ApiError, call } from '../client/api';
import { ctTime } from '../liaison/pushStore';
import './sms.css';

const LANG: Record<string, string> = { en: 'English', es: 'Spanish', pl: 'Polish', zh: 'Chinese' };

function place(c: SmsConversation): string {
  const l = c.location;
  const parts = [
    l.stationName,
    l.busNumber ? `bus ${l.busNumber}${l.busRoute ? ` (#${l.busRoute})` : ''}` : null,
    l.railcar ? `car ${l.railcar}` : null,
    l.line ? `${l.line} line` : null,
    l.direction,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no place given: ask the rider';
}

/**
 * Rider texts for the operator: each conversation with its place, masked number, nearest
 * cameras and messages, and a short reply box (one SMS, never revealing what the rider does).
 */
export function RiderTexts({
  conversations,
  onSent,
  mayReply,
}: {
  conversations: SmsConversation[];
  onSent: (id: string) => void;
  mayReply: boolean;
}) {
  if (conversations.length === 0) return null;
  return (
    <section className="rider-texts" aria-label="Rider texts" data-testid="rider-texts">
      <h3>Rider texts</h3>
      {conversations.slice(0, 10).map((c) => (
        <Conversation key={c.id} c={c} onSent={onSent} mayReply={mayReply} />
      ))}
    </section>
  );
}

function Conversation({ c, onSent, mayReply }: { c: SmsConversation; onSent: (id: string) => void; mayReply: boolean }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const send = (e: FormEvent): void => {
    e.preventDefault();
    setError(null);
    call('smsReply', { params: { id: c.id }, body: { body: text } })
      .then(() => {
        setText('');
        onSent(c.id);
      })
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : 'the reply was not sent'));
  };
  return (
    <article className={`rider-text ${c.needsLocation ? 'needs-place' : ''}`} data-testid="rider-text" data-conversation={c.id}>
      <header>
        <strong data-testid="rider-text-place">{place(c)}</strong>
        <span className="muted">
          {c.numberMasked} · {LANG[c.language] ?? c.language}
          {c.optedOut ? ' · STOP' : ''}
        </span>
      </header>
      {c.cameras.length > 0 && <p className="muted">Cameras: {c.cameras.map((k) => k.name).join(', ')}</p>}
      <ol className="rider-messages">
        {c.messages.map((m) => (
          <li key={m.id} className={m.direction} data-testid="rider-message">
            <span className="muted">{ctTime(m.at)}</span> {m.body}
            {m.direction === 'out' && m.status !== 'sent' ? <em> ({m.status})</em> : null}
          </li>
        ))}
      </ol>
      {mayReply && !c.optedOut && (
        <form onSubmit={send} className="rider-reply">
          <input
            aria-label="Reply to the rider"
            maxLength={160}
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="Short reply (160 characters)"
          />
          <button type="submit" disabled={!text.trim()}>
            Send
          </button>
        </form>
      )}
      {error && <p role="alert">{error}</p>}
    </article>
  );
}
