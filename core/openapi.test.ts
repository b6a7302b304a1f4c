import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routes } from '../contract';
import { buildOpenApi, openApiText } from './openapi';
import { ROOT_DIR } from './version';

describe('generated API spec', () => {
  it('has every route of the contract', () => {
    const spec = buildOpenApi() as { paths: Record<string, Record<string, unknown>> };
    for (const r of Object.values(routes)) {
      const path = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      expect(spec.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined();
    }
  });

  it('docs/api/openapi.json is current (run `npm run api:spec` after changing the contract)', () => {
    const onDisk = readFileSync(join(ROOT_DIR, 'docs', 'api', 'openapi.json'), 'utf8');
    expect(onDisk).toBe(openApiText());
  });
});
