// Patrol plans (docs/patrols.md): a post's day from the security game. The sections shaded by
// their planned coverage per shift with the reason for each share, the day's schedule per
// team, and the duty officer's change to one assignment, which the node keeps as its own
// record beside the plan.
import { useEffect, useState } from 'preact/hooks';
import { API, get, may, post, type User } from './api';
import { formatNumber, formatShort, t } from './i18n';
import { refusal } from './ops';

interface PlanSummary { id: string; post_id: string; day: string; computed_at: string; computed_by: string }
interface SectionRow {
  section_id: string; value: number; detections: number; coverage: number[];
  attack_share: number; min_presence: number; reason: string;
}
interface ScheduleEntry {
  team_id: string; shift: string; section_id: string; leave_h: number; on_section_h: number;
  off_section_h: number; back_h: number; adjusted: boolean; note?: string;
}
interface Plan {
  id: string; post_id: string; day: string; computed_at: string; closed: string[];
  shifts: { name: string; start_h: number; hours: number }[];
  teams: { team_id: string; hours: number; speed_kmh: number }[];
  response: { w_value: number; w_coverage: number; fitted: boolean; incidents: number };
  expected: { plan: number; proportional: number; uniform: number };
  sections: SectionRow[]; schedule: ScheduleEntry[];
  adjustments: { id: string; team_id: string; shift: string; section_id: string | null; by: string; at: string }[];
}

/** Hours since the day's midnight as a local clock time ("26.5" → "02:30"). */
function clock(hours: number): string {
  const minutes = Math.round(hours * 60);
  return `${String(Math.floor(minutes / 60) % 24).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function tomorrow(): string {
  const d = new Date(Date.now() + 86400e3);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

const percent = (share: number) => `${formatNumber(Math.round(share * 100))} %`;
const signed = (share: number) => `${share > 0 ? '+' : ''}${percent(share)}`;

export function PatrolsPage({ user, version, item, setItem }: {
  user: User; version: number; item: string | null; setItem(item: string | null): void;
}) {
  const [plans, setPlans] = useState<PlanSummary[] | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const canPlan = may(user, 'task_units');

  const loadList = async () => setPlans((await get<{ plans: PlanSummary[] }>('patrols/plans?limit=100')).plans);
  const loadPlan = async (id: string) => setPlan(await get<Plan>(`patrols/plans/${id}`));
  useEffect(() => { loadList().catch((e) => setError(refusal(e))); }, [version]);
  useEffect(() => {
    setSaved(null);
    if (!item) { setPlan(null); return; }
    loadPlan(item).catch((e) => setError(refusal(e)));
  }, [item, version]);

  const sendAsTasks = async () => {
    if (!plan) return;
    setError(null);
    setSaved(null);
    try {
      const sent = await post<{ tasks: string[]; skipped: string[] }>(`patrols/plans/${plan.id}/tasks`);
      setSaved(t('patrols.sent', { n: sent.tasks.length, skipped: sent.skipped.join(', ') || '—' }));
    } catch (e) {
      setError(refusal(e));
    }
  };

  const adjust = async (entry: ScheduleEntry, sectionId: string) => {
    if (!plan) return;
    setError(null);
    setSaved(null);
    try {
      await post(`patrols/plans/${plan.id}/adjustments`, {
        team_id: entry.team_id, shift: entry.shift, section_id: sectionId || null,
      });
      await loadPlan(plan.id);
      setSaved(t('patrols.saved', { team: entry.team_id, shift: t(`patrols.shift.${entry.shift}`) }));
    } catch (e) {
      setError(refusal(e));
    }
  };

  return (
    <div class="work-page patrols-page">
      <div class="work-head">
        <h2>{t('patrols.title')}</h2>
        <label class="small">{t('patrols.plan')}{' '}
          <select id="patrol-plan" value={item ?? ''} onChange={(e) => setItem((e.target as HTMLSelectElement).value || null)}>
            <option value="">{t('patrols.choose')}</option>
            {(plans ?? []).map((p) => (
              <option key={p.id} value={p.id}>{`${p.post_id} · ${p.day} · ${formatShort(p.computed_at)}`}</option>))}
          </select>
        </label>
        {saved && <span class="notice ok small" role="status" id="patrol-saved">{saved}</span>}
      </div>
      {error && <p class="error notice" role="alert">{error}</p>}
      {canPlan && <PlanForm onDone={(id) => { loadList().catch(() => {}); setItem(id); }} onError={setError} />}
      {plans !== null && plans.length === 0 && !item && <p class="muted">{t('patrols.none')}</p>}
      {plan && (
        <div class="patrol-actions">
          <a id="patrol-csv" href={`${API}/patrols/plans/${plan.id}/schedule.csv`} download>{t('patrols.export_csv')}</a>
          {canPlan && <button id="patrol-tasks" onClick={() => { sendAsTasks().catch(() => {}); }}>{t('patrols.send_tasks')}</button>}
        </div>)}
      {plan && <PlanView plan={plan} canAdjust={canPlan} onAdjust={adjust} />}
    </div>
  );
}

function PlanForm({ onDone, onError }: { onDone(id: string): void; onError(message: string | null): void }) {
  const [postId, setPostId] = useState('');
  const [day, setDay] = useState(tomorrow());
  const [teams, setTeams] = useState('');
  const [presence, setPresence] = useState('0.2');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    onError(null);
    const parsed = teams.split(/[\s,;]+/).filter(Boolean).map((part) => {
      const [id, hours] = part.split(':');
      return { team_id: id, hours: hours ? Number(hours) : 8 };
    });
    try {
      const made = await post<{ id: string }>('patrols/plans', {
        post_id: postId.trim(), day, teams: parsed, crossing_presence: Number(presence) || 0,
      });
      onDone(made.id);
    } catch (err) {
      onError(refusal(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="patrol-form" onSubmit={submit} aria-label={t('patrols.compute')}>
      <label>{t('patrols.post')} <input id="patrol-post" value={postId} required onInput={(e) => setPostId((e.target as HTMLInputElement).value)} /></label>
      <label>{t('patrols.day')} <input id="patrol-day" type="date" value={day} required onInput={(e) => setDay((e.target as HTMLInputElement).value)} /></label>
      <label>{t('patrols.teams')} <input id="patrol-teams" value={teams} required onInput={(e) => setTeams((e.target as HTMLInputElement).value)} /></label>
      <label>{t('patrols.crossing_presence')} <input id="patrol-presence" type="number" min="0" max="1" step="0.05" value={presence} onInput={(e) => setPresence((e.target as HTMLInputElement).value)} /></label>
      <button class="primary" type="submit" disabled={busy}>{t('patrols.compute')}</button>
    </form>
  );
}

function PlanView({ plan, canAdjust, onAdjust }: {
  plan: Plan; canAdjust: boolean; onAdjust(entry: ScheduleEntry, sectionId: string): void;
}) {
  const open = plan.sections.filter((s) => !plan.closed.includes(s.section_id));
  const gain = (base: number) => (base > 0 ? signed(plan.expected.plan / base - 1) : '—');
  return (
    <div class="patrol-plan" id="patrol-plan-view" data-plan={plan.id}>
      <p class="small">
        {t('patrols.summary', { post: plan.post_id, day: plan.day })}{' · '}
        {t('patrols.vs_proportional', { gain: gain(plan.expected.proportional) })}{' · '}
        {t('patrols.vs_uniform', { gain: gain(plan.expected.uniform) })}{' · '}
        <span class="muted">{plan.response.fitted
          ? t('patrols.fitted', { incidents: plan.response.incidents, value: formatNumber(plan.response.w_value, 2), coverage: formatNumber(plan.response.w_coverage, 2) })
          : t('patrols.not_fitted', { incidents: plan.response.incidents })}</span>
      </p>
      <div class="patrol-columns">
        <table class="patrol-sections" aria-label={t('patrols.sections')}>
          <thead><tr>
            <th>{t('patrols.section')}</th><th>{t('patrols.value')}</th><th>{t('patrols.detections')}</th>
            {plan.shifts.map((s) => <th key={s.name}>{t(`patrols.shift.${s.name}`)}</th>)}
            <th>{t('patrols.attack_share')}</th><th>{t('patrols.why')}</th>
          </tr></thead>
          <tbody>
            {plan.sections.map((s) => (
              <tr key={s.section_id} data-section={s.section_id}>
                <td>{s.section_id}</td>
                <td>{formatNumber(s.value, 2)}</td>
                <td>{formatNumber(s.detections)}</td>
                {s.coverage.map((c, k) => (
                  <td key={k} class="coverage-cell" style={{ background: `rgba(196, 64, 40, ${Math.min(0.85, c)})` }}
                    title={t('patrols.coverage')}>{percent(c)}</td>))}
                <td>{percent(s.attack_share)}</td>
                <td class="small">{t(`patrols.reason.${s.reason}`)}</td>
              </tr>))}
          </tbody>
        </table>
        <table class="patrol-schedule" aria-label={t('patrols.schedule')}>
          <thead><tr>
            <th>{t('patrols.team')}</th><th>{t('patrols.shift_label')}</th><th>{t('patrols.section')}</th>
            <th>{t('patrols.hours')}</th><th />
          </tr></thead>
          <tbody>
            {plan.schedule.map((e) => (
              <tr key={`${e.team_id}|${e.shift}`} data-team={e.team_id} data-shift={e.shift}>
                <td>{e.team_id}</td>
                <td>{t(`patrols.shift.${e.shift}`)}</td>
                <td>{canAdjust
                  ? <select class="patrol-move" aria-label={t('patrols.move', { team: e.team_id })} value={e.section_id}
                      onChange={(ev) => onAdjust(e, (ev.target as HTMLSelectElement).value)}>
                      {open.map((s) => <option key={s.section_id} value={s.section_id}>{s.section_id}</option>)}
                      <option value="">{t('patrols.stay')}</option>
                    </select>
                  : e.section_id}</td>
                <td class="small">{t('patrols.times', { leave: clock(e.leave_h), on: clock(e.on_section_h), off: clock(e.off_section_h), back: clock(e.back_h) })}</td>
                <td>{e.adjusted && <span class="badge adjusted">{t('patrols.adjusted')}</span>}</td>
              </tr>))}
          </tbody>
        </table>
      </div>
      {plan.adjustments.length > 0 && (
        <ul class="small muted patrol-adjustments">
          {plan.adjustments.map((a) => (
            <li key={a.id}>{t('patrols.adjustment', { by: a.by, at: formatShort(a.at), team: a.team_id, shift: t(`patrols.shift.${a.shift}`), section: a.section_id ?? t('patrols.stay') })}</li>))}
        </ul>)}
    </div>
  );
}
