import { m0001 } from './0001_init';
import type { Migration } from './types';

export type { Migration };

/** All migrations in order. A new one takes the next number and is appended here. */
export const MIGRATIONS: readonly Migration[] = [m0001];
