import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AssetProblem, AssetsStatus } from '../contract';

/**
 * What Sentinel reads from the assets directory, and what stops working without each item.
 * The console starts without any of them and shows this list, so an operator knows why
 * the map is blank or a camera says "model unavailable".
 */
const EXPECTED: ReadonlyArray<{ path: string; what: string; impact: string }> = [
  {
    path: 'models/yolox_nano.onnx',
    what: 'YOLOX-nano detector',
    impact: 'person detection (crowding, barrier, fight alerts) is unavailable',
  },
  {
    path: 'models/light_person_detector_192.onnx',
    what: 'light person detector',
    impact: 'the fast person detector and face redaction are unavailable',
  },
  { path: 'models/nanodet_m_416.onnx', what: 'NanoDet-m detector', impact: 'the NanoDet model choice is unavailable' },
  {
    path: 'models/person-reidentification-retail-0288.onnx',
    what: 're-identification model',
    impact: 'tracking falls back to motion only',
  },
  { path: 'media/vtest.avi', what: 'demo footage', impact: 'demo cameras have no video' },
  { path: 'chicago/geo/cta_rail_lines.geojson', what: 'CTA rail lines', impact: 'the map has no rail lines' },
  { path: 'chicago/geo/cta_l_stations.geojson', what: 'CTA L stations', impact: 'the map has no stations' },
  { path: 'chicago/geo/police_districts.geojson', what: 'police districts', impact: 'alerts carry no police district' },
  { path: 'chicago/geo/community_areas.geojson', what: 'community areas', impact: 'alerts carry no community area' },
  { path: 'chicago/geo/cta_bus_route_shapes.geojson', what: 'bus route shapes', impact: 'the map and the demo feed have no bus routes' },
];

export function checkAssets(dir: string | null): AssetsStatus {
  if (!dir) {
    return {
      dir: null,
      ok: false,
      missing: [
        {
          path: '(assets directory)',
          what: 'assets directory',
          impact: 'no models, footage or map data: set SENTINEL_ASSETS or assetsDir in the config',
        },
      ],
    };
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return {
      dir,
      ok: false,
      missing: [{ path: dir, what: 'assets directory', impact: 'the configured directory does not exist: no models, footage or map data' }],
    };
  }
  const missing: AssetProblem[] = EXPECTED.filter((e) => !existsSync(join(dir, e.path))).map((e) => ({ ...e }));
  return { dir, ok: missing.length === 0, missing };
}
