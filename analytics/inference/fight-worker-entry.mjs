// Fight classifier worker bootstrap: tsx's loader in this thread, then the TypeScript worker
// (see worker-entry.mjs for why it is done here).
import { register } from 'tsx/esm/api';

register();
await import('./fight-thread.ts');
