export {
  canSee,
  inLiaisonScope,
  seesAllCameras,
  CAMERA_RESOURCE_KINDS,
  type Resource,
  type ResourceKind,
  type PlaceScope,
  type Viewer,
  type CameraResourceKind,
} from './visibility';
export { CameraScopes } from './camera-scope';
export { ROUTE_RULES, type RouteRule } from './route-rules';
export { visibilityGate, ruleFor, routesWithoutRule } from './gate';
export { CAMERAS_ALL_ROOM, CAMERAS_SCOPED_ROOM, cameraRoomFor, scopedViewers, socketSees } from './sockets';
