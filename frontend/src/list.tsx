// The event list: only the rows in sight are in the DOM, so thousands of events scroll freely.
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

  // Bring the selected event into sight when it is chosen on the map.
  useEffect(() => {
    const el = box.current;
    if (!el || !selected) return;
    const i = events.findIndex((e) => e.id === selected);
    if (i < 0) return;
    if (i * ROW < el.scrollTop || (i + 1) * ROW > el.scrollTop + el.clientHeight) {
      el.scrollTop = Math.max(0, i * ROW - el.clientHeight / 2);
    }
  }, [selected]);

  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(events.length, Math.ceil((top + height) / ROW) + OVERSCAN);
  const now = Date.now();

  const onKey = (ev: KeyboardEvent) => {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    ev.preventDefault();
    const i = events.findIndex((e) => e.id === selected);
    const next = Math.min(events.length - 1, Math.max(0, i + (ev.key === 'ArrowDown' ? 1 : -1)));
    if (events[next]) onSelect(events[next].id);
  };

  return (
    <div class="event-list" ref={box} tabIndex={0} role="listbox" aria-label={t('events')}
      onScroll={(ev) => setTop((ev.currentTarget as HTMLDivElement).scrollTop)} onKeyDown={onKey}>
      <div style={{ height: `${events.length * ROW}px`, position: 'relative' }}>
        {events.slice(first, last).map((e, k) => {
          const i = first + k;
          const fresh = (store.fresh.get(e.id) ?? 0) > now;
          const status = store.status(e);
          return (
            <div key={e.id} role="option" aria-selected={e.id === selected} data-event-id={e.id}
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
