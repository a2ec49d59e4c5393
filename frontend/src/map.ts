// The map: MapLibre GL with a style made only of our own GeoJSON (no tiles, no glyphs).
// Text on the map (country names, cluster counts) is drawn as HTML markers instead of
// glyph-based symbol layers, so nothing is ever fetched from a font server.
import * as maplibregl from 'maplibre-gl';
import type { GeoJSONSource, LngLatLike, MapMouseEvent, StyleSpecification } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { t } from './i18n';
import baseStyle from './style.json';
import type { Layer, MapPosition } from './view';

maplibregl.setWorkerUrl(workerUrl);

type FC = GeoJSON.FeatureCollection;
const empty = (): FC => ({ type: 'FeatureCollection', features: [] });

const LAYER_IDS: Record<Layer, string[]> = {
  sections: ['sections'],
  crossings: ['crossings'],
  events: ['event-clusters', 'event-points', 'fresh', 'bins'],
  assets: ['assets', 'tracks'],
  health: ['health'],
  alerts: ['alerts'],
  risk: ['risk'],
};

export interface MapHandlers {
  select(key: number): void;
  pick(lon: number, lat: number): void;
  /** After every move: the bounds, where the map looks, and whether reveal() moved it. */
  moved(bounds: [number, number, number, number], position: MapPosition, byReveal: boolean): void;
  hoverSection(id: string | null): void;
  /** A click on a border section: open its risk card. */
  openSection(id: string): void;
}

export class SituationMap {
  readonly map: maplibregl.Map;
  /** Cluster count labels by cluster id, count and place (ids are reused when points move). */
  private clusterMarkers = new Map<string, maplibregl.Marker>();
  private countryMarkers: maplibregl.Marker[] = [];
  private hovered: string | number | null = null;
  private popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, className: 'map-tip' });
  picking = false;
  /** The style is loaded: sources can take data. */
  loaded = false;
  ready: Promise<void>;
  private eventsUpdate: Promise<void> = Promise.resolve();
  private pointsShown = new Map<string, string>();

  constructor(container: HTMLElement, private handlers: MapHandlers, start: MapPosition | null = null) {
    this.map = new maplibregl.Map({
      container,
      style: baseStyle as unknown as StyleSpecification,
      center: start ? [start.lon, start.lat] : [66.5, 41.5],
      zoom: start?.zoom ?? 4.2,
      minZoom: 2.5,
      maxZoom: 14,
      attributionControl: false,
      // Nothing to fetch for CJK glyphs either.
      localIdeographFontFamily: 'sans-serif',
      // MapLibre's own words (the canvas's label, the zoom buttons, the scale) in the
      // console's language; the console re-creates the map when the language changes.
      locale: {
        'Map.Title': t('map'),
        'NavigationControl.ZoomIn': t('map_ui.zoom_in'),
        'NavigationControl.ZoomOut': t('map_ui.zoom_out'),
        'Popup.Close': t('map_ui.close_popup'),
        'ScaleControl.Kilometers': t('map_ui.km'),
        'ScaleControl.Meters': t('map_ui.m'),
      },
    });
    // For tests and benchmarks driving the page: the map, as MapLibre exposes it.
    (window as unknown as { sitcenMap: maplibregl.Map }).sitcenMap = this.map;
    // Bottom left: the event panel covers the map's right side while it is open.
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-left');
    this.map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
    this.ready = new Promise((resolve) => this.map.on('load', () => { this.loaded = true; resolve(); }));
    this.map.on('click', 'event-points', (e) => {
      const key = e.features?.[0]?.properties?.k;
      if (typeof key === 'number' && !this.picking) handlers.select(key);
    });
    this.map.on('click', 'event-clusters', (e) => this.expandCluster(e));
    this.map.on('click', 'sections', (e) => {
      const id = e.features?.[0]?.id;
      // A point on the section is opened instead (its own handler).
      const onPoint = this.map.queryRenderedFeatures(e.point, { layers: ['event-points', 'event-clusters', 'bins'].filter((l) => this.map.getLayer(l)) }).length > 0;
      if (id != null && !this.picking && !onPoint) handlers.openSection(String(id));
    });
    this.map.on('click', (e) => {
      if (this.picking) handlers.pick(round(e.lngLat.lng), round(e.lngLat.lat));
    });
    for (const layer of ['event-points', 'event-clusters', 'crossings', 'assets', 'health', 'sections', 'alerts']) {
      this.map.on('mouseenter', layer, () => { this.map.getCanvas().style.cursor = this.picking ? 'crosshair' : 'pointer'; });
      this.map.on('mouseleave', layer, () => { this.map.getCanvas().style.cursor = this.picking ? 'crosshair' : ''; });
    }
    this.map.on('mousemove', 'sections', (e) => this.hoverSection(e));
    this.map.on('mouseleave', 'sections', () => this.hoverSection(null));
    this.map.on('mousemove', 'crossings', (e) => this.tip(e, (p) => `${p.name}${p.name_ru ? ` / ${p.name_ru}` : ''}`));
    this.map.on('mousemove', 'assets', (e) => this.tip(e, (p) => String(p.tip ?? p.name)));
    this.map.on('mousemove', 'health', (e) => this.tip(e, (p) => String(p.tip)));
    this.map.on('mousemove', 'alerts', (e) => this.tip(e, (p) => `${p.section_id}: ${p.explanation}`));
    this.map.on('mousemove', 'bins', (e) => this.tip(e, (p) => String(p.tip)));
    for (const layer of ['crossings', 'assets', 'health', 'alerts', 'bins']) this.map.on('mouseleave', layer, () => this.popup.remove());
    this.map.on('moveend', (e) => {
      const b = this.map.getBounds();
      const c = this.map.getCenter();
      handlers.moved([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
        { lon: c.lng, lat: c.lat, zoom: this.map.getZoom() }, !!(e as { sitcenReveal?: boolean }).sitcenReveal);
    });
    this.map.on('render', () => this.updateClusterLabels());
  }

  private tip(e: MapMouseEvent & { features?: maplibregl.MapGeoJSONFeature[] }, text: (p: Record<string, unknown>) => string): void {
    const f = e.features?.[0];
    if (!f) return;
    this.popup.setLngLat(e.lngLat).setText(text(f.properties as Record<string, unknown>)).addTo(this.map);
  }

  private hoverSection(e: (MapMouseEvent & { features?: maplibregl.MapGeoJSONFeature[] }) | null): void {
    const f = e?.features?.[0];
    const id = f?.id ?? null;
    if (id === this.hovered) {
      if (e && f) this.popup.setLngLat(e.lngLat);
      return;
    }
    if (this.hovered !== null) this.map.setFeatureState({ source: 'sections', id: this.hovered }, { hover: false });
    this.hovered = id;
    if (id !== null && e && f) {
      this.map.setFeatureState({ source: 'sections', id }, { hover: true });
      const p = f.properties as Record<string, unknown>;
      this.popup.setLngLat(e.lngLat).setText(String(p.tip ?? p.id)).addTo(this.map);
    } else {
      this.popup.remove();
    }
    this.handlers.hoverSection(id === null ? null : String(id));
  }

  private async expandCluster(e: MapMouseEvent & { features?: maplibregl.MapGeoJSONFeature[] }): Promise<void> {
    const f = e.features?.[0];
    if (!f || this.picking) return;
    const source = this.map.getSource('events') as GeoJSONSource;
    const zoom = await source.getClusterExpansionZoom(Number(f.properties?.cluster_id));
    this.map.easeTo({ center: (f.geometry as GeoJSON.Point).coordinates as LngLatLike, zoom });
  }

  /** Counts on clusters as HTML markers, for the clusters in view only. */
  private updateClusterLabels(): void {
    if (!this.map.isSourceLoaded('events') || !this.visible('event-clusters')) {
      if (!this.visible('event-clusters')) this.clearClusterLabels();
      return;
    }
    const seen = new Set<string>();
    for (const f of this.map.querySourceFeatures('events', { filter: ['has', 'point_count'] })) {
      const at = (f.geometry as GeoJSON.Point).coordinates as [number, number];
      const id = `${f.properties?.cluster_id}|${f.properties?.point_count}|${at[0]}|${at[1]}`;
      if (seen.has(id)) continue;
      seen.add(id);
      if (!this.clusterMarkers.has(id)) {
        const el = document.createElement('div');
        el.className = 'cluster-count';
        el.textContent = String(f.properties?.point_count_abbreviated ?? f.properties?.point_count);
        this.clusterMarkers.set(id, new maplibregl.Marker({ element: el }).setLngLat(at).addTo(this.map));
      }
    }
    for (const [id, marker] of this.clusterMarkers) {
      if (!seen.has(id)) { marker.remove(); this.clusterMarkers.delete(id); }
    }
  }

  private clearClusterLabels(): void {
    for (const marker of this.clusterMarkers.values()) marker.remove();
    this.clusterMarkers.clear();
  }

  private visible(layer: string): boolean {
    return this.map.getLayoutProperty(layer, 'visibility') !== 'none';
  }

  setData(source: string, data: FC): void {
    const done = (this.map.getSource(source) as GeoJSONSource | undefined)?.setData(data);
    if (source === 'events') {
      this.clearClusterLabels();
      this.eventsUpdate = done ?? Promise.resolve();
    }
  }

  /** Add or replace some events and take others off, without sending the rest again. */
  updateEvents(add: GeoJSON.Feature[], remove: string[]): void {
    const source = this.map.getSource('events') as GeoJSONSource | undefined;
    if (source) this.eventsUpdate = source.updateData({ add, remove });
  }

  /**
   * Resolves once the last events handed to the map are in its source and drawn: the
   * worker has indexed them and MapLibre is idle (every tile of the view rendered).
   */
  async eventsDrawn(): Promise<void> {
    let pending: Promise<void> | null = null;
    // A newer setData may arrive while the older one is indexed: wait for the latest.
    while (pending !== this.eventsUpdate) {
      pending = this.eventsUpdate;
      await pending.catch(() => {});
    }
    await new Promise<void>((resolve) => {
      this.map.once('idle', () => resolve());
      this.map.triggerRepaint();
    });
  }

  /** Points of a small source (highlights, the selection), sent only when they change. */
  setPoints(source: string, coords: [number, number][]): void {
    const key = JSON.stringify(coords);
    if (this.pointsShown.get(source) === key) return;
    this.pointsShown.set(source, key);
    this.setData(source, points(coords));
  }

  setCountries(data: FC, nameKey: 'name' | 'name_ru'): void {
    this.setData('countries', data);
    for (const m of this.countryMarkers) m.remove();
    this.countryMarkers = data.features.map((f) => {
      const el = document.createElement('div');
      const p = f.properties as Record<string, string>;
      el.className = `country-name${['KZ', 'KG', 'TJ', 'TM', 'UZ'].includes(p.iso2) ? ' own' : ''}`;
      el.textContent = p[nameKey] || p.name;
      return new maplibregl.Marker({ element: el }).setLngLat(labelPoint(f.geometry)).addTo(this.map);
    });
  }

  showLayers(layers: Layer[]): void {
    for (const [layer, ids] of Object.entries(LAYER_IDS)) {
      const on = layers.includes(layer as Layer);
      for (const id of ids) this.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    }
    this.updateClusterLabels();
  }

  setPicking(on: boolean): void {
    this.picking = on;
    this.map.getCanvas().style.cursor = on ? 'crosshair' : '';
    if (!on) this.setData('pick', empty());
  }

  showPick(lon: number, lat: number): void {
    this.setData('pick', points([[lon, lat]]));
  }

  flyTo(lon: number, lat: number): void {
    this.map.easeTo({ center: [lon, lat], zoom: Math.max(this.map.getZoom(), 7) });
  }

  /**
   * Bring a point into sight without changing the zoom: pan only when it lies outside the
   * map or under what covers the map's right side (the event panel, `coveredRight` pixels).
   * The move is marked, so the list can keep its place while the officer goes through it.
   */
  reveal(lon: number, lat: number, coveredRight = 0): void {
    const canvas = this.map.getCanvas();
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    const free = Math.max(80, width - coveredRight);
    const p = this.map.project([lon, lat]);
    const margin = 24;
    if (p.x >= margin && p.x <= free - margin && p.y >= margin && p.y <= height - margin) return;
    // Move the map so that the point lands in the middle of the uncovered part.
    const center = this.map.unproject([width / 2 + (p.x - free / 2), height / 2 + (p.y - height / 2)]);
    this.map.easeTo({ center, duration: 300 }, { sitcenReveal: true });
  }

  /** Look at a position (from a link), unless the map already does. */
  jumpTo(position: MapPosition): void {
    const c = this.map.getCenter();
    if (Math.abs(c.lng - position.lon) < 1e-4 && Math.abs(c.lat - position.lat) < 1e-4
      && Math.abs(this.map.getZoom() - position.zoom) < 0.01) return;
    this.map.jumpTo({ center: [position.lon, position.lat], zoom: position.zoom });
  }
}

const round = (x: number) => Math.round(x * 1e5) / 1e5;

export function points(coords: [number, number][], props: Record<string, unknown>[] = []): FC {
  return {
    type: 'FeatureCollection',
    features: coords.map((c, i) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: props[i] ?? {} })),
  };
}

/** A point inside a country's largest ring, good enough to put its name on. */
function labelPoint(geometry: GeoJSON.Geometry): [number, number] {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates]
    : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  let best: number[][] = [];
  for (const poly of polys) if (poly[0].length > best.length) best = poly[0];
  if (!best.length) return [0, 0];
  let sx = 0; let sy = 0;
  for (const [x, y] of best) { sx += x; sy += y; }
  return [sx / best.length, sy / best.length];
}

/** The middle vertex of a section line (for alerts placed on a section). */
export function midpoint(geometry: GeoJSON.Geometry): [number, number] | null {
  const line = geometry.type === 'LineString' ? geometry.coordinates
    : geometry.type === 'MultiLineString' ? geometry.coordinates[0] : null;
  if (!line || !line.length) return null;
  const p = line[Math.floor(line.length / 2)];
  return [p[0], p[1]];
}
