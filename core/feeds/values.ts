/**
 * Readers for CTA's stringly-typed JSON (converted from XML): numbers, coordinates and
 * booleans all arrive as strings, sometimes as real numbers, and a list of one arrives as a
 * bare object. Each reader returns undefined for "not that", so the adapter can name the
 * field in its error.
 */

export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function readString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** "1"/"0", "true"/"false", true/false; anything else is undefined. */
export function readBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === '1' || v === 'true') return true;
    if (v === '0' || v === 'false' || v === '') return false;
  }
  return undefined;
}

/** A heading in [0, 360), or null when absent or unreadable. */
export function readHeading(value: unknown): number | null {
  const n = readNumber(value);
  if (n === undefined) return null;
  return ((n % 360) + 360) % 360;
}

export function validLatLon(lat: number | undefined, lon: number | undefined): boolean {
  return lat !== undefined && lon !== undefined && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat === 0 && lon === 0);
}

/** Short, printable excerpt of a bad value for an error message. */
export function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Thrown when a payload is not of the adapter's format at all (the CLI exits 1 with it). */
export class FeedFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedFormatError';
  }
}

/** Parses JSON text, naming the format expected when it is not JSON (XML, HTML error page). */
export function parseJsonPayload(text: string, format: string): unknown {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) {
    throw new FeedFormatError(`not a ${format} JSON response: the payload is XML or HTML (ask the API for JSON output)`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FeedFormatError(`not a ${format} JSON response: ${(err as Error).message}`);
  }
}

/** Speeds above this (km/h) are a broken report, not a bus: no CTA vehicle goes half as fast. */
export const MAX_SPEED_KMH = 200;

/**
 * A reported speed converted to km/h, or why it cannot be used: a speed that is missing stays
 * unknown (undefined, no error); one that is not a number, negative or impossible is named so the
 * feed's status shows it, and the vehicle is kept with its speed unknown.
 */
export function readSpeedKmh(value: unknown, toKmh: number): { kmh?: number; problem?: string } {
  if (value === undefined || value === null || value === '') return {};
  const n = readNumber(value);
  if (n === undefined) return { problem: `not a number (${show(value)})` };
  const kmh = Math.round(n * toKmh * 10) / 10;
  if (n < 0 || kmh > MAX_SPEED_KMH) return { problem: `out of range (${show(value)})` };
  return { kmh };
}
