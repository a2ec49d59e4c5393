// The risk analysis network at the hub: which member has submitted which month (the
// completeness board, revisions marked) and the monthly joint alert of the month chosen.
import { useEffect, useState } from 'preact/hooks';
import { get } from './api';
import { formatNumber, label, t } from './i18n';

interface Revision {
  indicator: string; version: number; reason: string | null; recorded_at: string;
  total_before: number | null; total: number | null; after_submission: boolean;
}
interface Cell {
  country: string; month: string; status: 'submitted' | 'late' | 'missing' | 'due';
  deadline: string; submitted_at: string | null; indicators: number; of: number;
  revisions: Revision[]; revised: boolean;
}
interface Board {
  countries: string[]; months: string[]; cells: Cell[];
  summary: Record<string, { received: number; expected: number; late: number }>;
}
interface AlertItem {
  country?: string; indicator?: string; nationality?: string; place?: string;
  direction: 'up' | 'down'; observed: number; year_before: number; q: number;
  lower?: number; upper?: number;
}
interface Analysis {
  month: string; countries_reporting: number; regional_totals: Record<string, number>;
  alert: { fired: boolean; indicators: AlertItem[]; routes: AlertItem[] };
}

const MARK: Record<Cell['status'], string> = { submitted: '✓', late: '⏱', missing: '✗', due: '…' };

export function NetworkPage() {
  const [board, setBoard] = useState<Board | null>(null);
  const [month, setMonth] = useState<string | null>(null);
  const [analysis, setAnalysis] = useState<Analysis | null>(null);
  const [open, setOpen] = useState<Cell | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    get<Board>('indicators/board').then((b) => {
      setBoard(b);
      setMonth(b.months[b.months.length - 1] ?? null);
    }).catch((e) => setError(String(e.message)));
  }, []);
  useEffect(() => {
    if (!month) return;
    setAnalysis(null);
    get<Analysis>(`indicators/analysis?month=${month}`).then(setAnalysis)
      .catch(() => setAnalysis(null));
  }, [month]);

  if (error) return <div class="network"><p class="error" role="alert">{error}</p></div>;
  if (!board) return <div class="network"><p class="muted">{t('loading')}</p></div>;
  const cellOf = (country: string, m: string) => board.cells.find((c) => c.country === country && c.month === m);
  return (
    <div class="network" id="network-page">
      <header class="dash-head"><h2>{t('network.title')}</h2></header>
      <section class="card wide">
        <h3>{t('network.board')}</h3>
        <table class="network-board" id="network-board">
          <thead>
            <tr><th>{t('network.month')}</th>{board.countries.map((c) => <th key={c}>{c}</th>)}<th>{t('network.received')}</th></tr>
          </thead>
          <tbody>
            {board.months.map((m) => (
              <tr key={m} class={m === month ? 'active' : ''}>
                <th><button class="link" onClick={() => setMonth(m)}>{m}</button></th>
                {board.countries.map((c) => {
                  const cell = cellOf(c, m);
                  if (!cell) return <td key={c} />;
                  return (
                    <td key={c} class={`status-${cell.status}`} data-status={cell.status} data-country={c} data-month={m}
                      title={`${t(`network.status.${cell.status}`)} · ${t('network.indicators', { n: cell.indicators, of: cell.of })}`}>
                      <button class="link" onClick={() => setOpen(cell)}>
                        {MARK[cell.status]} {t(`network.status.${cell.status}`)}
                        {cell.revised && <span class="badge revised"> {t('network.revised')}</span>}
                      </button>
                    </td>
                  );
                })}
                <td>{t('network.received_of', { n: board.summary[m].received, of: board.summary[m].expected })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {open && (
        <section class="card" id="network-cell">
          <h3>{open.country} · {open.month}</h3>
          <p>{t(`network.status.${open.status}`)} · {t('network.deadline', { date: open.deadline })}</p>
          {open.revisions.length === 0 ? <p class="muted">{t('network.no_revisions')}</p> : (
            <table>
              <thead><tr><th>{t('network.indicator')}</th><th>{t('network.version')}</th><th>{t('network.change')}</th><th>{t('network.reason')}</th></tr></thead>
              <tbody>
                {open.revisions.map((r) => (
                  <tr key={`${r.indicator}|${r.version}`} class={r.after_submission ? 'revised' : ''}>
                    <td>{label(`indicator.${r.indicator}`, r.indicator)}</td>
                    <td>{r.version}</td>
                    <td>{formatNumber(r.total_before ?? 0)} → {formatNumber(r.total ?? 0)}</td>
                    <td>{r.reason ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      <section class="card" id="network-alert">
        <h3>{t('network.alert', { month: month ?? '' })}</h3>
        {!analysis ? <p class="muted">{t('network.no_analysis')}</p>
          : !analysis.alert.fired ? <p>{t('network.quiet')}</p> : (
            <ul>
              {analysis.alert.indicators.map((a) => (
                <li key={`i|${a.country}|${a.indicator}`}>
                  {a.direction === 'up' ? '▲' : '▼'} {a.country === 'region' ? t('network.region') : a.country}
                  {' · '}{label(`indicator.${a.indicator}`, a.indicator ?? '')}: {formatNumber(a.observed)}
                  {' '}({t('network.interval', { lower: formatNumber(a.lower ?? 0, 0), upper: formatNumber(a.upper ?? 0, 0), before: formatNumber(a.year_before) })})
                </li>))}
              {analysis.alert.routes.map((a) => (
                <li key={`r|${a.nationality}|${a.place}|${a.country}`}>
                  {a.direction === 'up' ? '▲' : '▼'} {t('network.route', { nationality: a.nationality ?? '', place: a.place ?? '', country: a.country ?? '' })}:
                  {' '}{formatNumber(a.observed)} ({t('network.year_before', { n: formatNumber(a.year_before) })})
                </li>))}
            </ul>
          )}
      </section>
    </div>
  );
}
