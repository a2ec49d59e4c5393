// The events of the current view, kept newest first: the whole window in one request
// (GET /api/v1/events/columns, only what the map and the list show), then the stream.
// Live changes are gathered and applied together once per frame, so that a burst of a
// hundred reports costs one update of the list and one of the map, not a hundred.
import { LOW_BANDWIDTH_EVENTS, lowBandwidth } from './bandwidth';
import {
  expandColumns, get, summaryOf, type ActionRecord, type CompactColumns, type EventColumns, type EventRecord,
  type EventSummary,
} from './api';
import { keepPicture, keptPicture, unreachable } from './offline';
import { eventQuery, matches, type View } from './view';

/** How many events one view loads at most (newest first; the map clusters them). */
export const MAX_EVENTS = 100_000;
export const FRESH_MS = 4000;
/** Live changes are applied at most this often (and at the next frame). */
const FLUSH_MS = 100;

const STATUS_OF: Record<string, string> = { validate: 'validated', reject: 'rejected', close: 'closed' };

/** What changed on one flush of live changes. */
export interface LiveChange { changed: EventSummary[]; removed: string[] }

/** Newest first: later `at`, then the greater id (the order the API gives). */
const newer = (a: EventSummary, b: EventSummary) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export class EventStore {
  byId = new Map<string, EventSummary>();
  sorted: EventSummary[] = [];
  /** Events that arrived live, until when they stay highlighted. */
  fresh = new Map<string, number>();
  /** Status set by actions (validations, rejections, closures) seen on this node. */
  actionStatus = new Map<string, string>();
  actionImpact = new Map<string, string>();
  /** Events shown since the user last looked (the yellow counter). */
  unseen = 0;
  loading = false;
  truncated = false;
  /** The start of the last load's window (ISO), as asked of the node. */
  since: string | null = null;
  /** Counts loads started: a load that a newer one overtook is dropped. */
  generation = 0;
  /** Counts loads finished (the map takes the whole list again). */
  revision = 0;
  /** Counts flushes of live changes (each one list update and one map update). */
  flushes = 0;
  /** When the picture shown was last known to be the node's (epoch ms): the last load, or
   * the moment the live stream was lost. */
  asOf: number | null = null;
  /** The picture shown is the copy kept on the device: the node could not be reached. */
  stale = false;
  private linked = false;
  /** Event ids by key (EventSummary.key): the map's features carry keys, not ids. */
  private ids: string[] = [];
  /** The view of the last load: live events are shown when they match it. */
  private view: View | null = null;
  private incoming: EventRecord[] = [];
  private touched = new Set<string>();
  private flushQueued = false;
  private lastFlush = 0;
  private listeners = new Set<() => void>();
  private liveListeners = new Set<(change: LiveChange) => void>();
  private loadListeners = new Set<() => void>();

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called once per flush with the events that changed (for the map). */
  onLive(fn: (change: LiveChange) => void): () => void {
    this.liveListeners.add(fn);
    return () => this.liveListeners.delete(fn);
  }

  /** Called as soon as a load is done, before the page renders it (the map takes it first). */
  onLoad(fn: () => void): () => void {
    this.loadListeners.add(fn);
    return () => this.loadListeners.delete(fn);
  }

  private changed(): void { for (const fn of this.listeners) fn(); }

  /** Load every event of the view's window, newest first, in one request. */
  async load(view: View): Promise<void> {
    const generation = ++this.generation;
    this.view = view;
    this.loading = true;
    this.changed();
    const q = eventQuery(view);
    // On a poor link a smaller window: beyond it the map shows counts per cell (bins).
    q.set('limit', String(lowBandwidth() ? LOW_BANDWIDTH_EVENTS : MAX_EVENTS));
    const since = q.get('since');
    let columns: EventColumns;
    let asOf = Date.now();
    let stale = false;
    try {
      q.set('compact', 'true');
      columns = expandColumns(await get<CompactColumns>(`events/columns?${q}`));
      // Kept for a start with no link; the copy may lag, the answer is shown meanwhile.
      keepPicture(q.toString(), columns).catch(() => {});
    } catch (err) {
      // No link: the last picture this device was sent, whatever its view, marked stale.
      const kept = unreachable(err) ? await keptPicture().catch(() => null) : null;
      if (!kept || generation !== this.generation) {
        if (generation === this.generation) { this.loading = false; this.changed(); }
        throw err;
      }
      columns = kept.columns;
      asOf = kept.at;
      stale = true;
    }
    if (generation !== this.generation) return;
    this.asOf = asOf;
    this.stale = stale;
    const rows = fromColumns(columns);
    this.ids = columns.id.slice();
    this.byId = new Map(rows.map((e) => [e.id, e]));
    this.sorted = rows;
    this.truncated = columns.truncated;
    this.since = since;
    this.loading = false;
    this.revision++;
    // The map's worker has the most to do with a load: hand it the events first, and let
    // the page render the list in the next task.
    for (const fn of this.loadListeners) fn();
    // Live events that came while loading are kept: the load may predate them.
    setTimeout(() => {
      if (this.incoming.length) this.flush();
      this.changed();
    }, 0);
  }

  /** The live stream opened (true) or was lost (false): a lost stream dates the picture. */
  markLink(up: boolean): void {
    if (!up && this.linked) { this.asOf = Date.now(); this.changed(); }
    this.linked = up;
  }

  /** A new or changed event from the stream; applied with the others at the next flush. */
  receive(record: EventRecord): void {
    this.incoming.push(record);
    this.schedule();
  }

  noteAction(a: ActionRecord['body']): void {
    const e = this.byId.get(a.event_id);
    const before = e && `${this.status(e)}|${this.impact(e)}`;
    const status = STATUS_OF[a.action];
    if (status) this.actionStatus.set(a.event_id, status);
    if (a.action === 'reattribute_impact' && a.impact_level) this.actionImpact.set(a.event_id, a.impact_level);
    if (e && before !== `${this.status(e)}|${this.impact(e)}`) {
      this.touched.add(a.event_id);
      this.schedule();
    }
  }

  /** The id of the event with a map key. */
  idOfKey(key: number): string | undefined {
    return this.ids[key];
  }

  clearUnseen(): void {
    this.unseen = 0;
    this.changed();
  }

  status(e: EventSummary): string | null {
    return this.actionStatus.get(e.id) ?? e.status;
  }

  impact(e: EventSummary): string | null {
    return this.actionImpact.get(e.id) ?? e.impact_level;
  }

  expireFresh(now = Date.now()): boolean {
    let any = false;
    for (const [id, until] of this.fresh) if (until <= now) { this.fresh.delete(id); any = true; }
    if (any) this.changed();
    return any;
  }

  /** At the next frame, but not sooner than FLUSH_MS after the last flush; also when hidden. */
  private schedule(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    const wait = Math.max(0, this.lastFlush + FLUSH_MS - performance.now());
    let done = false;
    const run = () => { if (!done) { done = true; this.flush(); } };
    setTimeout(() => {
      requestAnimationFrame(run);
      setTimeout(run, 250); // a hidden page gets no frames
    }, wait);
  }

  /** Apply what the stream brought since the last flush: one new list, one map update. */
  private flush(): void {
    this.flushQueued = false;
    this.lastFlush = performance.now();
    const view = this.view;
    if (this.loading || !view) return; // the load flushes when it is done
    const now = Date.now();
    const added = new Map<string, EventSummary>();
    const removed = new Set<string>();
    for (const record of this.incoming) {
      const known = added.get(record.id) ?? this.byId.get(record.id);
      if (known && known.version >= record.version) continue; // already shown
      if (!matches(view, record)) {
        if (known) { removed.add(record.id); added.delete(record.id); }
        continue;
      }
      const e = summaryOf(record, known ? known.key : this.ids.push(record.id) - 1);
      added.set(e.id, e);
      removed.delete(e.id);
      this.fresh.set(e.id, now + FRESH_MS);
      this.unseen++;
    }
    this.incoming = [];
    const changed = [...added.values()];
    for (const id of this.touched) {
      const e = this.byId.get(id);
      if (e && !added.has(id) && !removed.has(id)) changed.push(e);
    }
    this.touched.clear();
    if (added.size || removed.size) {
      const replaced = [...added.keys()].filter((id) => this.byId.has(id));
      for (const id of removed) this.byId.delete(id);
      for (const e of added.values()) this.byId.set(e.id, e);
      this.sorted = merge(this.sorted, [...added.values()].sort(newer), new Set([...replaced, ...removed]));
    }
    if (!changed.length && !removed.size) return;
    this.flushes++;
    for (const fn of this.liveListeners) fn({ changed, removed: [...removed] });
    this.changed();
  }
}

/** The old list without `drop`, with `fresh` (sorted newest first) merged in. */
function merge(old: EventSummary[], fresh: EventSummary[], drop: Set<string>): EventSummary[] {
  const out: EventSummary[] = [];
  let j = 0;
  for (const e of old) {
    if (drop.size && drop.has(e.id)) continue;
    while (j < fresh.length && newer(fresh[j], e) <= 0) out.push(fresh[j++]);
    out.push(e);
  }
  while (j < fresh.length) out.push(fresh[j++]);
  return out;
}

/** Rows from the column arrays the API answers with. */
export function fromColumns(c: EventColumns): EventSummary[] {
  const rows: EventSummary[] = new Array(c.count);
  const { category, type, impact_level: impact, status, section_id: section } = c;
  for (let i = 0; i < c.count; i++) {
    rows[i] = {
      key: i, id: c.id[i], version: c.version[i], at: c.occurred_at_ms[i], lon: c.lon[i], lat: c.lat[i],
      category: category.values[category.codes[i]], type: type.values[type.codes[i]],
      impact_level: impact.values[impact.codes[i]], status: status.values[status.codes[i]],
      section_id: section.values[section.codes[i]],
    };
  }
  return rows;
}

// The map's features carry small numbers, not strings: handing 50,000 features to MapLibre's
// worker copies every string in them, twice. style.json reads these codes (0: anything else).
const CATEGORY_CODE: Record<string, number> = { unauthorised_crossing: 1, cross_border_crime: 2, crisis: 3 };
const IMPACT_CODE: Record<string, number> = { medium: 1, high: 2, very_high: 3 };
const STATUS_CODE: Record<string, number> = { closed: 1, rejected: 2 };

/** A map feature of an event: its key (k), category (c), impact (i) and status (s) as codes. */
export function eventFeature(e: EventSummary, store: EventStore): GeoJSON.Feature {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [e.lon as number, e.lat as number] },
    properties: {
      k: e.key, c: CATEGORY_CODE[e.category] ?? 0,
      i: IMPACT_CODE[store.impact(e) ?? ''] ?? 0, s: STATUS_CODE[store.status(e) ?? ''] ?? 0,
    },
  };
}

/** Map features for events up to a playback time (all when null). */
export function eventFeatures(events: EventSummary[], store: EventStore, upTo: number | null): GeoJSON.FeatureCollection {
  const features: GeoJSON.Feature[] = [];
  for (const e of events) {
    if (e.lon === null || e.lat === null) continue;
    if (upTo !== null && e.at > upTo) continue;
    features.push(eventFeature(e, store));
  }
  return { type: 'FeatureCollection', features };
}
