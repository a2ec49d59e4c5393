// The situation strip above the map: where it is worst right now. The last 24 hours against
// what the same 24 hours held on each of the 28 days before, open alerts by severity, and the
// sections at high or critical level — a click on one opens its risk card.
import { useEffect, useState } from 'preact/hooks';
import { get } from './api';
import { enumLabel, formatNumber, t } from './i18n';

interface Strip {
  last_24h: number; normal: number; normal_low: number; normal_high: number; serious: number;
  open_alerts: Record<string, number>; sections_high: { section_id: string; level: string }[];
}

export function SituationStrip({ version, openSection }: { version: number; openSection(id: string): void }) {
  const [strip, setStrip] = useState<Strip | null>(null);
  useEffect(() => {
    get<Strip>('situation').then(setStrip).catch(() => setStrip(null));
    const timer = setInterval(() => get<Strip>('situation').then(setStrip).catch(() => {}), 60_000);
    return () => clearInterval(timer);
  }, [version]);
  if (!strip) return null;
  const state = strip.last_24h > strip.normal_high ? 'above' : strip.last_24h < strip.normal_low ? 'below' : 'normal';
  return (
    <section class="situation-strip" aria-label={t('situation')} data-state={state}>
      <div class="strip-item" data-strip="last24h">
        <strong class="big">{formatNumber(strip.last_24h)}</strong> {t('strip.events_24h')}
        <span class={`strip-normal ${state}`}>{t(`strip.${state}`, { normal: formatNumber(strip.normal, 0), low: strip.normal_low, high: strip.normal_high })}</span>
        <span class="muted small"> · {t('strip.serious', { n: strip.serious })}</span>
      </div>
      <div class="strip-item" data-strip="alerts">
        {t('strip.open_alerts')}:
        {['high', 'medium', 'low'].map((s) => (
          <span key={s} class={`alert-count sev-${s}`}><i class={`ring ring-${s}`} aria-hidden="true" /> {t(`severity.${s}`)} <strong>{strip.open_alerts[s] ?? 0}</strong></span>
        ))}
      </div>
      <div class="strip-item sections-high" data-strip="sections">
        {t('strip.sections_high')}:
        {strip.sections_high.length === 0 ? <span class="muted"> {t('none')}</span>
          : strip.sections_high.slice(0, 12).map((s) => (
            <button key={s.section_id} class={`level-chip level-${s.level}`} onClick={() => openSection(s.section_id)}
              title={t('open_risk_card')}>{s.section_id} · {enumLabel('section_impact_level', s.level)}</button>
          ))}
        {strip.sections_high.length > 12 && <span class="muted small"> +{strip.sections_high.length - 12}</span>}
      </div>
    </section>
  );
}
