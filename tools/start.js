#!/usr/bin/env node
// `npm start`: the desktop console. Runs Electron when its binary is installed; otherwise
// (a machine without internet cannot download it) says so in one line and serves the same
// console to a browser at a printed URL. Both start the core with demo cameras and feeds
// unless `-- --no-demo` is given; other arguments pass through to `sentinel serve`.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const demo = !args.includes('--no-demo');
const passThrough = args.filter((a) => a !== '--no-demo');

function electronBinary() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const pkg = join(root, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const bin = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

function run(cmd, cmdArgs, env = process.env) {
  const child = spawn(cmd, cmdArgs, { stdio: 'inherit', cwd: root, env });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

// The assets pack (models, footage, map data) is third-party and not in the repository:
// without it the demo has no cameras, so say at once how to get it.
function assetsFound() {
  if (process.env.SENTINEL_ASSETS) return existsSync(process.env.SENTINEL_ASSETS);
  const dataHome = process.env.XDG_DATA_HOME || join(process.env.HOME || '', '.local', 'share');
  const dataDir = process.env.SENTINEL_DATA_DIR || join(dataHome, 'sentinel');
  return [join(root, '..', 'shared', 'assets'), join(dataDir, 'assets')].some((d) => existsSync(d));
}
if (!assetsFound()) {
  console.log(
    'No assets pack found (models, footage, map data): get it with `npx sentinel assets fetch`, or point SENTINEL_ASSETS at a copy.',
  );
}

const electron = electronBinary();
if (electron && existsSync(join(root, 'dist', 'electron', 'main.cjs'))) {
  run(electron, [root, ...passThrough], { ...process.env, SENTINEL_DEMO: demo ? '1' : '0' });
} else {
  console.log(
    'Electron is not installed on this machine (its binary cannot be downloaded offline); serving the console to your browser instead.',
  );
  run(process.execPath, [join(root, 'bin', 'sentinel.js'), 'serve', ...(demo ? ['--demo'] : []), ...passThrough]);
}
