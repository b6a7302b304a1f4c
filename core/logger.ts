// The logger factory lives in common/node/ so analytics/ and tools share it with the core.
export { createLogger, type Logger } from '../common/node/logger';
