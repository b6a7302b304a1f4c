import { z } from 'zod';
import { ApiErrorBody, routes } from '../contract';
import { VERSION } from './version';

interface RouteSpec {
  method: string;
  path: string;
  response: z.ZodType;
  body?: z.ZodType;
  summary?: string;
}

/**
 * The OpenAPI document of the JSON API, generated from the contract's route table (the one
 * source of truth). `docs/api/openapi.json` is this output; a test fails when it is stale, so
 * the published spec never drifts from the code (`npm run api:spec` rewrites it).
 */
export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorSchema = z.toJSONSchema(ApiErrorBody, { io: 'output' });
  for (const [name, r] of Object.entries(routes as Record<string, RouteSpec>)) {
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      operationId: name,
      ...(r.summary ? { summary: r.summary } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } },
            },
          }
        : {}),
      responses: {
        '200': {
          description: 'OK',
          content: { 'application/json': { schema: z.toJSONSchema(r.response, { io: 'output', unrepresentable: 'any' }) } },
        },
        default: { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sentinel core API', version: VERSION },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
  };
}

export function openApiText(): string {
  return `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
}
