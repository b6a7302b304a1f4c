/**
 * CTA's APIs give local Chicago wall-clock times without an offset ("20120620 13:02:38" from
 * Bus Tracker, "2015-04-30T20:23:53" from Train Tracker). We convert them once, at the
 * adapter, to UTC ISO strings, using the runtime's time-zone database so DST is right.
 */
const ZONE = 'America/Chicago';

const partsFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Chicago's offset from UTC at instant `utcMs`, in ms (e.g. -5 h in summer). */
function zoneOffsetMs(utcMs: number): number {
  const p: Record<string, number> = {};
  for (const part of partsFormat.formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

// YYYYMMDD HH:MM[:SS] (Bus Tracker) or YYYY-MM-DD[T ]HH:MM[:SS] (Train Tracker).
const PATTERN = /^(\d{4})-?(\d{2})-?(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * Converts a Chicago local time to a UTC ISO string; null when the text is not such a time
 * (the caller reports it). In the repeated hour when DST ends, the earlier instant wins.
 */
export function chicagoLocalToUtc(text: string): string | null {
  const m = PATTERN.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v))) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  // The offset depends on the instant. Chicago's offset a day either side gives the only two
  // candidates; keep those that map back to this wall time, and the earlier when both do (the
  // repeated hour in November). None does in March's skipped hour: read it with the old offset.
  const before = zoneOffsetMs(wall - 86_400_000);
  const after = zoneOffsetMs(wall + 86_400_000);
  const valid = [wall - before, wall - after].filter((c) => zoneOffsetMs(c) === wall - c);
  const t = valid.length > 0 ? Math.min(...valid) : wall - before;
  const date = new Date(t);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
