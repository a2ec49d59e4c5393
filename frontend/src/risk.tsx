// The risk screen: the ranking of sections, and one section's risk card — threat,
// vulnerability and impact as bars, the reasons in words, trend and forecast, the proposed and
// confirmed level with its reaction checklist, the solutions (recommendations with owner and
// deadline) and the section's recent alerts; a before/after view of the last level change.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, may, post, type Alert, type User } from './api';
import { enumLabel, formatNumber, formatShort, t } from './i18n';
import type { View } from './view';

interface RiskRow {
  section_id: string; rank: number; risk: number; threat: number; vulnerability: number;
  impact: number; vulnerability_known: boolean; proposed_level: string;
  confirmed_level: string | null; reasons: string[];
}
interface RiskTable { computed_at: string; period: { month: string; from: string; to: string }; sections: RiskRow[] }
interface Detail {
  contributions: { threat: number; vulnerability: number; impact: number };
  threat: { trend: string; trend_ratio: number; trend_p: number; expected_next: number; likelihood: number; events: number };
  monthly?: { month: string; count: number }[];
}
interface LevelVersion { version: number; recorded_at: string; level: string; proposed_level: string | null;
  justification: string; confirmed_by: string; reasons: string[]; overridden: boolean }
interface SectionLevel {
  section_id: string; proposed_level: string | null; reasons: string[]; proposed_reactions: string[];
  confirmed: (LevelVersion & { reactions: string[];
    checklist?: Record<string, { done: boolean; by: string; at: string; note: string }> }) | null;
  history: LevelVersion[];
}
interface Recommendation { id: string; text: string; owner: string; deadline: string; status: string }
interface Forecast { series: string; forecast: { month: string; forecast: number; lower_80: number; upper_80: number; lower_95: number; upper_95: number }[] }

const LEVELS = ['low', 'medium', 'high', 'critical'];

/** A number with fixed decimals, or a dash when the analysis could not give one. */
const fixed = (x: number | null | undefined, digits: number) =>
  typeof x === 'number' && Number.isFinite(x) ? formatNumber(x, digits) : '—';

function Bar({ name, value, part }: { name: string; value: number; part: number }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  const words = t(`report.${name === 'impact' ? 'impact_score' : name}`);
  return (
    <div class="bar-row">
      <span class="bar-name">{words}</span>
      <span class="bar" role="meter" aria-label={words} data-term={name} aria-valuemin={0} aria-valuemax={1} aria-valuenow={value}>
        <span class={`bar-fill bar-${name}`} style={{ width: `${pct}%` }} />
      </span>
      <span class="bar-value">{fixed(value, 2)}</span>
      <span class="bar-part muted small">{t('risk_part')} {fixed(part, 3)}</span>
    </div>
  );
}

function LevelChip({ level }: { level: string | null | undefined }) {
  return level ? <span class={`level-chip level-${level}`}>{enumLabel('section_impact_level', level)}</span>
    : <span class="muted">—</span>;
}

function RiskCard({ row, user, refresh }: { row: RiskRow; user: User; refresh(): void }) {
  const id = row.section_id;
  const [detail, setDetail] = useState<Detail | null>(null);
  const [level, setLevel] = useState<SectionLevel | null>(null);
  const [recs, setRecs] = useState<Recommendation[]>([]);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [forecast, setForecast] = useState<Forecast | null>(null);
  const [choice, setChoice] = useState<string>(row.proposed_level);
  const [why, setWhy] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    setDetail(null); setLevel(null); setChoice(row.proposed_level); setWhy(''); setError(null);
    get<Detail>(`risk/${id}`).then(setDetail).catch(() => {});
    get<SectionLevel>(`sections/${id}/level`).then(setLevel).catch(() => {});
    get<{ recommendations: Recommendation[] }>(`recommendations?section_id=${id}`)
      .then((r) => setRecs(r.recommendations)).catch(() => setRecs([]));
    get<{ alerts: Alert[] }>(`alerts?section_id=${id}&limit=10`).then((a) => setAlerts(a.alerts)).catch(() => setAlerts([]));
    get<{ series: Forecast[] }>(`forecasts?series=section:${id}&horizon=3`).then((f) => setForecast(f.series[0] ?? null)).catch(() => setForecast(null));
  }, [id, version]);

  const confirmed = level?.confirmed ?? null;
  const reactions = confirmed?.reactions ?? level?.proposed_reactions ?? [];
  const history = level?.history ?? [];  // confirmations only (checklist ticks left out)
  const before = history.length >= 2 ? history[history.length - 2] : null;
  const after = history.length >= 1 ? history[history.length - 1] : null;
  const open = recs.filter((r) => r.status === 'open' || r.status === 'in_progress');
  const trend = detail?.threat.trend;

  const tickOff = async (item: number, done: boolean) => {
    setError(null);
    try {
      await post(`sections/${id}/level/checklist`, { item, done, note: '', base_version: confirmed?.version });
      setVersion((n) => n + 1);
    } catch (err) {
      setError(err instanceof ApiError && err.items.length ? err.items.map((i) => i.msg).join('; ') : String((err as Error).message));
    }
  };

  const confirm = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await post(`sections/${id}/level`, { level: choice, justification: why });
      setVersion((n) => n + 1);
      refresh();
    } catch (err) {
      setError(err instanceof ApiError && err.items.length ? err.items.map((i) => i.msg).join('; ') : String((err as Error).message));
    }
  };

  return (
    <article class="risk-card" aria-labelledby="risk-card-title">
      <h2 id="risk-card-title">{id} <span class="muted small">#{row.rank} · {t('risk')} {fixed(row.risk, 2)}</span></h2>
      <section aria-label={t('risk_terms')}>
        <Bar name="threat" value={row.threat} part={detail?.contributions.threat ?? 0} />
        <Bar name="vulnerability" value={row.vulnerability} part={detail?.contributions.vulnerability ?? 0} />
        <Bar name="impact" value={row.impact} part={detail?.contributions.impact ?? 0} />
        {!row.vulnerability_known && <p class="muted small">{t('vulnerability_assumed')}</p>}
      </section>
      <section>
        <h3>{t('reasons')}</h3>
        <ul class="reasons">{row.reasons.map((r, i) => <li key={i}>{r}</li>)}</ul>
        {detail && (
          <p data-trend={trend}>{t('trend')}: <strong>{t(['up', 'down', 'flat'].includes(trend ?? '') ? `trend.${trend}` : 'trend.unknown')}</strong> ({t('trend_ratio', { ratio: fixed(detail.threat.trend_ratio, 2), p: fixed(detail.threat.trend_p, 3) })})
            · {t('expected_next', { n: Number.isFinite(detail.threat.expected_next) ? Math.round(detail.threat.expected_next * 10) / 10 : '—' })}</p>
        )}
      </section>
      <section>
        <h3>{t('forecast')}</h3>
        {forecast && forecast.forecast.length ? (
          <table class="compact">
            <thead><tr><th>{t('month')}</th><th>{t('forecast')}</th><th>{t('interval_80')}</th><th>{t('interval_95')}</th></tr></thead>
            <tbody>{forecast.forecast.map((f) => (
              <tr key={f.month}><td>{f.month}</td><td class="num">{fixed(f.forecast, 0)}</td>
                <td class="num">{fixed(f.lower_80, 0)}–{fixed(f.upper_80, 0)}</td><td class="num">{fixed(f.lower_95, 0)}–{fixed(f.upper_95, 0)}</td></tr>
            ))}</tbody>
          </table>
        ) : <p class="muted">{t('no_forecast')}</p>}
      </section>
      <section>
        <h3>{t('level')}</h3>
        <p>{t('proposed')}: <LevelChip level={level?.proposed_level ?? row.proposed_level} /> · {t('confirmed')}: <LevelChip level={confirmed?.level} />
          {confirmed && <span class="muted small"> ({confirmed.confirmed_by}, {formatShort(confirmed.recorded_at)})</span>}</p>
        {before && after && before.level !== after.level && (
          <div class="before-after" aria-label={t('level_change')}>
            {[before, after].map((v, i) => (
              <div key={v.version} class={i ? 'after' : 'before'}>
                <strong>{i ? t('after') : t('before')}</strong> <LevelChip level={v.level} />
                <div class="small">{t('proposed')}: {v.proposed_level ? enumLabel('section_impact_level', v.proposed_level) : '—'}</div>
                <div class="small">{v.confirmed_by} · {formatShort(v.recorded_at)}</div>
                {v.justification && <div class="small">“{v.justification}”</div>}
              </div>
            ))}
          </div>
        )}
        <h4>{t('reactions')}</h4>
        {/* Ticks are records of the confirmed level (the Levels page shows the same). */}
        <ul class="checklist">{reactions.map((r, i) => {
          const tick = confirmed?.checklist?.[String(i)];
          return (
            <li key={i}><label><input type="checkbox" checked={!!tick?.done}
              disabled={!confirmed || !may(user, 'set_impact_level')} onChange={() => tickOff(i, !tick?.done)} /> {r}</label>
              {tick?.done && <span class="muted small"> ({tick.by}, {formatShort(tick.at)})</span>}</li>
          );
        })}</ul>
        {may(user, 'set_impact_level') && (
          <form class="confirm-level" onSubmit={confirm}>
            <label for="level-choice">{t('set_level')}</label>
            <select id="level-choice" value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}>
              {LEVELS.map((l) => <option key={l} value={l}>{enumLabel('section_impact_level', l)}</option>)}
            </select>
            <label for="level-why">{t('justification')}{choice !== row.proposed_level && <span class="required" aria-hidden="true"> *</span>}</label>
            <textarea id="level-why" rows={2} value={why} aria-required={choice !== row.proposed_level} onInput={(e) => setWhy((e.target as HTMLTextAreaElement).value)} />
            {error && <p class="error" role="alert">{error}</p>}
            <button type="submit" class="primary">{t('confirm_level')}</button>
          </form>
        )}
      </section>
      <section>
        <h3>{t('solutions')}</h3>
        {open.length ? (
          <table class="compact">
            <thead><tr><th>{t('recommendation')}</th><th>{t('owner')}</th><th>{t('deadline')}</th><th>{t('status')}</th></tr></thead>
            <tbody>{open.map((r) => <tr key={r.id}><td>{r.text}</td><td>{r.owner}</td><td>{r.deadline}</td><td>{t(`rec_status.${r.status}`)}</td></tr>)}</tbody>
          </table>
        ) : <p class="muted">{t('no_open_recommendations')}</p>}
      </section>
      <section>
        <h3>{t('recent_alerts')}</h3>
        {alerts.length ? <ul class="alerts">{alerts.map((a) => (
          <li key={a.id} class={`sev-${a.severity}`}><strong>{t(`severity.${a.severity}`)}</strong> · {a.first_day}–{a.last_day} · {t(`alert_status.${a.status}`)}<br /><span class="small">{a.explanation}</span></li>
        ))}</ul> : <p class="muted">{t('no_alerts')}</p>}
      </section>
    </article>
  );
}

export function RiskPage({ user, view, setView, version }: { user: User; view: View; setView(v: View): void; version: number }) {
  const [table, setTable] = useState<RiskTable | null>(null);
  const [state, setState] = useState<'loading' | 'ok' | 'unavailable'>('loading');
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    get<RiskTable>('risk').then((r) => { setTable(r); setState('ok'); }).catch(() => setState('unavailable'));
  }, [version, refresh]);
  const rows = table?.sections ?? [];
  const current = rows.find((r) => r.section_id === view.card) ?? null;
  const open = (id: string) => setView({ ...view, card: id });
  return (
    <div class="risk-page">
      <section class="risk-ranking" aria-labelledby="ranking-title">
        <h2 id="ranking-title">{t('risk_ranking')}</h2>
        {table && <p class="muted small">{t('risk_period', { month: table.period.month })}</p>}
        {state === 'unavailable' && <p class="muted">{t('not_available')}</p>}
        <ol class="ranking" aria-label={t('risk_ranking')}>
          {rows.slice(0, 60).map((r) => (
            <li key={r.section_id}>
              <button class={`rank-row${r.section_id === view.card ? ' active' : ''}`} aria-current={r.section_id === view.card ? 'true' : undefined}
                data-section={r.section_id} onClick={() => open(r.section_id)}>
                <span class="rank">{r.rank}</span> <span class="sid">{r.section_id}</span>
                <span class="mini-bars" aria-hidden="true">
                  <i class="bar-threat" style={{ width: `${r.threat * 40}px` }} />
                  <i class="bar-vulnerability" style={{ width: `${r.vulnerability * 40}px` }} />
                  <i class="bar-impact" style={{ width: `${r.impact * 40}px` }} />
                </span>
                <span class="num">{fixed(r.risk, 2)}</span> <LevelChip level={r.confirmed_level ?? r.proposed_level} />
              </button>
            </li>
          ))}
        </ol>
      </section>
      <section class="risk-detail">
        {current ? <RiskCard row={current} user={user} refresh={() => setRefresh((n) => n + 1)} />
          : <p class="muted">{t('choose_section')}</p>}
      </section>
    </div>
  );
}
