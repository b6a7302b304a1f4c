import { z } from 'zod';

/**
 * Every error the HTTP API returns has this shape. `field` names the offending input
 * (a dotted path into the body or query) when the error is about one input.
 */
export const ErrorCode = z.enum([
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiErrorBody = z.strictObject({
  error: z.strictObject({
    code: ErrorCode,
    message: z.string(),
    field: z.string().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** HTTP status used for each error code, one place so core and client agree. */
export const errorStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** Turns a zod error into the API's error body, naming the first bad field. */
export function zodErrorBody(err: z.ZodError, prefix = ''): ApiErrorBody {
  const issue = err.issues[0];
  const path = issue ? [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.') : prefix;
  const message = issue
    ? issue.code === 'unrecognized_keys'
      ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${path ? `${path}.` : ''}${k}"`).join(', ')}`
      : `${path || 'body'}: ${issue.message}`
    : 'invalid input';
  return {
    error: {
      code: 'validation_failed',
      message,
      ...(path ? { field: path } : {}),
    },
  };
}
