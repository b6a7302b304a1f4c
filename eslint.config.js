// Lint rules that keep the layers apart (the Signal Desktop habit): the environment a file
// runs in is visible in its folder, and imports that would break it are errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import sentinel from './tools/eslint/allowed-imports.js';

// What each layer may import. `node`: Node built-ins; `packages`: npm packages (runtime);
// `typePackages`: packages for `import type` only; `layers`: folders relative imports may reach.
// Tests beside the code get the same list plus the test runner.
const LAYERS = [
  { layer: 'contract/', files: ['contract/**/*.ts'], node: false, packages: ['zod'], layers: ['contract'] },
  {
    layer: 'common/',
    files: ['common/**/*.ts'],
    ignores: ['common/node/**'],
    node: false,
    packages: [],
    typePackages: ['pino'],
    layers: ['contract', 'common'],
  },
  {
    layer: 'common/node/',
    files: ['common/node/**/*.ts'],
    node: true,
    packages: ['pino'],
    // better-sqlite3's Database type, for the Migration interface that core and analytics share.
    typePackages: ['better-sqlite3'],
    layers: ['contract', 'common', 'common/node'],
  },
  {
    layer: 'analytics/',
    files: ['analytics/**/*.ts', 'analytics/**/*.mjs'],
    node: true,
    packages: ['zod', 'sharp', 'onnxruntime-node', 'better-sqlite3', 'tsx', 'csv-parse'],
    typePackages: ['pino'],
    layers: ['contract', 'common', 'common/node', 'analytics', 'models'],
  },
  {
    layer: 'core/',
    files: ['core/**/*.ts'],
    node: true,
    packages: [
      'zod',
      'fastify',
      '@fastify/static',
      '@fastify/cookie',
      '@fastify/helmet',
      '@fastify/rate-limit',
      'socket.io',
      '@socket.io/redis-adapter',
      'redis',
      'better-sqlite3',
      // core/db/postgres: the Postgres driver (docs/scale.md).
      'pg',
      'kysely',
      'commander',
      'pino',
      'yazl',
      'yauzl',
      'sharp',
      'gtfs-realtime-bindings',
      'otpauth',
      'openid-client',
      'csv-parse',
      'qrcode',
      'twilio',
      '@observablehq/plot',
      'jsdom',
      'ws',
      '@ffmpeg-installer/linux-x64',
      // core/nodes/agent.ts: an analytics node is the core's client on the /nodes namespace.
      'socket.io-client',
    ],
    // tools/rtsp-sim: `serve --demo` and `sentinel sim` start the camera simulator.
    layers: ['contract', 'common', 'common/node', 'core', 'analytics', 'models', 'tools/rtsp-sim', 'tools/rtsp-js', 'package.json'],
  },
  {
    layer: 'renderer/',
    files: ['renderer/**/*.{ts,tsx}'],
    ignores: ['renderer/vite.config.ts'],
    node: false,
    packages: ['react', 'react-dom', 'maplibre-gl', 'socket.io-client', 'zod'],
    typePackages: ['geojson'],
    layers: ['contract', 'common', 'renderer'],
  },
  // The Electron shell is thin: it starts the core as a process and never imports its code.
  { layer: 'electron/', files: ['electron/**/*.{ts,cts}'], node: true, packages: ['electron'], layers: ['contract', 'electron'] },
];
const TEST_FILES = ['**/*.test.ts', '**/*.test.tsx'];
// Tests may use the runner and reach the layer's test helpers in core/db (migrations) and test/support.
const TEST_EXTRA = {
  packages: ['vitest', 'pino', 'better-sqlite3', 'socket.io-client', 'playwright-core'],
  layers: ['core/db', 'test/support', 'tools'],
};

function layerConfigs() {
  return LAYERS.flatMap(({ files, ignores, ...opt }) => [
    { files, ignores: [...(ignores ?? []), ...TEST_FILES], plugins: { sentinel }, rules: { 'sentinel/allowed-imports': ['error', opt] } },
    {
      files: files.map((f) => f.replace(/\*\.\{?[a-z,]+\}?$/, '*.test.{ts,tsx}')),
      plugins: { sentinel },
      rules: {
        'sentinel/allowed-imports': [
          'error',
          { ...opt, packages: [...opt.packages, ...TEST_EXTRA.packages], layers: [...opt.layers, ...TEST_EXTRA.layers] },
        ],
      },
    },
  ]);
}

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
  // Repositories are async (Kysely, either database): a call whose promise nobody awaits
  // would let a route answer before its write, or lose the write's error. Type-aware, so
  // only on the core's own code, where the repositories and their callers live.
  {
    files: ['core/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-console': 'off', '@typescript-eslint/consistent-type-imports': 'off' },
  },
  // Layering by allowlist: each top-level folder says which environment it runs in and which
  // packages and folders it may import; anything else fails lint with a message naming the
  // list to extend. Proven by test/integration/layers.test.ts.
  ...layerConfigs(),
  {
    files: ['contract/**/*.ts', 'common/**/*.ts'],
    ignores: ['common/node/**'],
    rules: { 'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer'] },
  },
  {
    files: ['core/**/*.ts', 'analytics/**/*.ts', 'common/node/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage'] },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['electron/**/*.{ts,cts}'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.test.ts', '**/*.test.tsx', 'test/**/*.ts', 'bench/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // End-to-end tests wait on conditions (expect.poll, locators), never on time: a fixed
    // sleep is either too short on a loaded machine or wasted on an idle one.
    files: ['test/e2e/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { property: 'waitForTimeout', message: 'wait on a condition (expect.poll, a locator) instead of a fixed time' },
      ],
    },
  },
);
