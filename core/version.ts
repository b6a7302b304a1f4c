// Install paths and the version live in common/node/ so analytics/ can find models without
// importing the core.
export { ROOT_DIR, VERSION } from '../common/node/paths';
