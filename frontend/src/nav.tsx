// The pages' links on the top bar: as many as fit in one row, the rest under "More".
// Which fit is measured, not guessed: a hidden row holds every label (and the More button)
// in the bar's own style, so the widths are known whatever the language's word lengths,
// and the bar is measured again whenever it changes size.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n';

export interface NavItem {
  /** The page; also the link's id (`nav-<page>`). */
  page: string;
  href: string;
  label: string;
  active: boolean;
  /** A count beside the label (the queue's, the alerts'), shown when above 0; `warn`: in red. */
  count?: number;
  warn?: boolean;
}

function Count({ item }: { item: NavItem }) {
  return item.count ? <span class={`nav-count ${item.warn ? 'warn' : ''}`}>{item.count}</span> : null;
}

/** Room between two links (the nav's CSS gap). */
const GAP = 2;

export function PageNav({ items }: { items: NavItem[] }) {
  const nav = useRef<HTMLElement>(null);
  const measure = useRef<HTMLDivElement>(null);
  const [shown, setShown] = useState(items.length);
  const [open, setOpen] = useState(false);
  const shape = items.map((i) => `${i.page}:${i.label}:${i.count ?? 0}`).join('|');

  useLayoutEffect(() => {
    const bar = nav.current;
    const row = measure.current;
    if (!bar || !row) return;
    const fit = () => {
      const widths = [...row.children].map((c) => (c as HTMLElement).getBoundingClientRect().width);
      const more = widths.pop() ?? 0;
      const room = bar.clientWidth;
      const all = widths.reduce((sum, w) => sum + w + GAP, 0);
      if (all <= room) { setShown(widths.length); return; }
      let used = more;
      let n = 0;
      for (const w of widths) {
        if (used + w + GAP > room) break;
        used += w + GAP;
        n += 1;
      }
      setShown(n);
    };
    fit();
    const watch = new ResizeObserver(fit);
    watch.observe(bar);
    return () => watch.disconnect();
  }, [shape]);

  // The menu closes on a page change, a click elsewhere and Escape.
  useEffect(() => setOpen(false), [items.find((i) => i.active)?.page]);
  useEffect(() => {
    if (!open) return;
    const away = (e: Event) => { if (!nav.current?.contains(e.target as Node)) setOpen(false); };
    const escape = (e: KeyboardEvent) => { if (e.key === 'Escape') setOpen(false); };
    document.addEventListener('click', away);
    document.addEventListener('keydown', escape);
    return () => { document.removeEventListener('click', away); document.removeEventListener('keydown', escape); };
  }, [open]);

  const link = (i: NavItem) => (
    <a key={i.page} id={`nav-${i.page}`} href={i.href} class={i.active ? 'active' : ''}
      aria-current={i.active ? 'page' : undefined} onClick={() => setOpen(false)}>{i.label}<Count item={i} /></a>
  );
  const rest = items.slice(shown);
  const restActive = rest.some((i) => i.active);
  return (
    <>
      <nav ref={nav} aria-label={t('pages')} data-shown={shown}>
        {items.slice(0, shown).map(link)}
        {rest.length > 0 && (
          <div class="nav-more">
            <button type="button" id="nav-more" class={restActive ? 'active' : ''} aria-expanded={open}
              aria-controls="nav-more-menu" onClick={() => setOpen(!open)}>
              {t('nav.more', { n: rest.length })} ▾
            </button>
            <div id="nav-more-menu" class="nav-more-menu" hidden={!open}>{rest.map(link)}</div>
          </div>
        )}
      </nav>
      <div ref={measure} class="nav-measure" aria-hidden="true">
        {items.map((i) => <span key={i.page}>{i.label}<Count item={i} /></span>)}
        <span>{t('nav.more', { n: items.length })} ▾</span>
      </div>
    </>
  );
}
