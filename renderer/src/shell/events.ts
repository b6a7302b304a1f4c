/**
 * Console-wide UI events between panels that do not know each other (window CustomEvents).
 * `sentinel:open-camera` { cameraId }: open that camera's detail in the camera panel.
 */
export const OPEN_CAMERA_EVENT = 'sentinel:open-camera';
