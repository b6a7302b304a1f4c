import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { CameraCreate, type CameraMount } from '../../contract/cameras';
import type { CameraCatalog } from './catalog';
import type { CameraRecord } from './repository';

/**
 * Bulk camera import from CSV (technicians register a depot's worth of buses at once).
 * All or nothing: every row is checked first, and only a file with no bad row is written,
 * in one database transaction. The report names each bad row by its line in the file.
 */

export const CSV_COLUMNS = [
  'name',
  'url',
  'sub_url',
  'username',
  'password',
  'mount',
  'station_id',
  'platform',
  'vehicle_id',
  'railcar_id',
  'line',
  'description',
  'lat',
  'lon',
  'analytics',
  'recording',
] as const;
type Column = (typeof CSV_COLUMNS)[number];
export const MAX_CSV_ROWS = 5000;

export interface CsvRowError {
  /** 1-based line in the file (the header is line 1). */
  line: number;
  column: string | null;
  message: string;
}

export interface CsvImportResult {
  imported: CameraRecord[];
  errors: CsvRowError[];
  rows: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/**
 * RFC 4180 with the kept `csv-parse`: quoted fields may hold commas, newlines and doubled
 * quotes; CRLF or LF; Excel's BOM. Each row keeps the line it starts on (the report names
 * bad rows by line), which csv-parse gives as where the previous record ended plus the empty
 * lines it skipped in between.
 */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  let records: { record: string[]; info: { lines: number; empty_lines: number } }[];
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as { code?: string; lines?: number; message: string };
    const line = typeof e.lines === 'number' ? e.lines : 1;
    if (e.code === 'CSV_QUOTE_NOT_CLOSED') throw new CsvSyntaxError(`line ${line}: a quoted field is never closed`, line);
    if (e.code === 'INVALID_OPENING_QUOTE') throw new CsvSyntaxError(`line ${line}: a quote in the middle of an unquoted field`, line);
    throw new CsvSyntaxError(`line ${line}: ${e.message.replace(/^[^:]*:\s*/, '')}`, line);
  }
  const rows: { line: number; fields: string[] }[] = [];
  let endLine = 0;
  let empty = 0;
  for (const r of records) {
    rows.push({ line: endLine + 1 + (r.info.empty_lines - empty), fields: r.record });
    endLine = r.info.lines;
    empty = r.info.empty_lines;
  }
  return rows;
}

const BOOL: Record<string, boolean> = {
  true: true,
  yes: true,
  y: true,
  '1': true,
  on: true,
  false: false,
  no: false,
  n: false,
  '0': false,
  off: false,
};

function toBool(v: string, column: Column, line: number, errors: CsvRowError[]): boolean | undefined {
  if (v === '') return undefined;
  const b = BOOL[v.toLowerCase()];
  if (b === undefined) errors.push({ line, column, message: `"${v}" is not yes/no (use true/false, yes/no or 1/0)` });
  return b;
}

function mountOf(get: (c: Column) => string, line: number, errors: CsvRowError[]): CameraMount | undefined {
  const kind = get('mount') || 'other';
  const need = (c: Column): string => {
    const v = get(c);
    if (!v) errors.push({ line, column: c, message: `${c} is required for a ${kind} mount` });
    return v;
  };
  switch (kind) {
    case 'station':
      return { kind, stationId: need('station_id'), ...(get('platform') ? { platform: get('platform') } : {}) };
    case 'bus':
    case 'operator_cab':
      return { kind, vehicleId: need('vehicle_id') };
    case 'railcar':
      return { kind, railcarId: need('railcar_id'), ...(get('line') ? { line: get('line') } : {}) };
    case 'other':
      return { kind, ...(get('description') ? { description: get('description') } : {}) };
    default:
      errors.push({ line, column: 'mount', message: `mount "${kind}" is not one of station, bus, operator_cab, railcar, other` });
      return undefined;
  }
}

/** Checks every row; returns the valid CameraCreate inputs only when no row is bad. */
export function checkCsv(
  text: string,
  existingNames: Set<string>,
): { inputs: { line: number; input: CameraCreate }[]; errors: CsvRowError[]; rows: number } {
  let table: { line: number; fields: string[] }[];
  try {
    table = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvSyntaxError) return { inputs: [], errors: [{ line: err.line, column: null, message: err.message }], rows: 0 };
    throw err;
  }
  const header = table.shift();
  if (!header)
    return {
      inputs: [],
      errors: [{ line: 1, column: null, message: 'the file is empty; the first line must name the columns (name,url,...)' }],
      rows: 0,
    };
  const cols = header.fields.map((h) => h.trim().toLowerCase());
  const errors: CsvRowError[] = [];
  cols.forEach((c) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(c))
      errors.push({ line: 1, column: c, message: `unknown column "${c}"; the columns are ${CSV_COLUMNS.join(', ')}` });
  });
  for (const required of ['name', 'url'] as const)
    if (!cols.includes(required)) errors.push({ line: 1, column: required, message: `the header has no "${required}" column` });
  if (new Set(cols).size !== cols.length) errors.push({ line: 1, column: null, message: 'a column appears twice in the header' });
  if (errors.length) return { inputs: [], errors, rows: table.length };
  if (table.length > MAX_CSV_ROWS)
    return {
      inputs: [],
      errors: [{ line: 1, column: null, message: `${table.length} rows; import at most ${MAX_CSV_ROWS} at a time` }],
      rows: table.length,
    };

  const inputs: { line: number; input: CameraCreate }[] = [];
  const seen = new Map<string, number>();
  for (const row of table) {
    const line = row.line;
    if (row.fields.length !== cols.length) {
      errors.push({ line, column: null, message: `${row.fields.length} fields, the header has ${cols.length}` });
      continue;
    }
    const get = (c: Column): string => {
      const idx = cols.indexOf(c);
      return idx < 0 ? '' : row.fields[idx]!.trim();
    };
    const rowErrors: CsvRowError[] = [];
    const mount = mountOf(get, line, rowErrors);
    const lat = get('lat');
    const lon = get('lon');
    let location: { lat: number; lon: number } | null = null;
    if (lat || lon) {
      if (!lat || !lon || !Number.isFinite(Number(lat)) || !Number.isFinite(Number(lon)))
        rowErrors.push({ line, column: lat ? 'lon' : 'lat', message: 'lat and lon must both be numbers, or both empty' });
      else location = { lat: Number(lat), lon: Number(lon) };
    }
    const analytics = toBool(get('analytics'), 'analytics', line, rowErrors);
    const recording = toBool(get('recording'), 'recording', line, rowErrors);
    const candidate = {
      name: get('name'),
      url: get('url'),
      ...(get('sub_url') ? { subUrl: get('sub_url') } : {}),
      // Passwords are taken verbatim (spaces included), never trimmed.
      ...(get('username') ? { username: get('username') } : {}),
      ...(cols.includes('password') && row.fields[cols.indexOf('password')] ? { password: row.fields[cols.indexOf('password')]! } : {}),
      ...(mount ? { mount } : {}),
      location,
      ...(analytics !== undefined ? { analyticsEnabled: analytics } : {}),
      ...(recording !== undefined ? { recordingEnabled: recording } : {}),
    };
    const parsed = CameraCreate.safeParse(candidate);
    if (!parsed.success) {
      const mountReported = rowErrors.some(
        (e) => e.column === 'mount' || e.column === 'station_id' || e.column === 'vehicle_id' || e.column === 'railcar_id',
      );
      for (const issue of parsed.error.issues) {
        const path = issue.path.join('.');
        // A missing station/vehicle id is already reported by column; the schema's echo of it is noise.
        if (mountReported && path.startsWith('mount')) continue;
        const column =
          path === 'subUrl' ? 'sub_url' : path.startsWith('location') ? 'lat' : path.startsWith('mount') ? 'mount' : path || null;
        // Never echo a credential back in an error report.
        rowErrors.push({ line, column, message: column === 'password' ? 'password is not acceptable (too long)' : issue.message });
      }
    }
    const name = get('name');
    if (name) {
      const key = name.toLowerCase();
      if (existingNames.has(name)) rowErrors.push({ line, column: 'name', message: `a camera named "${name}" already exists` });
      else if (seen.has(key)) rowErrors.push({ line, column: 'name', message: `"${name}" is also on line ${seen.get(key)}` });
      else seen.set(key, line);
    }
    if (rowErrors.length) errors.push(...rowErrors);
    else if (parsed.success) inputs.push({ line, input: candidate as CameraCreate });
  }
  return { inputs: errors.length ? [] : inputs, errors, rows: table.length };
}

/** Imports all rows in one transaction, or none when any row is bad. */
export async function importCamerasCsv(cameras: Pick<CameraCatalog, 'list' | 'createAll'>, text: string): Promise<CsvImportResult> {
  const existing = new Set(cameras.list().map((c) => c.name));
  const { inputs, errors, rows } = checkCsv(text, existing);
  if (errors.length) return { imported: [], errors, rows };
  // A name taken meanwhile through another replica fails its row's insert and rolls back the rest.
  const imported = await cameras.createAll(inputs.map((r) => r.input));
  return { imported, errors: [], rows };
}

export const CsvImportBody = z.strictObject({
  csv: z
    .string()
    .min(1, 'the CSV is empty')
    .max(5 * 1024 * 1024),
});
