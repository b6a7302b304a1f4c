import pg from 'pg';
import { SentinelError } from '../../errors';

/**
 * pg returns BIGINT (int8) as a string, because an int8 can exceed 2^53. Sentinel's BIGINT
 * columns are epoch-ms, byte counts and sequence numbers, all far below 2^53, and the
 * repositories want numbers as better-sqlite3 gives them; a value that would lose precision
 * is an error, never a silently rounded number. The parser is per pool (not pg.types, which
 * is process-global and would change every other pg user in the process).
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new SentinelError(`a BIGINT value ${text} from Postgres is beyond 2^53 and cannot be read as a number`, 'internal');
  }
  return n;
}

const INT8_OID = 20;

export const postgresTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** A pool on a postgres:// URL with Sentinel's type parsers. */
export function openPostgresPool(url: string, max = 10): pg.Pool {
  return new pg.Pool({ connectionString: url, max, types: postgresTypes });
}
