import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** A feature the map has drawn: its properties and where it is on the page (and on the map). */
export interface RenderedFeature {
  id: string;
  properties: Record<string, unknown>;
  lon: number;
  lat: number;
  x: number;
  y: number;
}

/**
 * The live map workspace as a test sees it. Rendered features are found through the map's
 * handle (window.sentinelMap), as an operator's eye would find them, without reaching into
 * React; clicks go through the real mouse at the feature's pixel.
 */
export class MapPage {
  readonly canvas: Locator;
  readonly details: Locator;

  constructor(readonly page: Page) {
    this.canvas = page.getByTestId('map');
    this.details = page.getByTestId('vehicle-details');
  }

  async waitReady(timeout = 30_000): Promise<void> {
    await expect.poll(() => this.canvas.getAttribute('data-ready'), { timeout }).toBe('true');
  }

  /**
   * Features drawn on the given layers. With `inset`, only those clear of the floating
   * panels (filters top left, controls right), so that a click at their pixel hits the map.
   */
  rendered(layers: string[], inset = false): Promise<RenderedFeature[]> {
    return this.page.evaluate(
      ({ layerIds, inset }) => {
        type Handle = {
          map: {
            getLayer(id: string): unknown;
            queryRenderedFeatures(opts: {
              layers: string[];
            }): Array<{ properties: Record<string, unknown>; geometry: { type: string; coordinates: [number, number] } }>;
            project(ll: [number, number]): { x: number; y: number };
            getCanvas(): { getBoundingClientRect(): { left: number; top: number; width: number; height: number } };
          };
        };
        const h = (globalThis as unknown as { sentinelMap?: Handle }).sentinelMap;
        if (!h || layerIds.some((l) => !h.map.getLayer(l))) return [];
        const rect = h.map.getCanvas().getBoundingClientRect();
        return h.map
          .queryRenderedFeatures({ layers: layerIds })
          .filter((f) => f.geometry.type === 'Point')
          .map((f) => {
            const p = h.map.project(f.geometry.coordinates);
            return {
              id: String(f.properties.id),
              properties: f.properties,
              lon: f.geometry.coordinates[0],
              lat: f.geometry.coordinates[1],
              x: rect.left + p.x,
              y: rect.top + p.y,
            };
          })
          .filter(
            (r) =>
              !inset ||
              (r.x > rect.left + 320 && r.x < rect.left + rect.width - 60 && r.y > rect.top + 60 && r.y < rect.top + rect.height - 30),
          );
      },
      { layerIds: layers, inset },
    );
  }

  jumpTo(center: [number, number], zoom: number): Promise<void> {
    return this.page.evaluate(
      ({ center, zoom }) => {
        const h = (globalThis as unknown as { sentinelMap: { map: { jumpTo(o: { center: [number, number]; zoom: number }): void } } })
          .sentinelMap;
        h.map.jumpTo({ center, zoom });
      },
      { center, zoom },
    );
  }

  /** The map's centre in page pixels. */
  centre(): Promise<{ x: number; y: number }> {
    return this.page.evaluate(() => {
      const h = (
        globalThis as unknown as {
          sentinelMap: { map: { getCanvas(): { getBoundingClientRect(): { left: number; top: number; width: number; height: number } } } };
        }
      ).sentinelMap;
      const r = h.map.getCanvas().getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
  }

  /** Where the map's alert source puts the first alert of a kind ([lon, lat] to 0.01°), or null when it has none. */
  alertPoint(kind: string): Promise<[number, number] | null> {
    return this.page.evaluate((k) => {
      type Fc = { features: Array<{ properties: { kind?: string }; geometry: { coordinates: [number, number] } }> };
      type H = { map: { getSource(id: string): { serialize(): { data: Fc } } | undefined } };
      const h = (globalThis as unknown as { sentinelMap?: H }).sentinelMap;
      const f = h?.map
        .getSource('alerts')
        ?.serialize()
        .data.features.find((x) => x.properties.kind === k);
      return f ? (f.geometry.coordinates.map((n) => Math.round(n * 100) / 100) as [number, number]) : null;
    }, kind);
  }

  /** The fleet's live position of a vehicle (what the console received), or null. */
  vehicle(id: string): Promise<{ lon: number; lat: number } | null> {
    return this.page.evaluate((vid) => {
      const h = (globalThis as unknown as { sentinelMap?: { fleet: { vehicles: Map<string, { lon: number; lat: number }> } } }).sentinelMap;
      const v = h?.fleet.vehicles.get(vid);
      return v ? { lon: v.lon, lat: v.lat } : null;
    }, id);
  }

  /** Distance in degrees from the map's centre to a vehicle (Infinity when it is unknown). */
  offsetFrom(id: string): Promise<number> {
    return this.page.evaluate((vid) => {
      type H = { map: { getCenter(): { lng: number; lat: number } }; fleet: { vehicles: Map<string, { lat: number; lon: number }> } };
      const h = (globalThis as unknown as { sentinelMap: H }).sentinelMap;
      const c = h.map.getCenter();
      const v = h.fleet.vehicles.get(vid);
      return v ? Math.hypot(c.lng - v.lon, c.lat - v.lat) : Infinity;
    }, id);
  }

  /** Distinct values of a property among the features drawn on a layer. */
  renderedValues(layer: string, property: string): Promise<string> {
    return this.page.evaluate(
      ({ layer, property }) => {
        const h = (
          globalThis as unknown as {
            sentinelMap: { map: { queryRenderedFeatures(o: { layers: string[] }): Array<{ properties: Record<string, unknown> }> } };
          }
        ).sentinelMap;
        return [...new Set(h.map.queryRenderedFeatures({ layers: [layer] }).map((f) => String(f.properties[property])))].sort().join(',');
      },
      { layer, property },
    );
  }

  /** Counts updateData / setData calls on the given sources from now on (read with `sourceCalls`). */
  countSourceCalls(sources: string[]): Promise<void> {
    return this.page.evaluate((ids) => {
      type Src = { updateData: (...a: unknown[]) => unknown; setData: (...a: unknown[]) => unknown };
      const h = (globalThis as unknown as { sentinelMap: { map: { getSource(id: string): Src } } }).sentinelMap;
      const counts = { updateData: 0, setData: 0 };
      (globalThis as unknown as { __counts: typeof counts }).__counts = counts;
      for (const id of ids) {
        const s = h.map.getSource(id);
        const u = s.updateData.bind(s);
        const d = s.setData.bind(s);
        s.updateData = (...a: unknown[]) => ((counts.updateData += 1), u(...a));
        s.setData = (...a: unknown[]) => ((counts.setData += 1), d(...a));
      }
    }, sources);
  }

  sourceCalls(): Promise<{ updateData: number; setData: number }> {
    return this.page.evaluate(() => (globalThis as unknown as { __counts: { updateData: number; setData: number } }).__counts);
  }

  /**
   * Resolves once the basemap sources are loaded and two more frames have been drawn, so a
   * screenshot shows a settled map rather than one mid-render. (Not map.loaded(): the live
   * fleet updates its sources every second, so the map as a whole is rarely "loaded".)
   */
  async settled(): Promise<void> {
    await expect
      .poll(
        () =>
          this.page.evaluate(() => {
            const h = (globalThis as unknown as { sentinelMap?: { map: { isSourceLoaded(id: string): boolean } } }).sentinelMap;
            return h ? ['areas', 'districts', 'rail', 'stations'].every((id) => h.map.isSourceLoaded(id)) : false;
          }),
        { timeout: 10_000 },
      )
      .toBe(true);
    await this.page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
  }

  /** The first feed's status chip in the map's corner ("Demo fleet: 1600 vehicles"). */
  get feedStatus(): Locator {
    return this.page.getByTestId('feed-status').first();
  }

  /** A line of the vehicle panel: its title, destination or delay. */
  vehicleField(field: 'title' | 'destination' | 'delay'): Locator {
    return this.page.getByTestId(`vehicle-${field}`);
  }

  /** Shows one rail line's trains only. */
  async filterLine(line: string): Promise<void> {
    await this.page.getByTestId('filter-line').selectOption(line);
  }

  /** The vehicle panel's list of open alerts, and of cameras. */
  get vehicleAlerts(): Locator {
    return this.details.getByTestId('vehicle-alerts').locator('li');
  }

  get vehicleCameras(): Locator {
    return this.details.getByTestId('vehicle-cameras').locator('li');
  }

  get followButton(): Locator {
    return this.page.getByTestId('follow-vehicle');
  }
}
