import type { Map as MapLibreMap } from 'maplibre-gl';
import { RAIL_LINE_COLORS, RAIL_LINES } from '../../../contract';

const SIZE = 40; // drawn at pixelRatio 2: 20 css px

/**
 * Vehicle icons drawn once on a canvas: a disc with a pointed nose showing the heading (the
 * layer rotates it with `icon-rotate`). Buses in CTA blue, trains in their line's colour,
 * stale vehicles grey; no image files to fetch.
 */
function drawVehicle(fill: string, train: boolean): ImageData {
  const canvas = document.createElement('canvas');
  canvas.width = SIZE;
  canvas.height = SIZE;
  const g = canvas.getContext('2d');
  if (!g) throw new Error('2D canvas unavailable');
  const c = SIZE / 2;
  const r = train ? 11 : 9;
  g.beginPath();
  g.moveTo(c, 2); // the nose, pointing north before rotation
  g.lineTo(c + r * 0.75, c - r * 0.55);
  g.arc(c, c + 1, r, -Math.PI / 2 + 0.75, -Math.PI / 2 - 0.75 + Math.PI * 2);
  g.lineTo(c, 2);
  g.closePath();
  g.fillStyle = fill;
  g.fill();
  g.lineWidth = 2.5;
  g.strokeStyle = '#ffffff';
  g.stroke();
  if (train) {
    g.fillStyle = '#ffffff';
    g.fillRect(c - 4, c - 2, 8, 6);
  }
  return g.getImageData(0, 0, SIZE, SIZE);
}

export function addVehicleIcons(map: MapLibreMap): void {
  const add = (name: string, img: ImageData): void => {
    if (!map.hasImage(name)) map.addImage(name, img, { pixelRatio: 2 });
  };
  add('vehicle-bus', drawVehicle('#0a84c6', false));
  add('vehicle-stale', drawVehicle('#6b7785', false));
  for (const line of RAIL_LINES) add(`vehicle-train-${line}`, drawVehicle(RAIL_LINE_COLORS[line], true));
}
