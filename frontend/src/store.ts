// The events of the current view, kept newest first, fed by a query and then by the stream.
import { get, type ActionRecord, type EventRecord } from './api';
import { eventQuery, matches, type View } from './view';

/** How many events one view loads at most (the map clusters them; the list is virtual). */
export const MAX_EVENTS = 50_000;
const PAGE = 1000;
export const FRESH_MS = 4000;

const STATUS_OF: Record<string, string> = { validate: 'validated', reject: 'rejected', close: 'closed' };

export class EventStore {
  byId = new Map<string, EventRecord>();
  sorted: EventRecord[] = [];
  /** Events that arrived live, until when they stay highlighted. */
  fresh = new Map<string, number>();
  /** Status set by actions (validations, rejections, closures) seen on this node. */
  actionStatus = new Map<string, string>();
  actionImpact = new Map<string, string>();
  loading = false;
  truncated = false;
  /** Counts loads: a load that a newer one overtook is dropped. */
  generation = 0;
  private listeners = new Set<() => void>();

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void { for (const fn of this.listeners) fn(); }

  /** Load every event of the view's window (newest first), page by page. */
  async load(view: View): Promise<void> {
    const generation = ++this.generation;
    this.loading = true;
    this.byId.clear();
    this.sorted = [];
    this.truncated = false;
    this.changed();
    const q = eventQuery(view);
    q.set('limit', String(PAGE));
    let cursor: string | null = null;
    const all: EventRecord[] = [];
    do {
      if (cursor) q.set('cursor', cursor);
      const page: { items: EventRecord[]; next_cursor: string | null } = await get(`events?${q}`);
      if (generation !== this.generation) return;
      all.push(...page.items);
      cursor = page.next_cursor;
      if (all.length >= MAX_EVENTS) { this.truncated = cursor !== null; break; }
    } while (cursor);
    for (const e of all) this.byId.set(e.id, e);
    this.sorted = all;
    this.loading = false;
    this.changed();
  }

  /** A new or changed event from the stream; true when the view shows it. */
  upsert(e: EventRecord, view: View): boolean {
    const known = this.byId.get(e.id);
    if (known && known.version > e.version) return false;
    if (!matches(view, e)) {
      if (known) {
        this.byId.delete(e.id);
        this.sorted = this.sorted.filter((x) => x.id !== e.id);
        this.changed();
      }
      return false;
    }
    this.byId.set(e.id, e);
    const rest = known ? this.sorted.filter((x) => x.id !== e.id) : this.sorted;
    // Newest first: a live event lands near the top, so a linear scan is short.
    let i = 0;
    while (i < rest.length && rest[i].occurred_at > e.occurred_at) i++;
    this.sorted = [...rest.slice(0, i), e, ...rest.slice(i)];
    this.fresh.set(e.id, Date.now() + FRESH_MS);
    this.changed();
    return true;
  }

  noteAction(a: ActionRecord['body']): void {
    const status = STATUS_OF[a.action];
    if (status) this.actionStatus.set(a.event_id, status);
    if (a.action === 'reattribute_impact' && a.impact_level) this.actionImpact.set(a.event_id, a.impact_level);
    this.changed();
  }

  status(e: EventRecord): string | null | undefined {
    return this.actionStatus.get(e.id) ?? e.status;
  }

  impact(e: EventRecord): string | null | undefined {
    return this.actionImpact.get(e.id) ?? e.impact_level;
  }

  expireFresh(now = Date.now()): boolean {
    let any = false;
    for (const [id, until] of this.fresh) if (until <= now) { this.fresh.delete(id); any = true; }
    if (any) this.changed();
    return any;
  }
}

/** Map features for events up to a playback time (all when null). */
export function eventFeatures(events: EventRecord[], store: EventStore, upTo: number | null): GeoJSON.FeatureCollection {
  const features: GeoJSON.Feature[] = [];
  for (const e of events) {
    if (!e.location) continue;
    if (upTo !== null && Date.parse(e.occurred_at) > upTo) continue;
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [e.location.lon, e.location.lat] },
      properties: { id: e.id, c: e.category, i: store.impact(e) ?? '', s: store.status(e) ?? '' },
    });
  }
  return { type: 'FeatureCollection', features };
}
