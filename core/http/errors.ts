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
