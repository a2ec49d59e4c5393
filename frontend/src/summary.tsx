// "What happened overnight": the 24 h window at a glance, above the list. Counted from the
// events the console already holds (the whole window as loaded, with the filters, not only
// what the map shows) and the alerts it already reads: no request of its own.
import { useMemo } from 'preact/hooks';
import type { Alert } from './api';
import { enumLabel, formatNumber, formatShort, label, t, zoneLabel } from './i18n';
import type { EventStore } from './store';

export const CATEGORIES = ['unauthorised_crossing', 'cross_border_crime', 'crisis', 'other'];
export const IMPACT_LEVELS = ['low', 'medium', 'high', 'very_high'];

interface Props {
  store: EventStore;
  alerts: Alert[];
  alertsAvailable: boolean;
  filtered: boolean;
}

export function WindowSummary({ store, alerts, alertsAvailable, filtered }: Props) {
  // store.sorted is a new array after every load and live flush; flushes also count
  // re-attributed impact levels.
  const counts = useMemo(() => {
    const category = new Map<string, number>(CATEGORIES.map((c) => [c, 0]));
    const impact = new Map<string, number>([...IMPACT_LEVELS, 'none'].map((l) => [l, 0]));
    for (const e of store.sorted) {
      category.set(e.category, (category.get(e.category) ?? 0) + 1);
      const level = store.impact(e) ?? 'none';
      impact.set(level, (impact.get(level) ?? 0) + 1);
    }
    return { category, impact, total: store.sorted.length };
  }, [store.sorted, store.flushes]);
  const high = (counts.impact.get('high') ?? 0) + (counts.impact.get('very_high') ?? 0);
  const openAlerts = alerts.filter((a) => a.status === 'open').length;
  const since = store.since ? Date.parse(store.since) : null;

  return (
    <section class="summary" aria-label={t('summary.title')} data-since={store.since ?? ''}
      data-total={counts.total} data-high={high} data-open-alerts={alertsAvailable ? openAlerts : ''}>
      <div class="summary-head">
        <strong>{t('summary.title')}</strong>
        {since !== null && <span class="muted small">{formatShort(since)} – {t('now')} ({zoneLabel(since)})</span>}
        {filtered && <span class="muted small">· {t('summary.filtered')}</span>}
      </div>
      <div class="summary-figures">
        <span class="figure"><b>{formatNumber(counts.total)}</b> {t('summary.events')}</span>
        <span class={`figure${high ? ' warn' : ''}`}><b>{formatNumber(high)}</b> {t('summary.high')}</span>
        <span class={`figure${openAlerts ? ' warn' : ''}`}><b>{alertsAvailable ? openAlerts : '—'}</b> {t('summary.open_alerts')}</span>
      </div>
      <ul class="summary-counts" aria-label={t('filter.category')}>
        {CATEGORIES.map((c) => (
          <li key={c} data-category={c} data-count={counts.category.get(c) ?? 0}>
            <i class={`dot cat-${c}`} />{label(`category.${c}`, c)} <b>{counts.category.get(c) ?? 0}</b>
          </li>
        ))}
      </ul>
      <ul class="summary-counts" aria-label={t('filter.impact_level')}>
        {[...IMPACT_LEVELS, 'none'].filter((l) => l !== 'none' || counts.impact.get('none')).map((l) => (
          <li key={l} data-impact={l} data-count={counts.impact.get(l) ?? 0}>
            {l === 'none' ? t('summary.no_level') : enumLabel('impact_level', l)} <b>{counts.impact.get(l) ?? 0}</b>
          </li>
        ))}
      </ul>
    </section>
  );
}
