// The duty log and the handover: write the shift down as it goes, hand it over with
// what is open, and sign off the handover as the incoming officer; past shifts searched.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, may, post, type User } from './api';
import { enumLabel, formatShort, formatTime, t, typeLabel } from './i18n';
import { phraseText, refusal, type Phrase } from './ops';

interface Entry { id: string; author: string; entry_type: string; text: string; at: string }
interface Handover {
  id: string | null; version: number | null; from_officer: string; to_officer: string | null;
  period_from: string; period_to: string; notes: string; status: string;
  signed_off_by: string | null; signed_off_at: string | null;
  open: {
    queue: { waiting: number; overdue: number; returned: number };
    reports_waiting: { event_id: string; type: string; section_id: string | null; entered_at: string; serious: boolean }[];
    reports_returned: { event_id: string; type: string; by: string; note: string }[];
    alerts: { id: string; severity: string; status: string; assigned_to: string | null; summary: Phrase }[];
    alerts_count: number;
    tasks: { id: string; unit: string; status: string; priority: string; instructions: string }[];
    tasks_count: number;
    levels_raised: { section_id: string; from: string | null; to: string; by: string; at: string }[];
    recommendations_overdue: { id: string; section_id: string; text: string; owner: string; deadline: string }[];
    recommendations_overdue_count: number;
  };
  happened: {
    events: { count: number; by_category: Record<string, number> };
    queue_decisions: Record<string, number>;
    alerts_closed: Record<string, number>;
    tasks_finished: Record<string, number>;
    log: Entry[];
  };
}

const TYPES = ['decision', 'call', 'information', 'instruction'];

export function ShiftPage({ user, version }: { user: User; version: number }) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [type, setType] = useState('information');
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const [draft, setDraft] = useState<Handover | null>(null);
  const [notes, setNotes] = useState('');
  const [past, setPast] = useState<Handover[]>([]);
  const [pastQuery, setPastQuery] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const canWrite = may(user, 'change_status');

  const loadLog = async () => {
    if (search.trim()) {
      setEntries((await get<{ entries: Entry[] }>(`duty-log?limit=200&q=${encodeURIComponent(search.trim())}`)).entries);
      return;
    }
    const current = await get<Handover>('handovers/draft');
    setEntries((await get<{ entries: Entry[] }>(`duty-log?limit=500&since=${encodeURIComponent(current.period_from)}`)).entries);
  };
  const loadPast = async () => {
    const q = pastQuery.trim() ? `&q=${encodeURIComponent(pastQuery.trim())}` : '';
    setPast((await get<{ handovers: Handover[] }>(`handovers?limit=30${q}`)).handovers);
  };
  useEffect(() => { loadLog().catch((e) => setError(refusal(e))); loadPast().catch(() => {}); }, [version]);

  const write = async () => {
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await post('duty-log', { entry_type: type, text });
      setText('');
      await loadLog();
      box.current?.focus();
    } catch (e) { setError(refusal(e)); } finally { setBusy(false); }
  };
  const prepare = async () => {
    setError(null);
    try { setDraft(await get<Handover>('handovers/draft')); } catch (e) { setError(refusal(e)); }
  };
  const handOver = async () => {
    setBusy(true);
    setError(null);
    try {
      await post('handovers', { notes });
      setDraft(null);
      setNotes('');
      await Promise.all([loadLog(), loadPast()]);
    } catch (e) { setError(refusal(e)); } finally { setBusy(false); }
  };
  const signOff = async (h: Handover) => {
    setBusy(true);
    setError(null);
    try {
      await post(`handovers/${h.id}/sign-off`, { base_version: h.version });
      await loadPast();
    } catch (e) { setError(refusal(e)); } finally { setBusy(false); }
  };

  return (
    <div class="work-page shift-page">
      <div class="work-head"><h2>{t('shift.title')}</h2></div>
      {error && <p class="error notice" role="alert">{error}</p>}
      <div class="shift-body">
        <section class="card log-card" aria-label={t('shift.log')}>
          <h3>{t('shift.log')}</h3>
          {canWrite && (
            <form class="log-form" onSubmit={(e) => { e.preventDefault(); write(); }}>
              <div class="segmented" role="radiogroup" aria-label={t('shift.entry_type')}>
                {TYPES.map((k) => (
                  <label key={k} class={`chip ${type === k ? 'on' : ''}`}>
                    <input type="radio" name="entry-type" value={k} checked={type === k} onChange={() => setType(k)} /> {t(`shift.type.${k}`)}
                  </label>
                ))}
              </div>
              <label for="log-text" class="small muted">{t('shift.entry')}</label>
              <textarea id="log-text" ref={box} rows={2} value={text}
                onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
                onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); write(); } }} />
              <button type="submit" class="primary" disabled={busy || !text.trim()}>{t('shift.write')} <kbd>Ctrl+Enter</kbd></button>
            </form>
          )}
          <form class="inline search" onSubmit={(e) => { e.preventDefault(); loadLog().catch((err) => setError(refusal(err))); }}>
            <input aria-label={t('shift.search_log')} placeholder={t('shift.search_log')} value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
            <button type="submit">{t('shift.search')}</button>
          </form>
          <ol class="log">
            {entries.map((e) => (
              <li key={e.id} class={`log-entry type-${e.entry_type}`}>
                <span class="muted small">{formatShort(e.at)}</span> <span class={`badge type-badge type-${e.entry_type}`}>{t(`shift.type.${e.entry_type}`)}</span> {e.text} <span class="muted small">— {e.author}</span>
              </li>
            ))}
          </ol>
          {!entries.length && <p class="empty">{search ? t('shift.nothing_found') : t('shift.empty_log')}</p>}
        </section>
        <section class="card handover-card" aria-label={t('shift.handover')}>
          <h3>{t('shift.handover')}</h3>
          {canWrite && !draft && <button class="primary" onClick={prepare}>{t('shift.prepare')}</button>}
          {draft && (
            <div class="handover-draft">
              <HandoverView h={draft} />
              <label for="handover-notes">{t('shift.notes')}</label>
              <textarea id="handover-notes" rows={3} value={notes} onInput={(e) => setNotes((e.target as HTMLTextAreaElement).value)} />
              <div class="buttons">
                <button class="primary" disabled={busy} onClick={handOver}>{t('shift.hand_over')}</button>
                <button onClick={() => setDraft(null)}>{t('cancel')}</button>
              </div>
            </div>
          )}
          <h3>{t('shift.past')}</h3>
          <form class="inline search" onSubmit={(e) => { e.preventDefault(); loadPast().catch((err) => setError(refusal(err))); }}>
            <input aria-label={t('shift.search_past')} placeholder={t('shift.search_past')} value={pastQuery} onInput={(e) => setPastQuery((e.target as HTMLInputElement).value)} />
            <button type="submit">{t('shift.search')}</button>
          </form>
          {past.map((h) => (
            <details key={h.id} class={`past-shift status-${h.status}`} open={h.status !== 'signed_off'}>
              <summary>
                {formatShort(h.period_from)} – {formatShort(h.period_to)} · {h.from_officer}
                {h.status === 'signed_off' ? ` → ${h.signed_off_by} ✓` : ` · ${t('shift.awaiting_sign_off')}`}
              </summary>
              <HandoverView h={h} />
              {h.status !== 'signed_off' && canWrite && h.from_officer !== user.username && (
                <button class="primary" disabled={busy} onClick={() => signOff(h)}>{t('shift.sign_off')}</button>
              )}
              {h.status === 'signed_off' && <p class="muted small">{t('shift.signed', { who: h.signed_off_by ?? '', at: h.signed_off_at ? formatTime(h.signed_off_at) : '' })}</p>}
            </details>
          ))}
          {!past.length && <p class="empty">{t('shift.no_past')}</p>}
        </section>
      </div>
    </div>
  );
}

function HandoverView({ h }: { h: Handover }) {
  const o = h.open;
  const happened = h.happened;
  return (
    <div class="handover">
      <p class="muted small">{formatTime(h.period_from)} – {formatTime(h.period_to)}</p>
      {h.notes && <blockquote>{h.notes}</blockquote>}
      <h4>{t('shift.open')}</h4>
      <ul>
        <li><b>{o.queue.waiting}</b> {t('shift.reports_waiting')} ({o.queue.overdue} {t('shift.overdue')}), <b>{o.queue.returned}</b> {t('shift.returned')}
          {o.reports_waiting.length > 0 && <ul class="small">{o.reports_waiting.slice(0, 8).map((r) => <li key={r.event_id}><a href={`#/queue`}>{typeLabel(r.type)}</a> · {r.section_id ?? t('inland')} · {formatShort(r.entered_at)}{r.serious ? ` · ${t('queue.serious_badge')}` : ''}</li>)}</ul>}
        </li>
        <li><b>{o.alerts_count}</b> {t('shift.open_alerts')}
          {o.alerts.length > 0 && <ul class="small">{o.alerts.slice(0, 8).map((a) => <li key={a.id}><a href={`#/alerts?item=${a.id}`}>{phraseText(a.summary)}</a>{a.assigned_to ? ` → ${a.assigned_to}` : ''}</li>)}</ul>}
        </li>
        <li><b>{o.tasks_count}</b> {t('shift.open_tasks')}
          {o.tasks.length > 0 && <ul class="small">{o.tasks.slice(0, 8).map((x) => <li key={x.id}><a href={`#/tasks?item=${x.id}`}>{x.unit}</a> · {t(`tasks.status.${x.status}`)} · {x.instructions}</li>)}</ul>}
        </li>
        <li><b>{o.levels_raised.length}</b> {t('shift.levels_raised')}
          {o.levels_raised.length > 0 && <ul class="small">{o.levels_raised.map((l) => <li key={`${l.section_id}${l.at}`}><a href={`#/levels?item=${l.section_id}`}>{l.section_id}</a>: {enumLabel('section_impact_level', l.from)} → {enumLabel('section_impact_level', l.to)} ({l.by})</li>)}</ul>}
        </li>
        <li><b>{o.recommendations_overdue_count}</b> {t('shift.recommendations_overdue')}
          {o.recommendations_overdue.length > 0 && <ul class="small">{o.recommendations_overdue.slice(0, 5).map((r) => <li key={r.id}>{r.section_id}: {r.text} ({r.owner}, {r.deadline})</li>)}</ul>}
        </li>
      </ul>
      <h4>{t('shift.happened')}</h4>
      <ul class="small">
        <li>{t('shift.events', { n: happened.events.count })}</li>
        <li>{t('shift.decisions')}: {Object.entries(happened.queue_decisions).map(([k, n]) => `${t(`shift.outcome.${k}`)} ${n}`).join(', ') || '—'}</li>
        <li>{t('shift.alerts_closed')}: {Object.entries(happened.alerts_closed).map(([k, n]) => `${t(`alerts.outcome.${k}`)} ${n}`).join(', ')}</li>
        <li>{t('shift.tasks_finished')}: {Object.entries(happened.tasks_finished).map(([k, n]) => `${t(`tasks.status.${k}`)} ${n}`).join(', ')}</li>
        <li>{t('shift.log_entries', { n: happened.log.length })}</li>
      </ul>
    </div>
  );
}
