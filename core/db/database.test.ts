import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDatabase, schemaVersion } from './database';
import { MIGRATIONS } from './migrations';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sentinel-db-'));

describe('database', () => {
  it('numbers migrations 1..n without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('opens a new file in WAL mode at the latest schema, and reopens it', () => {
    const file = join(tmp(), 'sentinel.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
    const id = (db.prepare('SELECT id FROM installation').get() as { id: string }).id;
    db.close();
    const again = openDatabase(file);
    expect((again.prepare('SELECT id FROM installation').get() as { id: string }).id).toBe(id);
    again.close();
  });

  it('reports a corrupt file and leaves it untouched', () => {
    const file = join(tmp(), 'sentinel.db');
    writeFileSync(file, 'this is not a database, but it is somebody’s data');
    const before = readFileSync(file);
    expect(() => openDatabase(file)).toThrow(/is not a SQLite database .* left untouched/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('reports a damaged SQLite file (valid header, garbage pages) without replacing it', () => {
    const file = join(tmp(), 'sentinel.db');
    openDatabase(file).close();
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 100, Math.min(bytes.length, 8192)); // keep the header, ruin the schema page
    writeFileSync(file, bytes);
    expect(() => openDatabase(file)).toThrow(/cannot be opened|not a SQLite database/);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('refuses a database from a newer Sentinel', () => {
    const file = join(tmp(), 'sentinel.db');
    const db = openDatabase(file);
    db.pragma(`user_version = ${MIGRATIONS.at(-1)!.version + 5}`);
    expect(() => migrate(db)).toThrow(/newer than this Sentinel/);
    db.close();
  });
});
