// Worker bootstrap: registers tsx's loader in this worker thread, then runs the TypeScript
// worker. (Node 20 does not apply `execArgv: ['--import', 'tsx']` loader hooks to worker
// threads reliably, and this file works the same under vitest, tsx and `node bin/sentinel.js`.)
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
