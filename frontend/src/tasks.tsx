// Tasking: the board of tasks by status, the form that sends a unit or a post to an
// event, a section or a point, the unit's answers as they come (console, TAK, post),
// and response times.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, may, post, type User } from './api';
import { formatShort, formatTime, t, typeLabel } from './i18n';
import { change } from './outbox';
import { duration, refusal, type DurationGroup, type TaskRecord, type TaskUnit } from './ops';

const COLUMNS = ['assigned', 'acknowledged', 'en_route', 'on_scene', 'finished'] as const;
const NEXT: Record<string, string[]> = {
  assigned: ['acknowledged', 'en_route', 'on_scene'], acknowledged: ['en_route', 'on_scene'],
  en_route: ['on_scene'], on_scene: [],
};
const FINAL = ['done', 'declined', 'cancelled'];
interface TaskStats { response: DurationGroup[]; acknowledgement: DurationGroup[]; tasks: number }

/** What a new task is for, from the link that opened the form ("event:<id>", ...). */
function prefill(spec: string | null): { kind: string; value: string } {
  const [kind, value = ''] = (spec ?? '').split(':', 2);
  return ['event', 'section', 'point'].includes(kind) ? { kind, value } : { kind: 'event', value: '' };
}

export function TasksPage({ user, version, item, forWhat, setItem }: {
  user: User; version: number; item: string | null; forWhat: string | null; setItem(item: string | null, forWhat?: string | null): void;
}) {
  const [tasks, setTasks] = useState<TaskRecord[] | null>(null);
  const [stats, setStats] = useState<TaskStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(Date.now());
  const canTask = may(user, 'task_units');

  const load = async () => {
    const answer = await get<{ tasks: TaskRecord[] }>('tasks?limit=300');
    const dayAgo = Date.now() - 86400e3;
    setTasks(answer.tasks.filter((x) => !FINAL.includes(x.status)
      || Date.parse(x.history[x.history.length - 1]?.at ?? x.dispatched_at) > dayAgo));
    setStats(await get<TaskStats>('tasks/statistics'));
    setTick(Date.now());
  };
  useEffect(() => { load().catch((e) => setError(refusal(e))); }, [version]);
  useEffect(() => {
    const timer = setInterval(() => setTick(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);

  const selected = tasks?.find((x) => x.id === item) ?? null;
  const column = (x: TaskRecord) => (FINAL.includes(x.status) ? 'finished' : x.status);
  const response = stats?.response ?? [];
  const median = (groups: DurationGroup[]) => groups.length ? groups.map((g) => `${t(`tasks.priority.${g.priority}`)}: ${g.median_s === null ? '—' : duration(g.median_s)} / ${g.p90_s === null ? '—' : duration(g.p90_s)} (${g.count})`).join(' · ') : '—';
  return (
    <div class="work-page tasks-page">
      <div class="work-head">
        <h2>{t('tasks.title')}</h2>
        <span class="muted small">{t('tasks.response')}: {median(response)}</span>
        {canTask && <button class="primary" onClick={() => setItem(null, forWhat ?? 'event:')}>{t('tasks.new')}</button>}
      </div>
      {error && <p class="error notice" role="alert">{error}</p>}
      <div class="tasks-body">
        <div class="board" aria-label={t('tasks.board')}>
          {COLUMNS.map((c) => (
            <section key={c} class={`board-column col-${c}`} aria-label={t(`tasks.column.${c}`)}>
              <h3>{t(`tasks.column.${c}`)} <span class="count">{(tasks ?? []).filter((x) => column(x) === c).length}</span></h3>
              {(tasks ?? []).filter((x) => column(x) === c).map((x) => (
                <button key={x.id} class={`task-card prio-${x.priority} ${x.id === item ? 'selected' : ''} status-${x.status}`}
                  onClick={() => setItem(x.id)} aria-pressed={x.id === item}>
                  <span class="task-unit">{x.unit.callsign}</span>
                  <span class={`badge prio-badge prio-${x.priority}`}>{t(`tasks.priority.${x.priority}`)}</span>
                  <span class="task-target small">{targetText(x)}</span>
                  <span class="muted small">{FINAL.includes(x.status) ? t(`tasks.status.${x.status}`) : duration((tick - Date.parse(x.dispatched_at)) / 1000)}</span>
                </button>
              ))}
            </section>
          ))}
        </div>
        {forWhat !== null && canTask
          ? <TaskForm spec={forWhat} onDone={(id) => { setItem(id); load().catch(() => {}); }} onCancel={() => setItem(null)} />
          : selected && <TaskDetail task={selected} user={user} onChange={() => load().catch(() => {})} />}
      </div>
    </div>
  );
}

function targetText(x: TaskRecord): string {
  if (x.target.kind === 'event') return `${typeLabel(x.target.event_type ?? '')} · ${x.section_id ?? t('inland')}`;
  if (x.target.kind === 'section') return x.target.section_id ?? '';
  const loc = x.location;
  return loc ? `${loc.lat.toFixed(4)}, ${loc.lon.toFixed(4)}` : '';
}

function TaskForm({ spec, onDone, onCancel }: { spec: string; onDone(id: string): void; onCancel(): void }) {
  const initial = prefill(spec);
  const [units, setUnits] = useState<TaskUnit[]>([]);
  const [unit, setUnit] = useState('');
  const [kind, setKind] = useState(initial.kind);
  const [eventId, setEventId] = useState(initial.kind === 'event' ? initial.value : '');
  const [section, setSection] = useState(initial.kind === 'section' ? initial.value : '');
  const [point, setPoint] = useState(initial.kind === 'point' ? initial.value : '');
  const [priority, setPriority] = useState('priority');
  const [instructions, setInstructions] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLSelectElement>(null);
  useEffect(() => {
    get<{ units: TaskUnit[] }>('tasks/units').then((u) => setUnits(u.units)).catch((e) => setError(refusal(e)));
    first.current?.focus();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const target: Record<string, unknown> = { kind };
    if (kind === 'event') target.event_id = eventId.trim();
    if (kind === 'section') target.section_id = section.trim();
    if (kind === 'point') {
      const [lon, lat] = point.split(',').map((s) => Number(s.trim()));
      target.location = { lon, lat };
    }
    const chosen = units.find((u) => u.id === unit);
    try {
      const made = await post<TaskRecord>('tasks', { unit_kind: chosen?.kind ?? 'asset', unit_id: unit, target, priority, instructions });
      onDone(made.id);
    } catch (err) { setError(refusal(err)); } finally { setBusy(false); }
  };

  return (
    <form class="task-form queue-detail" onSubmit={submit} onKeyDown={(e) => { if (e.key === 'Escape') onCancel(); }} aria-label={t('tasks.new')}>
      <h3>{t('tasks.new')}</h3>
      <label for="task-unit">{t('tasks.unit')} <span class="req">*</span></label>
      <select id="task-unit" ref={first} required aria-required="true" value={unit} onChange={(e) => setUnit((e.target as HTMLSelectElement).value)}>
        <option value="">{t('tasks.choose_unit')}</option>
        {units.map((u) => <option key={u.id} value={u.id}>{u.callsign} · {t(`tasks.unit_kind.${u.kind}`)}{u.open_tasks ? ` · ${t('tasks.busy', { n: u.open_tasks })}` : ''}</option>)}
      </select>
      <fieldset class="target-kind">
        <legend>{t('tasks.target')}</legend>
        {['event', 'section', 'point'].map((k) => (
          <label key={k}><input type="radio" name="target-kind" value={k} checked={kind === k} onChange={() => setKind(k)} /> {t(`tasks.target_kind.${k}`)}</label>
        ))}
      </fieldset>
      {kind === 'event' && <><label for="task-event">{t('tasks.event_id')} <span class="req">*</span></label>
        <input id="task-event" required value={eventId} onInput={(e) => setEventId((e.target as HTMLInputElement).value)} /></>}
      {kind === 'section' && <><label for="task-section">{t('tasks.section_id')} <span class="req">*</span></label>
        <input id="task-section" required placeholder="AF-TJ-004" value={section} onInput={(e) => setSection((e.target as HTMLInputElement).value)} /></>}
      {kind === 'point' && <><label for="task-point">{t('tasks.point')} <span class="req">*</span></label>
        <input id="task-point" required placeholder="68.6000, 37.2200" value={point} onInput={(e) => setPoint((e.target as HTMLInputElement).value)} /></>}
      <label for="task-priority">{t('tasks.priority')}</label>
      <select id="task-priority" value={priority} onChange={(e) => setPriority((e.target as HTMLSelectElement).value)}>
        {['routine', 'priority', 'immediate'].map((p) => <option key={p} value={p}>{t(`tasks.priority.${p}`)}</option>)}
      </select>
      <label for="task-instructions">{t('tasks.instructions')}</label>
      <textarea id="task-instructions" rows={3} value={instructions} onInput={(e) => setInstructions((e.target as HTMLTextAreaElement).value)} />
      {error && <p class="error" role="alert">{error}</p>}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy || !unit}>{t('tasks.dispatch')}</button>
        <button type="button" onClick={onCancel}>{t('cancel')}</button>
      </div>
    </form>
  );
}

function TaskDetail({ task, user, onChange }: { task: TaskRecord; user: User; onChange(): void }) {
  const [note, setNote] = useState('');
  const [result, setResult] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const answer = may(user, 'report_events');
  const open = !FINAL.includes(task.status);

  const move = async (status: string) => {
    setBusy(true);
    setError(null);
    try {
      // With no link the new status waits in the outbox and is sent in its turn.
      const outcome = await change({ kind: 'task_status', path: `tasks/${task.id}/status`, body: { status, note },
        title: `${task.unit.callsign} · ${t(`tasks.status.${status}`)}` });
      setNote('');
      if (outcome.queued !== undefined) setError(t('outbox.queued'));
      onChange();
    } catch (e) { setError(refusal(e)); } finally { setBusy(false); }
  };
  const finish = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(`tasks/${task.id}/outcome`, { result, summary: note });
      setNote('');
      onChange();
    } catch (e) { setError(refusal(e)); } finally { setBusy(false); }
  };

  return (
    <section class="queue-detail task-detail" aria-label={task.unit.callsign}>
      <h3>{task.unit.callsign} · {t(`tasks.status.${task.status}`)}</h3>
      <table class="fields"><tbody>
        <tr><th>{t('tasks.unit')}</th><td>{task.unit.name} ({t(`tasks.unit_kind.${task.unit.kind}`)}{task.unit.node ? ` ${task.unit.node}` : ''})</td></tr>
        <tr><th>{t('tasks.target')}</th><td>{targetText(task)}{task.target.event_id && <> · <a href={`#/map?event=${task.target.event_id}`}>{t('queue.on_map')}</a></>}</td></tr>
        <tr><th>{t('tasks.priority')}</th><td>{t(`tasks.priority.${task.priority}`)}</td></tr>
        <tr><th>{t('tasks.instructions')}</th><td>{task.instructions || '—'}</td></tr>
        <tr><th>{t('tasks.dispatched')}</th><td>{formatTime(task.dispatched_at)} · {task.dispatched_by}</td></tr>
        {task.declined_reason && <tr><th>{t('tasks.declined_reason')}</th><td>{task.declined_reason}</td></tr>}
        {task.outcome && <tr><th>{t('tasks.outcome')}</th><td>{t(`tasks.result.${String(task.outcome.result)}`)}{task.outcome.summary ? `: ${String(task.outcome.summary)}` : ''}</td></tr>}
      </tbody></table>
      <h3>{t('history')}</h3>
      <ol class="history">
        {task.history.map((h, i) => <li key={i}>{formatShort(h.at)} · <strong>{t(`tasks.status.${h.status}`)}</strong> · {h.by} · {t(`tasks.via.${h.via}`)}{h.note ? `: ${h.note}` : ''}</li>)}
      </ol>
      {open && answer && (
        <div class="task-actions">
          <label for="task-note">{t('tasks.note')}</label>
          <input id="task-note" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
          <div class="action-buttons">
            {(NEXT[task.status] ?? []).map((s) => <button key={s} disabled={busy} onClick={() => move(s)}>{t(`tasks.to.${s}`)}</button>)}
            <button class="danger" disabled={busy || !note.trim()} onClick={() => move('declined')} title={t('tasks.decline_needs')}>{t('tasks.to.declined')}</button>
            {may(user, 'task_units') && task.mine && <button disabled={busy} onClick={() => move('cancelled')}>{t('tasks.to.cancelled')}</button>}
          </div>
          {task.mine && (
            <form class="inline" onSubmit={(e) => { e.preventDefault(); if (result) finish(); }}>
              <select aria-label={t('tasks.outcome')} value={result} onChange={(e) => setResult((e.target as HTMLSelectElement).value)}>
                <option value="">{t('tasks.outcome')}…</option>
                {['confirmed', 'nothing_found', 'handled', 'other'].map((r) => <option key={r} value={r}>{t(`tasks.result.${r}`)}</option>)}
              </select>
              <button type="submit" class="primary" disabled={busy || !result}>{t('tasks.to.done')}</button>
            </form>
          )}
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}
