#!/usr/bin/env node
// The `sentinel` command. The core is TypeScript run through tsx's loader, so the same
// sources serve the CLI, the tests and worker threads with no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../core/cli/main.ts');
