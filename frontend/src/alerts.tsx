// Alerts as work: a card per alert with its one-line summary in the reader's language,
// its status and who has it; acknowledge, assign, note, close with an outcome; the
// statistics one click away; the false-alarm rate of the closures.
import { useEffect, useState } from 'preact/hooks';
import { get, may, post, type User } from './api';
import { formatShort, formatTime, t } from './i18n';
import { duration, phraseText, refusal, type AlertCard } from './ops';

type Tab = 'open' | 'closed' | 'statistics';
interface Assignee { username: string; full_name: string; role: string }
interface Rate { closed: number; by_outcome: Record<string, number>; false_alarm_rate: number | null }
interface AlertStats extends Rate {
  by_severity: (Rate & { severity: string })[]; by_method: (Rate & { method: string })[];
  time_to_acknowledge: { severity: string; count: number; median_s: number | null; p90_s: number | null }[];
  open: number; acknowledged: number;
}

const OUTCOMES = ['confirmed', 'false_alarm', 'already_known'];

export function AlertsPage({ user, version, item, setItem }: {
  user: User; version: number; item: string | null; setItem(item: string | null): void;
}) {
  const tab: Tab = item === 'closed' || item === 'statistics' ? item : 'open';
  const focus = item && !['closed', 'statistics'].includes(item) ? item : null;
  const [alerts, setAlerts] = useState<AlertCard[] | null>(null);
  const [stats, setStats] = useState<AlertStats | null>(null);
  const [people, setPeople] = useState<Assignee[]>([]);
  const [error, setError] = useState<string | null>(null);
  const canWork = may(user, 'change_status');

  const load = async () => {
    if (tab === 'statistics') { setStats(await get<AlertStats>('alerts/statistics')); return; }
    const answer = await get<{ alerts: AlertCard[] }>(`alerts?limit=300${tab === 'closed' ? '&status=closed' : ''}`);
    setAlerts(tab === 'open' ? answer.alerts.filter((a) => a.status !== 'closed') : answer.alerts);
  };
  useEffect(() => { load().catch((e) => setError(refusal(e))); }, [tab, version]);
  useEffect(() => { if (canWork) get<{ assignees: Assignee[] }>('alerts/assignees').then((a) => setPeople(a.assignees)).catch(() => {}); }, []);
  useEffect(() => {
    if (focus) document.getElementById(`alert-${focus}`)?.scrollIntoView({ block: 'center' });
  }, [focus, alerts]);

  const replace = (a: AlertCard) => setAlerts((old) => (old ?? []).map((x) => (x.id === a.id ? a : x))
    .filter((x) => tab !== 'open' || x.status !== 'closed'));

  return (
    <div class="work-page alerts-page">
      <div class="work-head"><h2>{t('alerts.title')}</h2></div>
      <div class="tabs" role="tablist">
        {(['open', 'closed', 'statistics'] as Tab[]).map((id) => (
          <button key={id} role="tab" aria-selected={tab === id} class={tab === id ? 'active' : ''}
            onClick={() => setItem(id === 'open' ? null : id)}>{t(`alerts.tab.${id}`)}</button>
        ))}
      </div>
      {error && <p class="error notice" role="alert">{error}</p>}
      {tab === 'statistics' ? <AlertStatsView stats={stats} /> : (
        <div class="cards">
          {alerts === null && <p class="empty">{t('loading')}</p>}
          {alerts?.length === 0 && <p class="empty">{t('alerts.none')}</p>}
          {alerts?.map((a) => <AlertCardView key={a.id} alert={a} canWork={canWork && a.origin === user.node_id}
            people={people} onChange={replace} focused={a.id === focus} />)}
        </div>
      )}
    </div>
  );
}

function AlertCardView({ alert, canWork, people, onChange, focused }: {
  alert: AlertCard; canWork: boolean; people: Assignee[]; onChange(a: AlertCard): void; focused: boolean;
}) {
  const [open, setOpen] = useState(focused);
  const [note, setNote] = useState('');
  const [assignee, setAssignee] = useState('');
  const [outcome, setOutcome] = useState('');
  const [closing, setClosing] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const act = async (path: string, body: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    try {
      onChange(await post<AlertCard>(`alerts/${alert.id}/${path}`, { ...body, base_version: alert.version }));
      if (path === 'notes') setNote('');
    } catch (e) {
      setError(refusal(e));
    } finally {
      setBusy(false);
    }
  };

  const status = alert.status === 'closed'
    ? `${t('alerts.status.closed')}: ${t(`alerts.outcome.${alert.outcome}`)} (${alert.closed_by}, ${alert.closed_at ? formatShort(alert.closed_at) : ''})`
    : alert.status === 'acknowledged'
      ? `${t('alerts.status.acknowledged')}: ${alert.acknowledged_by}, ${alert.acknowledged_at ? formatShort(alert.acknowledged_at) : ''}`
      : t('alerts.status.open');
  return (
    <article id={`alert-${alert.id}`} class={`alert-card sev-${alert.severity} status-${alert.status} ${focused ? 'focused' : ''}`}
      aria-label={phraseText(alert.summary)} tabIndex={-1}>
      <header>
        <span class={`badge sev-badge sev-${alert.severity}`}>{t(`severity.${alert.severity}`)}</span>
        <span class={`badge status-badge alert-${alert.status}`}>{status}</span>
        {alert.reopened && alert.status === 'open' && <span class="badge">{t('alerts.reopened')}</span>}
        {alert.assigned_to && <span class="badge">{t('alerts.assigned', { who: alert.assigned_to })}</span>}
      </header>
      <p class="alert-summary">{phraseText(alert.summary)}</p>
      <p class="links small">
        {alert.section_id && <a href={`#/levels?item=${alert.section_id}`}>{t('alerts.section', { section: alert.section_id })}</a>}
        {alert.section_id && ' · '}
        {alert.section_id && <a href={`#/map?w=30d&section=${alert.section_id}`}>{t('alerts.events', { n: alert.event_ids.length })}</a>}
        {' · '}
        <button class="link" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? t('alerts.hide') : t('alerts.statistics')}</button>
      </p>
      {open && (
        <div class="alert-detail small">
          <p>{alert.explanation}</p>
          <p class="muted">{t('alerts.figures', { observed: alert.observed ?? '?', expected: alert.expected ?? '?', methods: (alert.methods ?? []).join(', '), first: alert.first_day, last: alert.last_day })}</p>
          {alert.notes.length > 0 && <ul class="notes">{alert.notes.map((n, i) => <li key={i}>{formatTime(n.at)} · {n.by}: {n.text}</li>)}</ul>}
        </div>
      )}
      {!open && alert.notes.length > 0 && <p class="small muted">{t('alerts.notes', { n: alert.notes.length })}: {alert.notes[alert.notes.length - 1].text}</p>}
      {canWork && alert.status !== 'closed' && (
        <div class="alert-actions">
          {alert.status === 'open' && <button class="primary" disabled={busy} onClick={() => act('acknowledge', {})}>{t('alerts.acknowledge')}</button>}
          <span class="inline">
            <select aria-label={t('alerts.assign_to')} value={assignee} onChange={(e) => setAssignee((e.target as HTMLSelectElement).value)}>
              <option value="">{t('alerts.assign_to')}…</option>
              {people.map((p) => <option key={p.username} value={p.username}>{p.full_name} ({t(`role.${p.role}`)})</option>)}
            </select>
            <button disabled={busy || !assignee} onClick={() => act('assign', { username: assignee })}>{t('alerts.assign')}</button>
          </span>
          <form class="inline" onSubmit={(e) => { e.preventDefault(); if (note.trim()) act('notes', { text: note }); }}>
            <input aria-label={t('alerts.note')} placeholder={t('alerts.note')} value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
            <button type="submit" disabled={busy || !note.trim()}>{t('alerts.add_note')}</button>
          </form>
          <form class="inline close-form" onSubmit={(e) => { e.preventDefault(); if (outcome) act('close', { outcome, note: closing }); }}>
            <select aria-label={t('alerts.outcome')} value={outcome} onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)}>
              <option value="">{t('alerts.outcome')}…</option>
              {OUTCOMES.map((o) => <option key={o} value={o}>{t(`alerts.outcome.${o}`)}</option>)}
            </select>
            <input aria-label={t('alerts.closing_note')} placeholder={t('alerts.closing_note')} value={closing} onInput={(e) => setClosing((e.target as HTMLInputElement).value)} />
            <button type="submit" disabled={busy || !outcome}>{t('alerts.close')}</button>
          </form>
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </article>
  );
}

function AlertStatsView({ stats }: { stats: AlertStats | null }) {
  if (!stats) return <p class="empty">{t('loading')}</p>;
  const rate = (r: number | null) => (r === null ? '—' : `${Math.round(r * 1000) / 10} %`);
  return (
    <div class="stats-grid">
      <section class="card">
        <h3>{t('alerts.stat.rate')}</h3>
        <p class="big">{rate(stats.false_alarm_rate)}</p>
        <p class="muted">{t('alerts.stat.closed', { n: stats.closed })} · {OUTCOMES.map((o) => `${t(`alerts.outcome.${o}`)}: ${stats.by_outcome[o] ?? 0}`).join(' · ')}</p>
        <p class="muted">{t('alerts.stat.now', { open: stats.open, acknowledged: stats.acknowledged })}</p>
      </section>
      <section class="card">
        <h3>{t('alerts.stat.by_severity')}</h3>
        <table class="work-table"><tbody>
          {stats.by_severity.map((s) => <tr key={s.severity}><td>{t(`severity.${s.severity}`)}</td><td class="num">{s.closed}</td><td class="num">{rate(s.false_alarm_rate)}</td></tr>)}
        </tbody></table>
        <h3>{t('alerts.stat.by_method')}</h3>
        <table class="work-table"><tbody>
          {stats.by_method.map((s) => <tr key={s.method}><td>{s.method}</td><td class="num">{s.closed}</td><td class="num">{rate(s.false_alarm_rate)}</td></tr>)}
        </tbody></table>
      </section>
      <section class="card">
        <h3>{t('alerts.stat.acknowledge')}</h3>
        <table class="work-table"><tbody>
          {stats.time_to_acknowledge.map((s) => <tr key={s.severity}><td>{t(`severity.${s.severity}`)}</td><td class="num">{s.count}</td>
            <td class="num">{s.median_s === null ? '—' : duration(s.median_s)}</td><td class="num">{s.p90_s === null ? '—' : duration(s.p90_s)}</td></tr>)}
        </tbody></table>
      </section>
    </div>
  );
}
