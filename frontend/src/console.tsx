// The map page: filters and layers, the map, the event list and panel, the report form, live.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, may, optional, type Alert, type Asset, type EventSummary, type SectionRisk, type SensorHealth, type Taxonomy, type User } from './api';
import { currentLanguage, enumLabel, formatNumber, formatShort, formatTime, label, t, zoneLabel } from './i18n';
import { countriesPath, lowBandwidth } from './bandwidth';
import { EventList } from './list';
import { midpoint, points, SituationMap } from './map';
import { ageText, useOnline } from './offline';
import { EventPanel } from './panel';
import { ReportForm } from './report';
import { EventStore, eventFeature, eventFeatures } from './store';
import { SituationStrip } from './strip';
import { WindowSummary } from './summary';
import { TimeField } from './timefield';
import { checkTrack, regionOf, type CheckedTrack } from './tracks';
import { FILTER_KEYS, LAYERS, eventQuery, isLive, roundPosition, windowBounds, type FilterKey, type Layer, type MapPosition, type View, type WindowKind } from './view';

interface Bin { lon: number; lat: number; count: number; by_category: Record<string, number>; by_impact: Record<string, number> }

const samePosition = (a: MapPosition, b: MapPosition) => a.lon === b.lon && a.lat === b.lat && a.zoom === b.zoom;

interface Props {
  user: User;
  view: View;
  taxonomy: Taxonomy | null;
  setView(v: View): void;
  store: EventStore;
  actionsVersion: number;
  assetsVersion: number;
  analysisVersion: number;
  connected: boolean;
}

type Availability = 'loading' | 'ok' | 'unavailable';

/** How much of the map's right side the event panel covers (styles.css: .map-area .panel). */
const PANEL_PX = 400;
/** The map's position goes into the URL this long after it stops moving. */
const POSITION_DEBOUNCE_MS = 400;

/** Filters with few values are chips; the long ones (types) a scrolling list of checkboxes. */
const CHIP_FILTERS: FilterKey[] = ['impact_level', 'status', 'country', 'handling'];

/** Whether a key press belongs to a control (typing, a form, the map's own keys). */
const ownKeys = (target: EventTarget | null) => target instanceof Element
  && !!target.closest('input, textarea, select, [contenteditable="true"], .report-form, .sidebar, .maplibregl-canvas');

/** An asset's tooltip: name, kind, time of the fix, and what was left out of its track. */
function assetTip(a: Asset, checked: CheckedTrack): string {
  const base = `${a.name} · ${t(`asset_kind.${a.kind}`)} · ${formatShort(a.at)}`;
  if (!checked.flags.length) return base;
  const reasons = [...new Set(checked.flags.map((f) => f.reason === 'speed'
    ? t('asset_flag.speed', { speed: formatNumber(Math.max(...checked.flags.map((g) => g.speed ?? 0))) })
    : t(`asset_flag.${f.reason}`)))];
  const last = a.track[a.track.length - 1];
  const latestLeftOut = !!last && checked.flags.some((f) => f.at === last[2] && f.lon === last[0] && f.lat === last[1]);
  return `${base} · ⚠ ${t('asset_flag.left_out', { n: checked.flags.length })}: ${reasons.join('; ')}`
    + (latestLeftOut ? ` (${t('asset_flag.shown_last_good')})` : '');
}

/** After the next frame, once the event loop has nothing queued before us. */
const nextIdleFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** Section levels from GET /api/v1/levels, read leniently (another module owns its shape). */
function levelsFrom(answer: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const items = Array.isArray(answer) ? answer
    : answer && typeof answer === 'object'
      ? ((answer as Record<string, unknown>).levels ?? (answer as Record<string, unknown>).sections) : null;
  if (Array.isArray(items)) {
    for (const it of items as Record<string, unknown>[]) {
      const level = it.level ?? it.confirmed_level ?? it.impact_level;
      if (typeof it.section_id === 'string' && typeof level === 'string') out.set(it.section_id, level);
    }
  } else if (items && typeof items === 'object') {
    for (const [k, v] of Object.entries(items as Record<string, unknown>)) if (typeof v === 'string') out.set(k, v);
  }
  return out;
}

/** Sensor conditions, worst first: the one a sensor's dot on the health layer shows. */
const HEALTH_ORDER = ['silent', 'fault', 'tamper', 'battery_low'];

export function ConsolePage(props: Props) {
  const { user, view, taxonomy, setView, store } = props;
  const mapBox = useRef<HTMLDivElement>(null);
  const mapRef = useRef<SituationMap | null>(null);
  const [mapReady, setMapReady] = useState(false);
  const [bounds, setBounds] = useState<[number, number, number, number] | null>(null);
  const [onlyInView, setOnlyInView] = useState(true);
  const [, setTick] = useState(0);
  const [reporting, setReporting] = useState(false);
  const online = useOnline();
  const [picking, setPicking] = useState(false);
  const [picked, setPicked] = useState<[number, number] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [sections, setSections] = useState<GeoJSON.FeatureCollection | null>(null);
  const [levels, setLevels] = useState<Map<string, string>>(new Map());
  const [risk, setRisk] = useState<SectionRisk[] | null>(null);
  const [riskState, setRiskState] = useState<Availability>('loading');
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [alertState, setAlertState] = useState<Availability>('loading');
  const [assets, setAssets] = useState<Asset[]>([]);
  const [health, setHealth] = useState<SensorHealth[]>([]);
  // The joint operation the map is filtered to (an operation's "show on the map"): its
  // name and the assets it deploys, which the map rings.
  const [deployed, setDeployed] = useState<{ name: string; ids: Set<string> } | null>(null);
  const [playAt, setPlayAt] = useState<number | null>(null);
  const [playing, setPlaying] = useState(false);
  const [showFilters, setShowFilters] = useState(true);
  const [scrollSignal, setScrollSignal] = useState(0);

  // Re-render on store changes (load, live events) and expire highlights.
  useEffect(() => store.subscribe(() => setTick((n) => n + 1)), [store]);
  useEffect(() => {
    const timer = setInterval(() => store.expireFresh(), 500);
    return () => clearInterval(timer);
  }, [store]);

  // The map, once.
  useEffect(() => {
    if (!mapBox.current) return;
    // Once the page is left, the map's last moves (its removal among them) must not write
    // the map's page back into the view: the user has gone elsewhere.
    let left = false;
    const m = new SituationMap(mapBox.current, {
      select: (key) => {
        const id = store.idOfKey(key);
        if (!id) return;
        setViewRef.current({ ...viewRef.current, selected: id });
        // The arrow keys go on from here through the list (not the map's own arrow keys).
        document.getElementById('event-list')?.focus({ preventScroll: true });
      },
      pick: (lon, lat) => { setPicked([lon, lat]); m.showPick(lon, lat); setPicking(false); m.setPicking(false); m.showPick(lon, lat); },
      moved: (b, position, byReveal) => {
        if (left) return;
        // Showing the selected event moves the map but not the list: triage keeps its place.
        if (!byReveal) setBounds(b);
        clearTimeout(positionTimer.current);
        positionTimer.current = setTimeout(() => {
          // Still moving (another move began): its own end writes the position.
          if (left || m.map.isMoving()) return;
          const v = viewRef.current;
          const p = roundPosition(position);
          ownPosition.current = p;
          if (v.map && samePosition(v.map, p)) return;
          setViewRef.current({ ...v, map: p });
        }, POSITION_DEBOUNCE_MS);
      },
      hoverSection: () => {},
      openSection: (id) => setViewRef.current({ ...viewRef.current, page: 'risk', card: id }),
    }, view.map);
    mapRef.current = m;
    m.ready.then(async () => {
      setMapReady(true);
      showEvents();
      // The border sections make the map usable; the country outlines are background and
      // come after them, so that on a poor link they do not share the line with the sections.
      const secs = await get<GeoJSON.FeatureCollection>('sections');
      setSections(secs);
      const b = m.map.getBounds();
      setBounds([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]);
      get<GeoJSON.FeatureCollection>('crossing-points').then((c) => m.setData('crossings', c)).catch(() => {});
      // On a poor link the outlines are simplified to ~2 km: a fifth of the bytes.
      const countries = await get<GeoJSON.FeatureCollection>(countriesPath());
      m.setCountries(countries, currentLanguage() === 'en' ? 'name' : 'name_ru');
    });
    return () => { left = true; clearTimeout(positionTimer.current); m.map.remove(); };
  }, []);
  const positionTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  /** The position the map itself last wrote into the view (not to be jumped back to). */
  const ownPosition = useRef<MapPosition | null>(null);
  const viewRef = useRef(view);
  viewRef.current = view;
  const setViewRef = useRef(setView);
  setViewRef.current = setView;

  // Analysis layers: each may be missing on this node (404) — then it says so.
  useEffect(() => {
    optional<unknown>('levels').then((l) => l && setLevels(levelsFrom(l))).catch(() => {});
    optional<{ sections: SectionRisk[] }>('risk').then((r) => {
      setRisk(r?.sections ?? null);
      setRiskState(r ? 'ok' : 'unavailable');
    }).catch(() => setRiskState('unavailable'));
    optional<{ alerts: Alert[] }>('alerts').then((a) => {
      setAlerts(a?.alerts ?? []);
      setAlertState(a ? 'ok' : 'unavailable');
    }).catch(() => setAlertState('unavailable'));
  }, [props.analysisVersion]);

  useEffect(() => {
    // On a poor link only where each asset is now, without its track.
    get<{ assets: Asset[] }>(lowBandwidth() ? 'assets?track=1' : 'assets').then((a) => setAssets(a.assets)).catch(() => {});
  }, [props.assetsVersion]);

  // Sections coloured by impact level, widened by risk.
  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady || !sections) return;
    const riskBy = new Map((risk ?? []).map((r) => [r.section_id, r]));
    const maxRisk = Math.max(1e-9, ...(risk ?? []).map((r) => r.risk));
    const names = currentLanguage() === 'en' ? 'name' : 'name_ru';
    m.setData('sections', {
      type: 'FeatureCollection',
      features: sections.features.map((f) => {
        const p = f.properties as Record<string, unknown>;
        const id = String(p.id ?? f.id);
        const r = riskBy.get(id);
        const level = levels.get(id) ?? r?.confirmed_level ?? null;
        const tip = `${id} · ${p[names] ?? p.name ?? ''}${level ? ` · ${enumLabel('section_impact_level', level)}` : ''}${r ? ` · ${t('risk')} ${r.risk.toFixed(2)} (#${r.rank})` : ''}`;
        return { ...f, properties: { ...p, id, level, tip, ...(r ? { risk: r.risk / maxRisk } : {}) } };
      }),
    });
  }, [mapReady, sections, levels, risk]);

  // Alerts sit on the middle of their section.
  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady || !sections) return;
    const bySection = new Map(sections.features.map((f) => [String((f.properties as Record<string, unknown>).id ?? f.id), f]));
    const open = alerts.filter((a) => a.status !== 'closed');
    const coords: [number, number][] = [];
    const props: Record<string, unknown>[] = [];
    for (const a of open) {
      const f = bySection.get(a.section_id);
      const c = f && midpoint(f.geometry);
      if (c) { coords.push(c); props.push({ id: a.id, section_id: a.section_id, severity: a.severity, explanation: a.explanation }); }
    }
    m.setData('alerts', points(coords, props));
  }, [mapReady, sections, alerts]);

  // Assets: implausible fixes (0,0, outside the region, impossible speed) are left out of
  // the track and named in the tooltip; the asset stands at its last believable position.
  const region = useMemo(() => regionOf(sections), [sections]);
  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady) return;
    const checked = assets.map((a) => ({ a, c: checkTrack(a, region) })).filter(({ c }) => c.here);
    const inOperation = (a: Asset) => !!deployed && (deployed.ids.has(a.asset_id) || deployed.ids.has(a.id));
    m.setData('assets', points(checked.map(({ c }) => c.here as [number, number]), checked.map(({ a, c }) => ({
      id: a.id, name: a.name, kind: a.kind, flagged: c.flags.length ? 1 : 0, deployed: inOperation(a) ? 1 : 0,
      tip: inOperation(a) ? `${assetTip(a, c)} · ${t('coop.deployed_in', { name: deployed?.name ?? '' })}` : assetTip(a, c),
    }))));
    m.setData('tracks', {
      type: 'FeatureCollection',
      features: [
        ...checked.filter(({ c }) => c.track.length > 1).map(({ a, c }) => ({
          type: 'Feature' as const, properties: { id: a.id, flagged: c.flags.length ? 1 : 0, footprint: 0 },
          geometry: { type: 'LineString' as const, coordinates: c.track },
        })),
        // A drone's footprint: the ground its sensor sees, drawn as the outline of a ring.
        ...checked.filter(({ a }) => (a.footprint?.length ?? 0) > 3).map(({ a }) => ({
          type: 'Feature' as const, properties: { id: a.id, flagged: 0, footprint: 1 },
          geometry: { type: 'LineString' as const, coordinates: a.footprint as [number, number][] },
        })),
      ],
    });
  }, [mapReady, assets, region, deployed]);

  // Sensor health (docs/surveillance.md): each sensor coloured by its worst open condition,
  // looked at again with the assets and every half minute.
  useEffect(() => {
    const load = () => get<{ sensors: SensorHealth[] }>('sensor-health').then((h) => setHealth(h.sensors)).catch(() => {});
    load();
    const timer = window.setInterval(load, 30_000);
    return () => window.clearInterval(timer);
  }, [props.assetsVersion]);
  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady) return;
    const placed = health.filter((s) => s.location && typeof s.location.lon === 'number');
    const worst = (s: SensorHealth) => HEALTH_ORDER.find((c) => s.conditions.includes(c)) ?? 'ok';
    m.setData('health', points(placed.map((s) => [s.location!.lon, s.location!.lat] as [number, number]), placed.map((s) => ({
      condition: worst(s), tip: `${s.name ?? s.sensor_id}: ${(s.conditions.length ? s.conditions : ['ok']).map((c) => t(`health.${c}`)).join(', ')}`,
    }))));
  }, [mapReady, health]);

  // Filtered to a joint operation: which of the assets on the map it deploys.
  useEffect(() => {
    if (!view.item || view.page !== 'map') { setDeployed(null); return; }
    get<{ body: { name: string; resources: { id: string; kind: string }[] } }>(`operations/${view.item}`)
      .then((op) => setDeployed({ name: op.body.name,
        ids: new Set(op.body.resources.filter((r) => r.kind === 'asset').map((r) => r.id)) }))
      .catch(() => setDeployed(null));  // not an operation: nothing is ringed
  }, [view.item, view.page]);
  const deployedHere = deployed ? assets.filter((a) => deployed.ids.has(a.asset_id) || deployed.ids.has(a.id)).length : 0;

  useEffect(() => { if (mapReady) mapRef.current?.showLayers(view.layers); }, [mapReady, view.layers.join(',')]);

  // A link opened in this tab (hashchange) may look elsewhere: go there. Not back to where
  // the map itself said it was, though: it may have moved on since.
  useEffect(() => {
    if (!mapReady || !view.map) return;
    if (ownPosition.current && samePosition(ownPosition.current, view.map)) return;
    mapRef.current?.jumpTo(view.map);
  }, [mapReady, view.map?.lon, view.map?.lat, view.map?.zoom]);

  // Events on the map (up to the playback time when replaying): all of them after a load,
  // then only what changed, once per flush of the live stream.
  const events = store.sorted;
  const playAtRef = useRef(playAt);
  playAtRef.current = playAt;
  const mapShows = useRef('');
  const showEvents = () => {
    const m = mapRef.current;
    if (!m || !m.loaded) return;
    // Called from several places, sometimes late: send the points only once per change.
    const shows = `${store.revision}|${playAtRef.current}`;
    if (shows === mapShows.current) return;
    mapShows.current = shows;
    // A truncated window is drawn as bins (below), never as some of its points.
    m.setData('events', store.truncated ? points([]) : eventFeatures(store.sorted, store, playAtRef.current));
  };
  useEffect(() => store.onLoad(showEvents), [store]);
  useEffect(showEvents, [mapReady, store.revision, playAt]);
  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady) return;
    return store.onLive(({ changed, removed }) => {
      // While replaying, the map shows the past; it takes everything again when that ends.
      if (playAtRef.current !== null) return;
      m.updateEvents(changed.filter((e) => e.lon !== null && e.lat !== null).map((e) => eventFeature(e, store)), removed);
      // For tests and benchmarks/ui.py: when the map has drawn live changes, and how many
      // flushes (list and map updates) they took.
      const live = { events: store.sorted.length, flushes: store.flushes };
      m.eventsDrawn().then(() => {
        (window as unknown as { sitcenLive: unknown }).sitcenLive = { ...live, at: performance.now(), wall: Date.now() };
      });
    });
  }, [mapReady, store]);

  // A window with more events than the browser should draw is counted on the node, per grid
  // cell fitted to the zoom, instead of showing some of them: no section's activity hides.
  const [binned, setBinned] = useState<{ count: number; size_deg: number; bins: Bin[] } | null>(null);
  const [zoomStep, setZoomStep] = useState(0);
  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady) return;
    const onZoom = () => setZoomStep(Math.floor(m.map.getZoom()));
    m.map.on('zoomend', onZoom);
    onZoom();
    return () => { m.map.off('zoomend', onZoom); };
  }, [mapReady]);
  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady) return;
    if (!store.truncated || store.loading) {
      setBinned(null);
      m.setData('bins', points([]));
      return;
    }
    let live = true;
    const q = eventQuery(viewRef.current);
    q.set('zoom', String(zoomStep));
    get<{ count: number; size_deg: number; bins: Bin[] }>(`situation/bins?${q}`).then((answer) => {
      if (!live) return;
      setBinned(answer);
      (window as unknown as { sitcenBins: unknown }).sitcenBins = answer;
      m.setData('events', points([]));
      m.setData('bins', points(answer.bins.map((b) => [b.lon, b.lat]), answer.bins.map((b) => ({
        count: b.count,
        tip: `${formatNumber(b.count)} · ${Object.entries(b.by_category).map(([c, n]) => `${label(`category.${c}`, c)} ${n}`).join(', ')}`
          + ` · ${Object.entries(b.by_impact).map(([l, n]) => `${l === 'unknown' ? '—' : enumLabel('impact_level', l)} ${n}`).join(', ')}`,
      }))));
    }).catch(() => {});
    return () => { live = false; };
  }, [mapReady, store.revision, store.truncated, store.loading, zoomStep]);

  // Ready: the window's events are loaded, handed to the map and drawn, and the page
  // answers input again (a frame went by and the event loop is free). Published as
  // window.sitcenReady and #map[data-events] for tests and benchmarks/ui.py.
  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady || !sections || store.loading) return;
    let live = true;
    m.eventsDrawn().then(nextIdleFrame).then(() => {
      if (!live) return;
      const ready = { at: performance.now(), events: store.sorted.length, revision: store.revision };
      (window as unknown as { sitcenReady: typeof ready }).sitcenReady = ready;
      mapBox.current?.setAttribute('data-events', String(ready.events));
    });
    return () => { live = false; };
  }, [mapReady, sections, store.loading, store.revision]);

  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady) return;
    const now = Date.now();
    const fresh = [...store.fresh].filter(([, until]) => until > now).map(([id]) => store.byId.get(id))
      .filter((e): e is EventSummary => !!e && e.lon !== null && e.lat !== null);
    m.setPoints('fresh', fresh.map((e) => [e.lon as number, e.lat as number]));
    const sel = view.selected ? store.byId.get(view.selected) : null;
    m.setPoints('selected', sel && sel.lon !== null && sel.lat !== null ? [[sel.lon, sel.lat]] : []);
  });

  // Playback: step through the window.
  const [since, until] = windowBounds(view);
  useEffect(() => {
    if (!playing) return;
    const step = (until - since) / 150;
    const timer = setInterval(() => {
      setPlayAt((at) => {
        const next = (at ?? since) + step;
        if (next >= until) { setPlaying(false); return null; }
        return next;
      });
    }, 120);
    return () => clearInterval(timer);
  }, [playing, since, until]);

  const listed = useMemo(() => {
    let out = events;
    if (playAt !== null) out = out.filter((e) => e.at <= playAt);
    if (onlyInView && bounds) {
      const [w, s, e, n] = bounds;
      out = out.filter((x) => x.lon === null || x.lat === null || (x.lon >= w && x.lon <= e && x.lat >= s && x.lat <= n));
    }
    return out;
  }, [events, playAt, onlyInView, bounds]);

  // Choosing an event in the list (click or arrow keys) opens it beside the list and shows
  // it on the map, panning only when it is out of sight (or under the panel).
  const select = (id: string | null) => {
    // Held at once, so that a key pressed before the next render moves on from here.
    const next = { ...viewRef.current, selected: id };
    viewRef.current = next;
    setViewRef.current(next);
    const e = id ? store.byId.get(id) : null;
    const box = mapBox.current;
    if (e && e.lon !== null && e.lat !== null) {
      mapRef.current?.reveal(e.lon, e.lat, box ? Math.min(PANEL_PX, box.clientWidth * 0.6) : PANEL_PX);
    }
  };
  const selectRef = useRef(select);
  selectRef.current = select;
  const listedRef = useRef<EventSummary[]>([]);
  listedRef.current = listed;
  const reportingRef = useRef(reporting);
  reportingRef.current = reporting;

  // Up and Down go through the list from anywhere outside a form (the list, the panel, the
  // page), opening each event in turn; Escape closes the panel and gives the list the focus.
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey || reportingRef.current) return;
      if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp' && ev.key !== 'Escape') return;
      if (ownKeys(ev.target)) return;
      const selected = viewRef.current.selected;
      const list = document.getElementById('event-list');
      if (ev.key === 'Escape') {
        if (!selected) return;
        ev.preventDefault();
        selectRef.current(null);
        list?.focus({ preventScroll: true });
        return;
      }
      const inList = ev.target instanceof Element && !!ev.target.closest('.event-list');
      if (!selected && !inList) return;
      ev.preventDefault();
      const events = listedRef.current;
      if (!events.length) return;
      const i = selected ? events.findIndex((e) => e.id === selected) : -1;
      const next = i < 0 ? 0 : Math.min(events.length - 1, Math.max(0, i + (ev.key === 'ArrowDown' ? 1 : -1)));
      if (events[next].id !== selected) selectRef.current(events[next].id);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const setFilter = (key: FilterKey, values: string[]) =>
    setView({ ...view, filters: { ...view.filters, [key]: values }, selected: null });
  const toggleLayer = (layer: Layer) =>
    setView({ ...view, layers: view.layers.includes(layer) ? view.layers.filter((l) => l !== layer) : [...view.layers, layer] });
  const setWindow = (w: WindowKind) => {
    const [s, u] = windowBounds(view);
    setView({ ...view, window: w, since: w === 'custom' ? new Date(s).toISOString() : null, until: w === 'custom' ? new Date(u).toISOString() : null });
  };

  const filterOptions = (key: FilterKey): { id: string; label: string }[] => {
    if (!taxonomy) return [];
    switch (key) {
      case 'category': return taxonomy.categories.map((c) => ({ id: c.id, label: c.label }));
      case 'type': return taxonomy.categories.filter((c) => !view.filters.category.length || view.filters.category.includes(c.id)).flatMap((c) => c.types.map((x) => ({ id: x.id, label: x.label })));
      case 'impact_level': return taxonomy.enums.impact_level;
      case 'status': return taxonomy.enums.status;
      case 'handling': return taxonomy.enums.handling;
      case 'country': return ['KZ', 'KG', 'TJ', 'TM', 'UZ', 'AF', 'CN', 'IR', 'RU'].map((c) => ({ id: c, label: c }));
      case 'section': return (sections?.features ?? []).map((f) => String((f.properties as Record<string, unknown>).id)).sort().map((s) => ({ id: s, label: s }));
    }
  };

  const canReport = may(user, 'report_events');
  const filtered = FILTER_KEYS.some((k) => view.filters[k].length);
  const toggleValue = (key: FilterKey, id: string) => setFilter(key,
    view.filters[key].includes(id) ? view.filters[key].filter((x) => x !== id) : [...view.filters[key], id]);

  return (
    <div class="console">
      <aside class="sidebar" aria-label={t('filters')}>
        <section class="window">
          <h3>{t('time_window')}</h3>
          <div class="segmented" role="group" aria-label={t('time_window')}>
            {(['24h', '7d', '30d', 'custom'] as WindowKind[]).map((w) => (
              <button key={w} class={view.window === w ? 'active' : ''} aria-pressed={view.window === w} onClick={() => setWindow(w)}>{t(`window.${w}`)}</button>
            ))}
          </div>
          {view.window === 'custom' && (
            <div class="custom-window">
              <TimeField id="window-since" label={t('from')} at={since} onCommit={(iso) => setView({ ...viewRef.current, since: iso })} />
              <TimeField id="window-until" label={t('to')} at={until} onCommit={(iso) => setView({ ...viewRef.current, until: iso })} />
            </div>
          )}
          <div class="playback">
            <button onClick={() => { if (playing) setPlaying(false); else { setPlayAt(playAt ?? since); setPlaying(true); } }} aria-label={playing ? t('pause') : t('play')}>{playing ? '❚❚' : '▶'}</button>
            <input type="range" aria-label={t('playback')} min={since} max={until} step={(until - since) / 500} value={playAt ?? until}
              onInput={(e) => { setPlaying(false); const v = Number((e.target as HTMLInputElement).value); setPlayAt(v >= until ? null : v); }} />
          </div>
          <p class="muted small window-line">{playAt !== null ? `${t('replaying')} ${formatShort(playAt)}` : `${formatShort(since)} – ${isLive(view) ? t('now') : formatShort(until)}`}</p>
        </section>
        <section>
          <h3><button class="link" aria-expanded={showFilters} onClick={() => setShowFilters(!showFilters)}>{t('filters')} {showFilters ? '▾' : '▸'}</button></h3>
          {/* Several values of a filter are ticked one by one (Tab, Space): no Ctrl+click. */}
          {showFilters && FILTER_KEYS.map((key) => key === 'section' ? (
            <div class="filter" key={key}>
              <label for={`filter-${key}`}>{t(`filter.${key}`)}</label>
              <select id={`filter-${key}`} value={view.filters.section[0] ?? ''}
                onChange={(e) => { const v = (e.target as HTMLSelectElement).value; setFilter(key, v ? [v] : []); }}>
                <option value="">{t('all')}</option>
                {filterOptions(key).map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
              </select>
            </div>
          ) : (
            <fieldset class={`filter ${CHIP_FILTERS.includes(key) ? 'chips' : 'checks'}${key === 'type' ? ' long' : ''}`} id={`filter-${key}`} key={key}>
              <legend>{t(`filter.${key}`)}{view.filters[key].length ? <span class="count"> {view.filters[key].length}</span> : null}</legend>
              {filterOptions(key).map((o) => (
                <label key={o.id} class={view.filters[key].includes(o.id) ? 'on' : ''}>
                  <input type="checkbox" name={`filter-${key}`} value={o.id} checked={view.filters[key].includes(o.id)}
                    onChange={() => toggleValue(key, o.id)} />
                  {key === 'category' && <i class={`dot cat-${o.id}`} />}{o.label}
                </label>
              ))}
            </fieldset>
          ))}
          {showFilters && filtered && (
            <button class="link" onClick={() => setView({ ...view, filters: Object.fromEntries(FILTER_KEYS.map((k) => [k, []])) as unknown as View['filters'] })}>{t('clear_filters')}</button>
          )}
        </section>
        <section>
          <h3>{t('layers')}</h3>
          {LAYERS.map((layer) => {
            const unavailable = (layer === 'risk' && riskState === 'unavailable') || (layer === 'alerts' && alertState === 'unavailable');
            return (
              <label class="layer" key={layer}>
                <input type="checkbox" checked={view.layers.includes(layer)} disabled={unavailable} onChange={() => toggleLayer(layer)} />
                {t(`layer.${layer}`)} {unavailable && <span class="muted small" data-unavailable={layer}>({t('not_available')})</span>}
              </label>
            );
          })}
          <div class="legend">
            {['unauthorised_crossing', 'cross_border_crime', 'crisis', 'other'].map((c) => <span key={c}><i class={`dot cat-${c}`} />{label(`category.${c}`, c)}</span>)}
            {['low', 'medium', 'high', 'critical'].map((l) => <span key={l}><i class={`line level-${l}`} />{enumLabel('section_impact_level', l)}</span>)}
            <span><i class="dot asset" />{t('layer.assets')}</span>
            {view.layers.includes('assets') && <span><i class="line footprint" />{t('legend.footprint')}</span>}
            {view.layers.includes('health') && ['ok', ...HEALTH_ORDER].map((c) => <span key={`health-${c}`}><i class={`dot health health-${c}`} />{t(`health.${c}`)}</span>)}
            {['low', 'medium', 'high'].map((sev) => <span key={`ring-${sev}`}><i class={`ring ring-${sev}`} />{t('alert_ring', { severity: t(`severity.${sev}`) })}</span>)}
            {deployed && <span class="deployed" data-deployed={deployedHere}><i class="dot asset deployed" />{t('coop.deployed_to', { name: deployed.name, n: deployedHere })}</span>}
          </div>
        </section>
        <section>
          <h3>{t('layer.alerts')}</h3>
          {alertState === 'unavailable' ? <p class="muted" data-unavailable="alerts-list">{t('not_available')}</p>
            : alerts.length === 0 ? <p class="muted">{t('no_alerts')}</p>
              : <ul class="alerts">{alerts.slice(0, 20).map((a) => (
                <li key={a.id} class={`sev-${a.severity}`}><strong>{a.section_id}</strong> · {a.severity} · {a.first_day}–{a.last_day}<br /><span class="small">{a.explanation}</span></li>
              ))}</ul>}
        </section>
      </aside>

      <div class="map-column">
      <SituationStrip version={props.analysisVersion} openSection={(id) => setView({ ...view, page: 'risk', card: id })} />
      <main class="map-area">
        <div ref={mapBox} class="map" id="map" data-ready={mapReady && sections ? 'yes' : 'no'} data-sections={sections?.features.length ?? 0} />
        {canReport && !reporting && (
          <button class="report-button primary" onClick={() => { setReporting(true); setPicked(null); }}>+ {t('new_report')}</button>
        )}
        {picking && <div class="pick-hint" role="status">{t('click_map')}</div>}
        {(store.stale || !online) && store.asOf !== null && (
          <div class="stale-note" role="status" data-stale={store.stale ? 'kept' : 'offline'}>
            {t('offline.picture_as_of', { time: formatShort(store.asOf), age: ageText(Date.now() - store.asOf) })}
          </div>
        )}
        {notice && <div class="toast" role="status">{notice}</div>}
        {view.selected && !reporting && (
          <EventPanel id={view.selected} user={user} store={store} taxonomy={taxonomy} actionsVersion={props.actionsVersion}
            onClose={() => { select(null); document.getElementById('event-list')?.focus({ preventScroll: true }); }} />
        )}
        {binned && (
          <div class="binned-note" role="status" data-binned={binned.count}>
            {t('binned_note', { n: formatNumber(binned.count), cells: formatNumber(binned.bins.length) })}
          </div>
        )}
      </main>
      </div>

      <section class="right">
        {reporting && taxonomy ? (
          <ReportForm taxonomy={taxonomy} picked={picked} picking={picking}
            onPickToggle={(on) => { setPicking(on); mapRef.current?.setPicking(on); }}
            onCancel={() => { setReporting(false); setPicking(false); mapRef.current?.setPicking(false); }}
            onDone={(id) => {
              setReporting(false); setPicking(false); mapRef.current?.setPicking(false);
              // No id: the report waits in the outbox for the link.
              setNotice(id ? t('reported') : t('outbox.queued')); setTimeout(() => setNotice(null), 3000);
              if (id) setView({ ...view, selected: id });
            }} />
        ) : (
          <>
            {view.window === '24h' && (
              <WindowSummary store={store} alerts={alerts} alertsAvailable={alertState === 'ok'} filtered={filtered} />
            )}
            <div class="list-head">
              <strong>{t('events')}</strong> <span class="count" data-count={listed.length}>{formatNumber(listed.length)}</span>
              {store.loading && <span class="muted small"> {t('loading')}</span>}
              {store.truncated && <span class="muted small"> ({t('truncated_binned')})</span>}
              {store.unseen > 0 && (
                <button class="unseen" data-unseen={store.unseen} onClick={() => { store.clearUnseen(); setScrollSignal((n) => n + 1); }}>{t('new_events', { n: store.unseen })}</button>
              )}
              <label class="small"><input type="checkbox" checked={onlyInView} onChange={() => setOnlyInView(!onlyInView)} /> {t('only_in_view')}</label>
              <span class="muted small zone-note" title={t('times_in_zone')}>{zoneLabel()}</span>
            </div>
            <EventList events={listed} store={store} selected={view.selected} onSelect={select} scrollToTopSignal={scrollSignal} />
          </>
        )}
        <footer class="status-line small muted">
          <span class={`live ${props.connected ? 'on' : 'off'}`}>{props.connected ? t('live') : t('offline')}</span> · {formatTime(Date.now())}
        </footer>
      </section>
    </div>
  );
}
