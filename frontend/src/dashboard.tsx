// The dashboard: events per category over time, the busiest sections and their trend,
// a sparkline per section. Charts are drawn by Chart.js.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController,
  LineElement, PointElement, Tooltip,
} from 'chart.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api';
import { currentTimeZone, label, t } from './i18n';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement,
  PointElement, Tooltip, Legend, Filler);
Chart.defaults.animation = false;

const COLORS: Record<string, string> = {
  unauthorised_crossing: '#e8590c', cross_border_crime: '#c2255c', crisis: '#7048e8', other: '#1c7ed6',
};

interface CategoryStats { bucket: string; buckets: string[]; series: { category: string; counts: number[] }[]; total: number }
interface SectionStats { sections: { section_id: string; count: number; previous: number; change: number | null }[] }
interface SectionDaily { days: string[]; sections: { section_id: string; counts: number[] }[] }

const RANGES: Record<string, { days: number; bucket: 'day' | 'week' }> = {
  '30d': { days: 30, bucket: 'day' }, '90d': { days: 90, bucket: 'day' }, '365d': { days: 365, bucket: 'week' },
};

function ChartCanvas({ config, id }: { config: ConstructorParameters<typeof Chart>[1]; id?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
  }, [config]);
  return <canvas ref={canvas} id={id} />;
}

export function DashboardPage({ language }: { language: string }) {
  const [range, setRange] = useState('30d');
  const [cats, setCats] = useState<CategoryStats | null>(null);
  const [top, setTop] = useState<SectionStats | null>(null);
  const [daily, setDaily] = useState<SectionDaily | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const { days, bucket } = RANGES[range];
    const until = new Date();
    const since = new Date(until.getTime() - days * 86400e3);
    const q = `since=${since.toISOString()}&until=${until.toISOString()}&tz=${encodeURIComponent(currentTimeZone())}`;
    setError(null);
    Promise.all([
      get<CategoryStats>(`stats/categories?${q}&bucket=${bucket}`),
      get<SectionStats>(`stats/sections?${q}&limit=10`),
      get<SectionDaily>(`stats/sections/daily?${q}&limit=10`),
    ]).then(([c, s, d]) => { setCats(c); setTop(s); setDaily(d); })
      .catch((e) => setError(String(e.message)));
  }, [range, language]);

  const catConfig = cats && {
    type: 'bar' as const,
    data: {
      labels: cats.buckets,
      datasets: cats.series.map((s) => ({
        label: label(`category.${s.category}`, s.category), data: s.counts, backgroundColor: COLORS[s.category], stack: 'all',
      })),
    },
    options: { responsive: true, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } }, plugins: { legend: { position: 'bottom' as const } } },
  };
  const topConfig = top && {
    type: 'bar' as const,
    data: {
      labels: top.sections.map((s) => s.section_id),
      datasets: [
        { label: t('this_period'), data: top.sections.map((s) => s.count), backgroundColor: '#1c3250' },
        { label: t('previous_period'), data: top.sections.map((s) => s.previous), backgroundColor: '#adb5bd' },
      ],
    },
    options: { indexAxis: 'y' as const, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' as const } } },
  };

  return (
    <div class="dashboard">
      <header class="dash-head">
        <h2>{t('dashboard')}</h2>
        <div class="segmented" role="group" aria-label={t('time_window')}>
          {Object.keys(RANGES).map((r) => <button key={r} class={range === r ? 'active' : ''} aria-pressed={range === r} onClick={() => setRange(r)}>{t(`range.${r}`)}</button>)}
        </div>
        {cats && <span class="muted">{t('total_events', { n: cats.total })}</span>}
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      <section class="card wide">
        <h3>{t('per_category')} ({t(`bucket.${RANGES[range].bucket}`)})</h3>
        <div class="chart tall">{catConfig && <ChartCanvas config={catConfig} id="chart-categories" />}</div>
      </section>
      <section class="card">
        <h3>{t('top_sections')}</h3>
        <div class="chart tall">{topConfig && <ChartCanvas config={topConfig} id="chart-sections" />}</div>
      </section>
      <section class="card">
        <h3>{t('sparklines')}</h3>
        <table class="sparklines">
          <thead><tr><th>{label('ui.section', 'section')}</th><th>{t('events')}</th><th>{t('trend')}</th><th>{t('per_day')}</th></tr></thead>
          <tbody>
            {top?.sections.map((s) => {
              const series = daily?.sections.find((d) => d.section_id === s.section_id);
              const change = s.change === null ? '—' : `${s.change >= 0 ? '▲' : '▼'} ${Math.abs(s.change * 100).toFixed(0)}%`;
              return (
                <tr key={s.section_id}>
                  <td>{s.section_id}</td>
                  <td>{s.count}</td>
                  <td class={s.change !== null && s.change > 0 ? 'up' : 'down'}>{change}</td>
                  <td class="spark">{series && daily && <ChartCanvas config={{
                    type: 'line',
                    data: { labels: daily.days, datasets: [{ data: series.counts, borderColor: '#1c3250', borderWidth: 1.5, pointRadius: 0, fill: true, backgroundColor: 'rgba(28,50,80,0.12)', tension: 0.3 }] },
                    options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false }, tooltip: { enabled: false } }, scales: { x: { display: false }, y: { display: false, beginAtZero: true } } },
                  }} />}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </div>
  );
}
