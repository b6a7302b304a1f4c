import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/serve';

// The layer rules are only worth having if they fire: lint a line that breaks each one as if
// it were written in that layer's folder, with the project's real eslint config.
// The imaginary files are in no tsconfig, so the core's one type-aware rule (no-floating-promises)
// is switched off for them: it needs a program, and it is not what is tested here.
const eslint = new ESLint({
  cwd: REPO_ROOT,
  overrideConfig: [
    {
      files: ['core/**/*.ts'],
      languageOptions: { parserOptions: { projectService: false } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  ],
});
const RULES = new Set(['sentinel/allowed-imports', 'no-restricted-globals', 'no-restricted-properties']);

async function messages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId !== null && RULES.has(m.ruleId)).map((m) => m.message);
}

describe('layer boundaries by allowlist (eslint)', () => {
  it('the core never imports Electron, browser libraries, the DOM or an unlisted package', async () => {
    expect((await messages('core/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).join()).toMatch(
      /"electron" is not on the allowlist of core\//,
    );
    expect((await messages('core/x.ts', "import maplibre from 'maplibre-gl';\nexport const m = maplibre;\n")).join()).toMatch(
      /allowlist of core\//,
    );
    expect((await messages('core/x.ts', "import leftPad from 'left-pad';\nexport const l = leftPad;\n")).join()).toMatch(
      /add it to that layer's packages in eslint\.config\.js/,
    );
    expect(await messages('core/x.ts', 'export const t = document.title;\n')).toHaveLength(1);
    expect((await messages('core/x.ts', "import { App } from '../renderer/src/App';\nexport const a = App;\n")).join()).toMatch(
      /core\/ may not import renderer/,
    );
  });

  it('analytics imports nothing from the core', async () => {
    for (const target of ['../core/errors', '../core/logger', '../core/version', '../core/db/database']) {
      expect((await messages('analytics/x.ts', `import { a } from '${target}';\nexport const b = a;\n`)).join(), target).toMatch(
        /analytics\/ may not import core\//,
      );
    }
    expect(
      await messages('analytics/x.ts', "import { SentinelError } from '../common/errors';\nexport const e = SentinelError;\n"),
    ).toEqual([]);
  });

  it('the renderer never imports node:*, Electron, core code or an unlisted package', async () => {
    expect(
      (await messages('renderer/src/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).join(),
    ).toMatch(/renderer\/ runs outside Node/);
    expect(await messages('renderer/src/x.ts', "import fs from 'fs';\nexport const r = fs;\n")).toHaveLength(1);
    expect(await messages('renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const r = ipcRenderer;\n")).toHaveLength(1);
    expect(await messages('renderer/src/x.ts', "import { startCore } from '../../core/app';\nexport const r = startCore;\n")).toHaveLength(
      1,
    );
    expect(await messages('renderer/src/x.ts', "import _ from 'lodash';\nexport const l = _;\n")).toHaveLength(1);
  });

  it('the contract is pure: no Node built-in, no package but zod, no process', async () => {
    expect((await messages('contract/x.ts', "import { join } from 'node:path';\nexport const j = join;\n")).length).toBeGreaterThan(0);
    expect((await messages('contract/x.ts', "import { gzipSync } from 'zlib';\nexport const g = gzipSync;\n")).join()).toMatch(
      /"zlib" is not allowed/,
    );
    expect((await messages('contract/x.ts', "import { request } from 'https';\nexport const r = request;\n")).join()).toMatch(
      /"https" is not allowed/,
    );
    expect((await messages('contract/x.ts', "import { pino } from 'pino';\nexport const p = pino;\n")).join()).toMatch(
      /"pino" is not on the allowlist of contract\//,
    );
    expect(await messages('contract/x.ts', 'export const p = process.env;\n')).toHaveLength(1);
  });

  it('common/ is a pure leaf; common/node/ is its Node half', async () => {
    expect((await messages('common/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).join()).toMatch(
      /common\/ runs outside Node/,
    );
    expect((await messages('common/x.ts', "import { pino } from 'pino';\nexport const p = pino;\n")).join()).toMatch(
      /for `import type` only/,
    );
    expect((await messages('common/x.ts', "import { startCore } from '../core/app';\nexport const s = startCore;\n")).join()).toMatch(
      /common\/ may not import core/,
    );
    expect((await messages('common/x.ts', "import { ROOT_DIR } from './node/paths';\nexport const r = ROOT_DIR;\n")).join()).toMatch(
      /may not import common\/node/,
    );
    expect(await messages('common/x.ts', "import type { Logger } from 'pino';\nexport type L = Logger;\n")).toEqual([]);
    expect(await messages('common/node/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).toEqual([]);
  });

  it('Electron never imports core code', async () => {
    expect(await messages('electron/x.cts', "import { startCore } from '../core/app';\nexport const s = startCore;\n")).toHaveLength(1);
  });

  it('allowed imports stay allowed', async () => {
    expect(await messages('core/x.ts', "import { join } from 'node:path';\nexport const j = join;\n")).toEqual([]);
    expect(await messages('core/x.ts', "import { parse } from 'csv-parse/sync';\nexport const p = parse;\n")).toEqual([]);
    expect(await messages('renderer/src/x.ts', "import { routes } from '../../contract';\nexport const r = routes;\n")).toEqual([]);
    expect(await messages('contract/x.ts', "import { z } from 'zod';\nexport const s = z.string();\n")).toEqual([]);
    expect(await messages('core/x.test.ts', "import { it } from 'vitest';\nexport const i = it;\n")).toEqual([]);
  });
});
