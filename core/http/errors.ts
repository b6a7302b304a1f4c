import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errorStatus, zodErrorBody, type ApiErrorBody } from '../../contract';
import { SentinelError } from '../errors';
import type { Logger } from '../logger';

/** Validates a request part with a contract schema; a failure is a 400 naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query' | 'params' = 'body'): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const body = zodErrorBody(r.error);
    throw new SentinelError(`${part}: ${body.error.message}`, 'validation_failed', body.error.field);
  }
  return r.data;
}

/** One error shape for every failure, so clients never parse HTML or stack traces. */
export function installErrorHandling(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err, req, reply) => {
    let body: ApiErrorBody;
    if (err instanceof SentinelError) {
      body = { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
    } else if (err instanceof z.ZodError) {
      body = zodErrorBody(err);
    } else {
      const e = err as { code?: string; statusCode?: number; message: string };
      if (
        e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
        e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
        (e.statusCode === 400 && /JSON/i.test(e.message))
      ) {
        body = { error: { code: 'bad_request', message: `request body is not valid JSON: ${e.message}` } };
      } else if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        body = { error: { code: 'payload_too_large', message: 'request body is too large' } };
      } else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        body = { error: { code: 'bad_request', message: 'request body must be application/json' } };
      } else {
        log.error({ err, url: req.url, method: req.method }, 'unhandled error in route');
        body = { error: { code: 'internal', message: 'internal error; see the server log' } };
      }
    }
    void reply.status(errorStatus[body.error.code]).send(body);
  });
}

/**
 * The first place in a parsed request part holding a NUL character, as a field path ('' for
 * the part itself); null when none. Iterative: a JSON body may nest deeper than the stack.
 */
export function nulAt(value: unknown): string | null {
  // Each visited value with the index of its parent and its key, to name the path only when found.
  const seen: { parent: number; key: string | number | null }[] = [];
  const stack: { value: unknown; parent: number; key: string | number | null }[] = [{ value, parent: -1, key: null }];
  const pathOf = (i: number): string => {
    let path = '';
    for (let at = i; at >= 0; at = seen[at]!.parent) {
      const { key, parent } = seen[at]!;
      if (key === null) continue;
      path = typeof key === 'number' ? `[${key}]${path}` : `${parent >= 0 && seen[parent]!.key !== null ? '.' : ''}${key}${path}`;
    }
    return path;
  };
  for (let next = stack.pop(); next; next = stack.pop()) {
    const i = seen.push({ parent: next.parent, key: next.key }) - 1;
    const v = next.value;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return pathOf(i);
    } else if (Array.isArray(v)) {
      for (let k = v.length - 1; k >= 0; k--) stack.push({ value: v[k], parent: i, key: k });
    } else if (v !== null && typeof v === 'object') {
      // Only what the JSON, query and path parsers make (plain or null-prototype objects, the
      // router's params a class over a null prototype); an upload's Buffer or stream is not text.
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null && Object.getPrototypeOf(proto) !== null) continue;
      const entries = Object.entries(v);
      for (let k = entries.length - 1; k >= 0; k--) {
        const [key, child] = entries[k]!;
        if (key.includes('\u0000')) return pathOf(seen.push({ parent: i, key }) - 1);
        stack.push({ value: child, parent: i, key });
      }
    }
  }
  return null;
}

/**
 * Refuses a request whose path parameters, query or JSON body hold a NUL character (%00,
 * \u0000), before any handler sees it. No field of the API means one, and the databases
 * disagree on it: SQLite stores and compares such text, Postgres refuses it (invalid byte
 * sequence for UTF8), which would make the same request a 404 on one and a 500 on the other.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    for (const [part, value] of [
      ['params', req.params],
      ['query', req.query],
      ['body', req.body],
    ] as const) {
      const at = nulAt(value);
      if (at !== null)
        throw new SentinelError(`${part}: ${at || 'the value'} contains a NUL character`, 'validation_failed', at || undefined);
    }
  });
}
