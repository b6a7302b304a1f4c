import sharp from 'sharp';
import type { Zone } from '../../contract/zones';
import { pixelate, rasterisePolygons, type Polygon } from '../redaction/pixelate';
import type { Track } from '../tracking/tracker';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The alert's evidence picture: the analysed frame with the zone outlined, every tracked
 * person boxed, and the people the alert is about in red with their track id. Drawn as an
 * SVG over the frame by sharp (libvips), so no canvas library is needed.
 */
export async function renderSnapshot(
  bgr: Uint8Array,
  width: number,
  height: number,
  tracks: readonly Track[],
  highlight: readonly number[],
  zone: Zone | null,
  /** The camera's privacy masks: pixelated before anything is drawn, so the JPEG never holds them. */
  masks: readonly Polygon[] = [],
): Promise<Buffer> {
  const rgb = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) {
    rgb[i] = bgr[i + 2]!;
    rgb[i + 1] = bgr[i + 1]!;
    rgb[i + 2] = bgr[i]!;
  }
  const raster = rasterisePolygons(masks, width, height);
  if (raster) pixelate(rgb, width, height, raster.rect, 16, raster.mask);
  const hi = new Set(highlight);
  const parts: string[] = [];
  if (zone?.polygon) {
    const pts = zone.polygon.map(([x, y]) => `${(x * width).toFixed(1)},${(y * height).toFixed(1)}`).join(' ');
    parts.push(`<polygon points="${pts}" fill="rgba(255,200,0,0.15)" stroke="#ffc800" stroke-width="2"/>`);
    for (const ex of zone.exclude ?? []) {
      const e = ex.map(([x, y]) => `${(x * width).toFixed(1)},${(y * height).toFixed(1)}`).join(' ');
      parts.push(`<polygon points="${e}" fill="none" stroke="#888" stroke-dasharray="4 3" stroke-width="1.5"/>`);
    }
  }
  for (const t of tracks) {
    const [x1, y1, x2, y2] = t.box;
    const colour = hi.has(t.id) ? '#ff2d2d' : '#2de0ff';
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(y2 - y1).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${hi.has(t.id) ? 3 : 1.5}"/>`,
    );
    parts.push(
      `<text x="${x1.toFixed(1)}" y="${Math.max(10, y1 - 3).toFixed(1)}" font-family="sans-serif" font-size="11" fill="${colour}">${esc(`#${t.id}`)}</text>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality: 80 })
    .toBuffer();
}
