/**
 * Times in the console are the control center's: Chicago local time, 24-hour, whatever the
 * workstation's or the liaison's browser zone is (a liaison's laptop may be set to UTC).
 * One formatter set, so the status bar, the queue, the player and the review agree.
 */
export const CONTROL_CENTER_TZ = 'America/Chicago';

const clockFmt = new Intl.DateTimeFormat('en-US', {
  timeZone: CONTROL_CENTER_TZ,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const dateTimeFmt = new Intl.DateTimeFormat('en-US', {
  timeZone: CONTROL_CENTER_TZ,
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** 14:03:27 */
export function clockTime(t: string | number | Date): string {
  return clockFmt.format(new Date(t));
}

/** Nov 28, 14:03:27 */
export function dateTime(t: string | number | Date): string {
  return dateTimeFmt.format(new Date(t));
}

/** 14:03:27.4 (tenths: frame stepping in the player) */
export function clockTenths(ms: number): string {
  return `${clockTime(ms)}.${Math.floor((((ms % 1000) + 1000) % 1000) / 100)}`;
}
