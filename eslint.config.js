// Lint rules that keep the layers apart (the Signal Desktop habit): the environment a file
// runs in is visible in its folder, and imports that would break it are errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Bare builtin names go in `paths` (exact module names): as gitignore-style patterns, 'events'
// would also match a local './events' file.
const nodeBuiltinNames = ['fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'http', 'net', 'events', 'stream', 'url', 'util'];
const nodePaths = (message) => nodeBuiltinNames.map((name) => ({ name, message }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'models/**/*.onnx'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-console': 'off', '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    // The contract runs everywhere: in the core, the renderer and Electron.
    files: ['contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodePaths('contract/ must run anywhere: no Node imports'),
          patterns: [{ group: ['node:*', 'electron', 'react', 'react-dom', '**/core/**', '**/renderer/**', '**/analytics/**'], message: 'contract/ must run anywhere: no Node, DOM, Electron or layer imports' }],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer'],
    },
  },
  {
    // The core and analytics are headless Node: never Electron, the DOM, React or the renderer.
    files: ['core/**/*.ts', 'analytics/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron'], message: 'core/ and analytics/ are headless: no Electron import (electron/ starts the core instead)' },
            { group: ['react', 'react-dom', 'maplibre-gl', 'socket.io-client'], message: 'core/ and analytics/ are headless: no browser libraries' },
            { group: ['**/renderer/**', '**/electron/**'], message: 'dependency direction is renderer -> contract <- core -> analytics' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage'],
    },
  },
  {
    files: ['analytics/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'react', 'react-dom', 'maplibre-gl', 'socket.io-client'], message: 'analytics/ is headless Node' },
            { group: ['**/core/app', '**/core/http/**', '**/renderer/**', '**/electron/**'], message: 'analytics/ is used by the core, not the other way round' },
          ],
        },
      ],
    },
  },
  {
    // The renderer runs in Chromium (Electron or a plain browser): no Node, no Electron.
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodePaths('renderer/ runs in a browser: no Node imports'),
          patterns: [
            { group: ['node:*'], message: 'renderer/ runs in a browser: no node:* imports (talk to the core over HTTP/socket.io)' },
            { group: ['electron'], message: 'renderer/ never imports Electron: use window.sentinelShell from the preload' },
            { group: ['**/core/**', '**/analytics/**'], message: 'renderer/ talks to the core only through the contract and the typed client' },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/vite.config.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // The Electron shell is thin: it starts the core as a process and never imports its code.
    files: ['electron/**/*.{ts,cts}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/core/**', '**/analytics/**', '**/renderer/**'], message: 'electron/ starts the core as a process; no business logic here' }] }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.test.ts', '**/*.test.tsx', 'test/**/*.ts', 'bench/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // End-to-end tests wait on conditions (expect.poll, locators), never on time: a fixed
    // sleep is either too short on a loaded machine or wasted on an idle one.
    files: ['test/e2e/**/*.ts'],
    rules: { 'no-restricted-properties': ['error', { property: 'waitForTimeout', message: 'wait on a condition (expect.poll, a locator) instead of a fixed time' }] },
  },
);
