// The one contract between the core and every client (renderer, Electron, tests).
// It must run anywhere: no `node:*`, no DOM, no Electron (enforced by eslint).
export * from './alert-routes';
export * from './alerts';
export * from './api';
export * from './audit';
export * from './cluster';
export * from './nodes';
export * from './auth';
export * from './cameras';
export * from './errors';
export * from './events';
export * from './evidence';
export * from './health';
export * from './incidents';
export * from './models';
export * from './shell';
export * from './technician';
export * from './vehicles';
export * from './zones';
export * from './review';
export * from './sms';
export * from './sso';
export * from './statistics';
export * from './keys';
export * from './wall';
