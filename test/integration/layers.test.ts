import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/serve';

// The layer rules are only worth having if they fire: lint a line that breaks each one as if
// it were written in that layer's folder, with the project's real eslint config.
const eslint = new ESLint({ cwd: REPO_ROOT });

async function messages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals').map((m) => m.message);
}

describe('layer boundaries (eslint)', () => {
  it('the core never imports Electron or the DOM', async () => {
    expect((await messages('core/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).join()).toMatch(/headless/);
    expect(await messages('core/x.ts', 'export const t = document.title;\n')).toHaveLength(1);
    expect((await messages('analytics/x.ts', "import { App } from '../renderer/src/App';\nexport const a = App;\n")).length).toBeGreaterThan(0);
  });

  it('the renderer never imports node:* or Electron, nor core code', async () => {
    expect((await messages('renderer/src/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).join()).toMatch(/browser/);
    expect((await messages('renderer/src/x.ts', "import fs from 'fs';\nexport const r = fs;\n")).length).toBe(1);
    expect((await messages('renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const r = ipcRenderer;\n")).length).toBe(1);
    expect((await messages('renderer/src/x.ts', "import { startCore } from '../../core/app';\nexport const r = startCore;\n")).length).toBe(1);
  });

  it('the contract runs anywhere', async () => {
    expect((await messages('contract/x.ts', "import { join } from 'node:path';\nexport const j = join;\n")).length).toBeGreaterThan(0);
    expect(await messages('contract/x.ts', 'export const p = process.env;\n')).toHaveLength(1);
  });

  it('allowed imports stay allowed', async () => {
    expect(await messages('core/x.ts', "import { join } from 'node:path';\nexport const j = join;\n")).toEqual([]);
    expect(await messages('renderer/src/x.ts', "import { routes } from '../../contract';\nexport const r = routes;\n")).toEqual([]);
    expect(await messages('contract/x.ts', "import { z } from 'zod';\nexport const s = z.string();\n")).toEqual([]);
  });
});
