// Writes docs/api/openapi.json from the contract (`npm run api:spec`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openApiText } from '../core/openapi';
import { ROOT_DIR } from '../core/version';

const file = join(ROOT_DIR, 'docs', 'api', 'openapi.json');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, openApiText());
console.log(`wrote ${file}`);
