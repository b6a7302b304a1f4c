import type { z } from 'zod';
import { ApiErrorBody, CSRF_HEADER, routes, type RouteName } from '../../../contract';

/** An API failure with the core's error code and message (or a network failure). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Calls the core's JSON API and validates the answer against the contract, so a mismatched
 * core and console fail loudly at the boundary instead of rendering garbage.
 */
export async function request<S extends z.ZodType>(
  method: string,
  path: string,
  schema: S,
  body?: unknown,
  signal?: AbortSignal,
): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      // The CSRF header: the core refuses cookie-authenticated writes without it (docs/security.md).
      headers:
        body === undefined
          ? { accept: 'application/json', [CSRF_HEADER]: '1' }
          : { accept: 'application/json', 'content-type': 'application/json', [CSRF_HEADER]: '1' },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
      signal: signal ?? null,
    });
  } catch (err) {
    throw new ApiError(`cannot reach the Sentinel core (${(err as Error).message})`, 0, 'network');
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(`the core answered ${res.status} with a body that is not JSON`, res.status, 'bad_response');
  }
  if (!res.ok) {
    const err = ApiErrorBody.safeParse(json);
    if (err.success) throw new ApiError(err.data.error.message, res.status, err.data.error.code, err.data.error.field);
    throw new ApiError(`the core answered ${res.status}`, res.status, 'bad_response');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new ApiError(`unexpected answer from ${path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, res.status, 'bad_response');
  return parsed.data;
}

/** Typed call of a route from the contract's route table (GET routes without parameters). */
export function get<N extends RouteName>(name: N, signal?: AbortSignal): Promise<z.infer<(typeof routes)[N]['response']>> {
  const r = routes[name];
  // The schema validates at run time; with several routes TS cannot relate the union back to N.
  return request(r.method, r.path, r.response as z.ZodType, undefined, signal) as Promise<z.infer<(typeof routes)[N]['response']>>;
}

/**
 * Typed call of any route of the contract's table: `:params` are filled in (encoded), the
 * body is sent as JSON, the answer validated with the route's response schema.
 */
export function call<N extends RouteName>(
  name: N,
  opts: { params?: Record<string, string>; body?: unknown; query?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<z.infer<(typeof routes)[N]['response']>> {
  const r = routes[name];
  let path: string = r.path;
  for (const [k, v] of Object.entries(opts.params ?? {})) path = path.replace(`:${k}`, encodeURIComponent(v));
  if (opts.query) path += `?${new URLSearchParams(opts.query).toString()}`;
  return request(r.method, path, r.response as z.ZodType, opts.body, opts.signal) as Promise<z.infer<(typeof routes)[N]['response']>>;
}
