import { m0001 } from './0001_init';
import { m0002 } from './0002_cameras';
import { m0003 } from './0003_recordings';
import { m0004 } from './0004_alerts';
import type { Migration } from './types';

export type { Migration };

/** All migrations in order. A new one takes the next number and is appended here. */
export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004];
