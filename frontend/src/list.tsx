// The event list: only the rows in sight are in the DOM, so thousands of events scroll freely.
// It stays beside the map while an event is open, so triage keeps its place.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EventSummary } from './api';
import { enumLabel, formatShort, t, typeLabel } from './i18n';
import type { EventStore } from './store';

const ROW = 52;
const OVERSCAN = 8;

interface Props {
  events: EventSummary[];
  store: EventStore;
  selected: string | null;
  onSelect(id: string): void;
  scrollToTopSignal: number;
}

export function EventList({ events, store, selected, onSelect, scrollToTopSignal }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => { if (box.current) box.current.scrollTop = 0; }, [scrollToTopSignal]);

  // Bring the selected event into sight: when it is chosen (on the map, by the arrow keys,
  // from a link) and, if the list did not hold it yet, as soon as it does. A near row is
  // scrolled just into sight, a far one to the middle.
  const wanted = useRef<string | null>(null);
  useEffect(() => { wanted.current = selected; }, [selected]);
  useEffect(() => {
    const el = box.current;
    const id = wanted.current;
    if (!el || !id) return;
    const i = events.findIndex((e) => e.id === id);
    if (i < 0) return;
    wanted.current = null;
    const view = el.clientHeight;
    const rowTop = i * ROW;
    if (rowTop >= el.scrollTop && rowTop + ROW <= el.scrollTop + view) return;
    const near = rowTop >= el.scrollTop - view && rowTop <= el.scrollTop + 2 * view;
    el.scrollTop = !near ? Math.max(0, rowTop - view / 2)
      : rowTop < el.scrollTop ? rowTop : rowTop + ROW - view;
    setTop(el.scrollTop);
  });

  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(events.length, Math.ceil((top + height) / ROW) + OVERSCAN);
  const now = Date.now();
  const shown = events.slice(first, last);
  const active = selected && shown.some((e) => e.id === selected) ? `event-row-${selected}` : undefined;

  // The arrow keys (and Escape) belong to the console page: they move the selection from
  // anywhere outside a form, whether the list or the event panel has the focus.
  return (
    <div class="event-list" id="event-list" ref={box} tabIndex={0} role="listbox" aria-label={t('events')}
      aria-activedescendant={active} onScroll={(ev) => setTop((ev.currentTarget as HTMLDivElement).scrollTop)}>
      <div style={{ height: `${events.length * ROW}px`, position: 'relative' }}>
        {shown.map((e, k) => {
          const i = first + k;
          const fresh = (store.fresh.get(e.id) ?? 0) > now;
          const status = store.status(e);
          return (
            <div key={e.id} id={`event-row-${e.id}`} role="option" aria-selected={e.id === selected} data-event-id={e.id}
              class={`event-row cat-${e.category}${e.id === selected ? ' selected' : ''}${fresh ? ' fresh' : ''}`}
              style={{ top: `${i * ROW}px`, height: `${ROW}px` }} onClick={() => onSelect(e.id)}>
              <span class={`dot cat-${e.category} impact-${store.impact(e) ?? 'none'}`} />
              <div class="row-main">
                <div class="row-title">{typeLabel(e.type)}</div>
                <div class="row-sub">
                  {formatShort(e.at)} · {e.section_id ?? t('inland')} · {enumLabel('impact_level', store.impact(e))}
                </div>
              </div>
              <span class={`badge status-${status ?? 'none'}`}>{enumLabel('status', status)}</span>
            </div>
          );
        })}
      </div>
      {!events.length && <p class="empty">{t('no_events')}</p>}
    </div>
  );
}
