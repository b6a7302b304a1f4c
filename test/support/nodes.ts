import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT, SENTINEL_BIN } from './serve';
import { WORKER_FLOOR_PATCH } from '../../core/analytics/demo-zones';

export interface RunningNode {
  proc: ChildProcess;
  dataDir: string;
  stderr(): string;
}

/** Starts `sentinel analytics-node` and resolves once it says it is connected. */
export async function startNode(
  core: string,
  token: string,
  dataDir: string,
  assets: string | null,
  /** More environment, e.g. SENTINEL_CONFIG for the node's own models. */
  env: NodeJS.ProcessEnv = {},
): Promise<RunningNode> {
  const proc = spawn(process.execPath, [SENTINEL_BIN, 'analytics-node', '--core', core, '--data-dir', dataDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, SENTINEL_ASSETS: assets ?? '', SENTINEL_NODE_TOKEN: token, SENTINEL_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`analytics-node did not connect within 60 s; stderr:\n${err}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Sentinel analytics node connected')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`analytics-node exited with ${code}; stderr:\n${err}`));
    });
  });
  return { proc, dataDir, stderr: () => err };
}

/** Stops a node in order (SIGTERM: it frees its cameras), killing it after 5 s. */
export const stopNode = (n: RunningNode | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!n || n.proc.exitCode !== null || n.proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => n.proc.kill('SIGKILL'), 5000);
    n.proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    n.proc.kill('SIGTERM');
  });

/**
 * The staff-door area of the worker footage (media/worker-zone-detection.gif) as one operator
 * zone with no cooldown: the worker walks through it once per 4.7 s loop, so a node analysing
 * it raises an alert every loop. Returns the HTTP status of the save.
 */
export async function putStaffDoorZone(
  core: { api(path: string, init?: RequestInit): Promise<Response> },
  cameraId: string,
  id = 'operator',
): Promise<number> {
  const res = await core.api(`/api/v1/cameras/${cameraId}/zones`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      zones: [
        {
          id,
          name: 'Staff door',
          kind: 'operator',
          polygon: WORKER_FLOOR_PATCH,
          rules: { cooldownS: 0 },
        },
      ],
    }),
  });
  return res.status;
}
