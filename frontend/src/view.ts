// What the console shows, kept in the URL (after "#") so that a link shares the view.

export type Page = 'map' | 'dashboard' | 'risk' | 'reports' | 'queue' | 'alerts' | 'levels'
  | 'tasks' | 'patrols' | 'log' | 'notifications' | 'directory' | 'requests' | 'operations'
  | 'account' | 'users' | 'network';
export const PAGES: Page[] = ['map', 'dashboard', 'risk', 'reports', 'queue', 'alerts', 'levels',
  'tasks', 'patrols', 'log', 'notifications', 'directory', 'requests', 'operations', 'account', 'users', 'network'];
export type WindowKind = '24h' | '7d' | '30d' | 'custom';

export const FILTER_KEYS = ['category', 'type', 'impact_level', 'status', 'country', 'section',
  'handling'] as const;
export type FilterKey = typeof FILTER_KEYS[number];

export const LAYERS = ['sections', 'crossings', 'events', 'assets', 'health', 'alerts', 'risk'] as const;
export type Layer = typeof LAYERS[number];

export interface View {
  page: Page;
  window: WindowKind;
  since: string | null; // custom window, ISO
  until: string | null;
  filters: Record<FilterKey, string[]>;
  layers: Layer[];
  selected: string | null;
  /** Where the map looks: kept as "map=zoom/lat/lon" (as OpenStreetMap links do). */
  map: MapPosition | null;
  /** The border section whose risk card is open (risk page), or the open report (reports). */
  card: string | null;
  /** On the work pages: the item open (an alert, a section, a task, a handover, a request,
   * a joint operation); on the map, the operation shown. */
  item: string | null;
  /** On the task page: what a new task is for ("event:<id>", "section:<id>", "point:lon,lat"). */
  for: string | null;
}

export interface MapPosition { lon: number; lat: number; zoom: number }

/** "4.20/41.50000/66.50000" → a position; null when malformed or out of range. */
export function parseMapPosition(text: string | null): MapPosition | null {
  const m = /^(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(text ?? '');
  if (!m) return null;
  const [zoom, lat, lon] = m.slice(1).map(Number);
  if (zoom < 0 || zoom > 24 || Math.abs(lat) > 85 || Math.abs(lon) > 180) return null;
  return { lon, lat, zoom };
}

/** A position rounded as the URL keeps it (about a metre; a hundredth of a zoom level). */
export function roundPosition(p: MapPosition): MapPosition {
  return { lon: Math.round(p.lon * 1e5) / 1e5, lat: Math.round(p.lat * 1e5) / 1e5, zoom: Math.round(p.zoom * 100) / 100 };
}

export const mapPositionText = (p: MapPosition) => `${p.zoom.toFixed(2)}/${p.lat.toFixed(5)}/${p.lon.toFixed(5)}`;

const HOURS: Record<Exclude<WindowKind, 'custom'>, number> = { '24h': 24, '7d': 168, '30d': 720 };

export function emptyFilters(): Record<FilterKey, string[]> {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, []])) as unknown as Record<FilterKey, string[]>;
}

export function parseView(hash: string): View {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  const q = new URLSearchParams(query);
  const list = (k: string) => (q.get(k) || '').split(',').map((s) => s.trim()).filter(Boolean);
  const w = q.get('w') as WindowKind | null;
  const filters = emptyFilters();
  for (const k of FILTER_KEYS) filters[k] = list(k);
  const layers = q.has('layers') ? list('layers').filter((l): l is Layer => (LAYERS as readonly string[]).includes(l))
    : ['sections', 'crossings', 'events', 'assets', 'alerts'] as Layer[];
  return {
    page: (PAGES as string[]).includes(path) ? path as Page : 'map',
    window: w && ['24h', '7d', '30d', 'custom'].includes(w) ? w : '7d',
    since: q.get('since'), until: q.get('until'),
    filters, layers, selected: q.get('event'), map: parseMapPosition(q.get('map')),
    card: q.get('card'),
    item: q.get('item'), for: q.get('for'),
  };
}

export function viewHash(v: View): string {
  const q = new URLSearchParams();
  q.set('w', v.window);
  if (v.window === 'custom') {
    if (v.since) q.set('since', v.since);
    if (v.until) q.set('until', v.until);
  }
  for (const k of FILTER_KEYS) if (v.filters[k].length) q.set(k, v.filters[k].join(','));
  q.set('layers', v.layers.join(','));
  if (v.selected) q.set('event', v.selected);
  if (v.map) q.set('map', mapPositionText(v.map));
  if (v.card) q.set('card', v.card);
  if (v.item) q.set('item', v.item);
  if (v.for) q.set('for', v.for);
  return `#/${v.page}?${q.toString().replace(/%2C/g, ',').replace(/%2F/g, '/')}`;
}

/** The window as [since, until) in epoch milliseconds; relative windows end now. */
export function windowBounds(v: View, now = Date.now()): [number, number] {
  if (v.window === 'custom') {
    const until = v.until ? Date.parse(v.until) : now;
    const since = v.since ? Date.parse(v.since) : until - 7 * 86400e3;
    return [since, until];
  }
  return [now - HOURS[v.window] * 3600e3, now];
}

/** Whether a window moves with the clock (new events belong in it). */
export const isLive = (v: View) => v.window !== 'custom' || !v.until;

/** Query parameters of GET /api/v1/events for the view's window and filters. */
export function eventQuery(v: View): URLSearchParams {
  const [since, until] = windowBounds(v);
  const q = new URLSearchParams();
  q.set('since', new Date(since).toISOString());
  if (!isLive(v)) q.set('until', new Date(until).toISOString());
  for (const k of FILTER_KEYS) if (v.filters[k].length) q.set(k, v.filters[k].join(','));
  return q;
}

interface Filterable { category: string; type: string; impact_level?: string | null;
  status?: string | null; country?: string | null; section_id?: string | null; handling: string;
  occurred_at: string }

/** The same test the API applies, for events arriving live. */
export function matches(v: View, e: Filterable, now = Date.now()): boolean {
  const [since, until] = windowBounds(v, now);
  const at = Date.parse(e.occurred_at);
  if (at < since || (!isLive(v) && at >= until)) return false;
  const f = v.filters;
  const inList = (values: string[], value: string | null | undefined) =>
    !values.length || (value != null && values.includes(value));
  if (!inList(f.category, e.category) || !inList(f.type, e.type)) return false;
  if (!inList(f.impact_level, e.impact_level) || !inList(f.status, e.status)) return false;
  if (!inList(f.section, e.section_id) || !inList(f.handling, e.handling)) return false;
  if (f.country.length) {
    const sectionCountries = (e.section_id || '').split('-').slice(0, 2);
    if (!f.country.some((c) => c === e.country || sectionCountries.includes(c))) return false;
  }
  return true;
}
