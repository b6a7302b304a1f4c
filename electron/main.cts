// Electron main process: a thin desktop shell. It starts the Sentinel core as a separate
// process (Electron's utilityProcess, so a crash of the core never takes the window down and
// the core stays the same headless program `sentinel serve` runs), waits for its URL, and
// opens the console there. No business logic lives here.
import { app, BrowserWindow, ipcMain, Notification, screen, shell, utilityProcess, type UtilityProcess } from 'electron';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CORE_BIN = join(ROOT, 'bin', 'sentinel.js');
const CORE_START_TIMEOUT_MS = 30_000;

let core: UtilityProcess | null = null;
let quitting = false;
let mainWindow: BrowserWindow | null = null;

// The same shape as CoreStatus in contract/shell.ts (electron/ compiles alone, to CommonJS).
type CoreStatus = { state: 'running'; url: string } | { state: 'restarting'; attempt: number; inMs: number; reason: string };

function tellWindow(status: CoreStatus): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send('sentinel:core-status', status);
}

/** A remote core (a control-center server) can be used instead of a local one. */
function remoteCoreUrl(): string | null {
  const flag = process.argv.find((a) => a.startsWith('--core-url='));
  return flag ? flag.slice('--core-url='.length) : (process.env.SENTINEL_CORE_URL ?? null);
}

/**
 * Starts the core; `port` 0 picks a free port the first time, and a restart asks for the same
 * port again so the console's socket reconnects by itself (no reload, no lost view).
 */
function startLocalCore(port: number): Promise<string> {
  const dataDir = join(app.getPath('userData'), 'data');
  const child = utilityProcess.fork(CORE_BIN, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
    stdio: 'pipe',
    serviceName: 'Sentinel core',
    env: { ...process.env },
  });
  core = child;
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  return new Promise((resolve, reject) => {
    let out = '';
    let started: string | null = null;
    const timer = setTimeout(
      () => reject(new Error(`the Sentinel core did not start within ${CORE_START_TIMEOUT_MS / 1000} s`)),
      CORE_START_TIMEOUT_MS,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Sentinel console at (\S+)/.exec(out);
      if (m?.[1] && !started) {
        started = m[1];
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (core === child) core = null;
      if (!started) reject(new Error(`the Sentinel core exited with code ${code}`));
      else if (!quitting) superviseRestart(Number(new URL(started).port) || port, `the core stopped (exit code ${code})`);
    });
  });
}

// A core that died is started again with a growing delay (1 s doubling to 30 s): an alert
// console that silently stays dead is worse than one that keeps trying and says so.
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
let restartAttempt = 0;

function superviseRestart(port: number, reason: string): void {
  restartAttempt += 1;
  const inMs = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (restartAttempt - 1));
  process.stderr.write(`sentinel: ${reason}; restarting it in ${inMs / 1000} s (attempt ${restartAttempt})\n`);
  tellWindow({ state: 'restarting', attempt: restartAttempt, inMs, reason });
  setTimeout(() => {
    if (quitting) return;
    startLocalCore(port).then(
      (url) => {
        restartAttempt = 0;
        tellWindow({ state: 'running', url });
        // Same port: the console reconnects by itself. Another port (ours was taken): reload.
        if (mainWindow && !mainWindow.isDestroyed() && new URL(mainWindow.webContents.getURL()).origin !== new URL(url).origin) {
          void mainWindow.loadURL(url);
        }
      },
      (err: Error) => superviseRestart(port, err.message),
    );
  }, inMs);
}

function createWindow(url: string, bounds?: { x: number; y: number; width: number; height: number }): BrowserWindow {
  const origin = new URL(url).origin;
  const win = new BrowserWindow({
    width: 1600,
    height: 960,
    ...bounds,
    backgroundColor: '#0b0f14',
    title: 'Sentinel',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  // The window shows the core's console and nothing else: other origins open in the
  // system browser (https only), never inside the privileged window.
  win.webContents.setWindowOpenHandler(({ url: target }) => {
    if (target.startsWith('https://')) void shell.openExternal(target);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, target) => {
    if (new URL(target).origin !== origin) event.preventDefault();
  });
  void win.loadURL(url);
  return win;
}

ipcMain.handle('sentinel:notify', (_event, payload: unknown) => {
  const p = payload as { title?: unknown; body?: unknown };
  if (typeof p?.title !== 'string' || typeof p.body !== 'string') throw new Error('notify: title and body must be strings');
  if (Notification.isSupported()) new Notification({ title: p.title.slice(0, 200), body: p.body.slice(0, 1000) }).show();
});

let wallWindow: BrowserWindow | null = null;

// The video wall popped out: the same console at ?view=wall, in the default session (so the
// same sign-in cookie), on a display other than the main window's when there is one.
ipcMain.handle('sentinel:open-wall', (event) => {
  if (wallWindow && !wallWindow.isDestroyed()) {
    wallWindow.focus();
    return;
  }
  const origin = new URL(event.sender.getURL()).origin;
  const main = BrowserWindow.fromWebContents(event.sender);
  const here = main ? screen.getDisplayMatching(main.getBounds()) : screen.getPrimaryDisplay();
  const other = screen.getAllDisplays().find((d) => d.id !== here.id);
  wallWindow = createWindow(`${origin}/?view=wall`, other?.workArea);
  if (other) wallWindow.maximize();
  wallWindow.on('closed', () => (wallWindow = null));
});

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.whenReady().then(async () => {
    try {
      const url = remoteCoreUrl() ?? (await startLocalCore(0));
      mainWindow = createWindow(url);
    } catch (err) {
      process.stderr.write(`sentinel: ${(err as Error).message}\n`);
      app.exit(1);
    }
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => {
    quitting = true;
    // Ask the core to shut down cleanly (it stops cameras and ffmpeg); kill it if it hangs.
    if (core) {
      core.postMessage('shutdown');
      const c = core;
      setTimeout(() => c.kill(), 5000).unref();
    }
  });
}
