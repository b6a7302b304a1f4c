/**
 * A record's target as a person reads it: `camera:<id>` becomes the camera's name when this
 * console knows the camera (the id stays in the tooltip, for a search or a report).
 */
export function targetText(target: string | null, cameraName: (id: string) => string | undefined): string {
  if (!target) return '';
  const m = /^camera:(.+)$/.exec(target);
  const name = m ? cameraName(m[1]!) : undefined;
  return name ? `camera: ${name}` : target;
}
