import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import { createLogger } from '../logger';
import { installErrorHandling, nulAt, refuseNulCharacters } from './errors';

describe('nulAt', () => {
  it('names the first field holding a NUL, in strings, arrays, nested objects and keys', () => {
    expect(nulAt('plain')).toBeNull();
    expect(nulAt('a\u0000b')).toBe('');
    expect(nulAt({ id: 'x', name: 'y\u0000' })).toBe('name');
    expect(nulAt({ a: { b: ['ok', 'n\u0000'] } })).toBe('a.b[1]');
    expect(nulAt({ ['k\u0000']: 1 })).toBe('k\u0000');
    expect(nulAt({ n: 1, t: true, z: null })).toBeNull();
    expect(nulAt([{ a: 'x' }, { b: ['y', { c: '\u0000' }] }])).toBe('[1].b[1].c');
    // Deeper than the stack would allow a recursive walk (a JSON body may nest so).
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(nulAt(deep)).toBe('[0]'.repeat(200_000));
    // An upload is bytes: a zero byte in it is data.
    expect(nulAt(Buffer.from([0, 1, 2]))).toBeNull();
  });
});

/** A route reading its id from the database, as the core's routes do, behind the core's request guards. */
async function app(db: SqlDb): Promise<FastifyInstance> {
  const http = Fastify({ logger: false });
  installErrorHandling(http, createLogger('silent'));
  refuseNulCharacters(http);
  const lookup = async (id: string) => {
    const r = await sql<{ id: string }>`SELECT id FROM users WHERE id = ${id}`.execute(db.as());
    if (!r.rows[0]) throw new SentinelError(`no user with id ${id}`, 'not_found', 'id');
    return r.rows[0];
  };
  http.get<{ Params: { id: string } }>('/things/:id', async (req) => lookup(req.params.id));
  http.get<{ Querystring: { id?: string } }>('/things', async (req) => lookup(req.query.id ?? ''));
  http.post<{ Body: { id: string } }>('/things', async (req) => lookup(req.body.id));
  await http.ready();
  return http;
}

describeOnBothDatabases('a NUL character in a request', (open) => {
  let http: FastifyInstance | undefined;
  afterEach(async () => {
    await http?.close();
  });

  it('is refused with 400 naming the field, never reaching the database (Postgres would refuse the text: a 500)', async () => {
    http = await app(await open());
    const params = await http.inject({ method: 'GET', url: '/things/%00' });
    expect(params.statusCode).toBe(400);
    expect(params.json()).toEqual({ error: { code: 'validation_failed', message: 'params: id contains a NUL character', field: 'id' } });
    expect((await http.inject({ method: 'GET', url: '/things?id=a%00b' })).statusCode).toBe(400);
    const body = await http.inject({ method: 'POST', url: '/things', payload: { id: 'x\u0000' } });
    expect(body.statusCode).toBe(400);
    expect(body.json()).toMatchObject({ error: { field: 'id' } });
  });

  it('leaves every other request alone: an unknown id is a 404 on both databases', async () => {
    http = await app(await open());
    expect((await http.inject({ method: 'GET', url: '/things/no-such-user' })).statusCode).toBe(404);
    expect((await http.inject({ method: 'GET', url: '/things?id=%F0%9F%92%A5' })).statusCode).toBe(404);
    expect((await http.inject({ method: 'POST', url: '/things', payload: { id: "' OR 1=1 --" } })).statusCode).toBe(404);
  });
});
