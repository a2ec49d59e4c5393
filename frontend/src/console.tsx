// The map page: filters and layers, the map, the event list and panel, the report form, live.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, may, optional, type Alert, type Asset, type EventSummary, type SectionRisk, type Taxonomy, type User } from './api';
import { currentLanguage, enumLabel, formatShort, formatTime, label, t } from './i18n';
import { EventList } from './list';
import { midpoint, points, SituationMap } from './map';
import { EventPanel } from './panel';
import { ReportForm } from './report';
import { EventStore, eventFeature, eventFeatures } from './store';
import { FILTER_KEYS, LAYERS, isLive, windowBounds, type FilterKey, type Layer, type View, type WindowKind } from './view';

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

export function ConsolePage(props: Props) {
  const { user, view, taxonomy, setView, store } = props;
  const mapBox = useRef<HTMLDivElement>(null);
  const mapRef = useRef<SituationMap | null>(null);
  const [mapReady, setMapReady] = useState(false);
  const [bounds, setBounds] = useState<[number, number, number, number] | null>(null);
  const [onlyInView, setOnlyInView] = useState(true);
  const [, setTick] = useState(0);
  const [reporting, setReporting] = useState(false);
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
    const m = new SituationMap(mapBox.current, {
      select: (key) => {
        const id = store.idOfKey(key);
        if (id) setViewRef.current({ ...viewRef.current, selected: id });
      },
      pick: (lon, lat) => { setPicked([lon, lat]); m.showPick(lon, lat); setPicking(false); m.setPicking(false); m.showPick(lon, lat); },
      moved: (b) => setBounds(b),
      hoverSection: () => {},
    });
    mapRef.current = m;
    m.ready.then(async () => {
      setMapReady(true);
      showEvents();
      const [countries, secs, crossings] = await Promise.all([
        get<GeoJSON.FeatureCollection>('countries'),
        get<GeoJSON.FeatureCollection>('sections'),
        get<GeoJSON.FeatureCollection>('crossing-points'),
      ]);
      m.setCountries(countries, currentLanguage() === 'en' ? 'name' : 'name_ru');
      setSections(secs);
      m.setData('crossings', crossings);
      const b = m.map.getBounds();
      setBounds([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]);
    });
    return () => m.map.remove();
  }, []);
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
    get<{ assets: Asset[] }>('assets').then((a) => setAssets(a.assets)).catch(() => {});
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

  useEffect(() => {
    const m = mapRef.current;
    if (!m || !mapReady) return;
    m.setData('assets', points(assets.map((a) => [a.location.lon, a.location.lat]), assets.map((a) => ({ id: a.id, name: a.name, kind: a.kind }))));
    m.setData('tracks', {
      type: 'FeatureCollection',
      features: assets.filter((a) => a.track.length > 1).map((a) => ({
        type: 'Feature', properties: { id: a.id },
        geometry: { type: 'LineString', coordinates: a.track.map(([x, y]) => [x, y]) },
      })),
    });
  }, [mapReady, assets]);

  useEffect(() => { if (mapReady) mapRef.current?.showLayers(view.layers); }, [mapReady, view.layers.join(',')]);

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
    m.setData('events', eventFeatures(store.sorted, store, playAtRef.current));
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

  const select = (id: string | null) => {
    setView({ ...view, selected: id });
    const e = id ? store.byId.get(id) : null;
    if (e && e.lon !== null && e.lat !== null) mapRef.current?.flyTo(e.lon, e.lat);
  };

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
  const fmtInput = (ms: number) => new Date(ms).toISOString().slice(0, 16);

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
              <label>{t('from')} (UTC)<input type="datetime-local" value={fmtInput(since)} onChange={(e) => setView({ ...view, since: new Date(`${(e.target as HTMLInputElement).value}:00Z`).toISOString() })} /></label>
              <label>{t('to')} (UTC)<input type="datetime-local" value={fmtInput(until)} onChange={(e) => setView({ ...view, until: new Date(`${(e.target as HTMLInputElement).value}:00Z`).toISOString() })} /></label>
            </div>
          )}
          <div class="playback">
            <button onClick={() => { if (playing) setPlaying(false); else { setPlayAt(playAt ?? since); setPlaying(true); } }} aria-label={playing ? t('pause') : t('play')}>{playing ? '❚❚' : '▶'}</button>
            <input type="range" aria-label={t('playback')} min={since} max={until} step={(until - since) / 500} value={playAt ?? until}
              onInput={(e) => { setPlaying(false); const v = Number((e.target as HTMLInputElement).value); setPlayAt(v >= until ? null : v); }} />
          </div>
          <p class="muted small">{playAt !== null ? `${t('replaying')} ${formatShort(playAt)}` : `${formatShort(since)} – ${isLive(view) ? t('now') : formatShort(until)}`}</p>
        </section>
        <section>
          <h3><button class="link" aria-expanded={showFilters} onClick={() => setShowFilters(!showFilters)}>{t('filters')} {showFilters ? '▾' : '▸'}</button></h3>
          {showFilters && FILTER_KEYS.map((key) => (
            <div class="filter" key={key}>
              <label for={`filter-${key}`}>{t(`filter.${key}`)}</label>
              <select id={`filter-${key}`} multiple={key !== 'section'} size={key === 'type' ? 4 : key === 'section' ? 1 : Math.min(4, filterOptions(key).length)}
                onChange={(e) => setFilter(key, [...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value).filter(Boolean))}>
                {key === 'section' && <option value="">{t('all')}</option>}
                {filterOptions(key).map((o) => <option key={o.id} value={o.id} selected={view.filters[key].includes(o.id)}>{o.label}</option>)}
              </select>
            </div>
          ))}
          {showFilters && FILTER_KEYS.some((k) => view.filters[k].length) && (
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

      <main class="map-area">
        <div ref={mapBox} class="map" id="map" data-ready={mapReady && sections ? 'yes' : 'no'} data-sections={sections?.features.length ?? 0} />
        {canReport && !reporting && (
          <button class="report-button primary" onClick={() => { setReporting(true); setPicked(null); }}>+ {t('new_report')}</button>
        )}
        {picking && <div class="pick-hint" role="status">{t('click_map')}</div>}
        {notice && <div class="toast" role="status">{notice}</div>}
      </main>

      <section class="right">
        {reporting && taxonomy ? (
          <ReportForm taxonomy={taxonomy} picked={picked} picking={picking}
            onPickToggle={(on) => { setPicking(on); mapRef.current?.setPicking(on); }}
            onCancel={() => { setReporting(false); setPicking(false); mapRef.current?.setPicking(false); }}
            onDone={(id) => {
              setReporting(false); setPicking(false); mapRef.current?.setPicking(false);
              setNotice(t('reported')); setTimeout(() => setNotice(null), 3000);
              setView({ ...view, selected: id });
            }} />
        ) : view.selected ? (
          <EventPanel id={view.selected} user={user} store={store} taxonomy={taxonomy} actionsVersion={props.actionsVersion} onClose={() => select(null)} />
        ) : (
          <>
            <div class="list-head">
              <strong>{t('events')}</strong> <span class="count" data-count={listed.length}>{listed.length.toLocaleString()}</span>
              {store.loading && <span class="muted small"> {t('loading')}</span>}
              {store.truncated && <span class="muted small"> ({t('truncated')})</span>}
              {store.unseen > 0 && (
                <button class="unseen" data-unseen={store.unseen} onClick={() => { store.clearUnseen(); setScrollSignal((n) => n + 1); }}>{t('new_events', { n: store.unseen })}</button>
              )}
              <label class="small"><input type="checkbox" checked={onlyInView} onChange={() => setOnlyInView(!onlyInView)} /> {t('only_in_view')}</label>
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
