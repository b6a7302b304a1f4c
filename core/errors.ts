// SentinelError lives in the leaf module common/ so that analytics/ and tools can use it
// without importing the core.
export { SentinelError } from '../common/errors';
