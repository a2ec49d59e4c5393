// Section levels from the console: the proposed level and why, confirm it or override it
// with a justification, and tick off the reaction checklist of the confirmed level.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, may, optional, post, type User } from './api';
import { enumLabel, formatShort, label, t } from './i18n';
import { refusal } from './ops';

interface RiskRow { section_id: string; rank: number; risk: number; proposed_level: string; confirmed_level: string | null }
interface Confirmed {
  id: string; version: number; level: string; proposed_level: string | null; overridden: boolean;
  justification: string; confirmed_by: string; recorded_at: string; reactions: string[];
  checklist: Record<string, { done: boolean; by: string; at: string; note: string }>;
}
interface SectionLevel {
  section_id: string; proposed_level: string | null; reasons: string[]; proposed_reactions: string[];
  confirmed: Confirmed | null; history: { version: number; level: string; confirmed_by: string; recorded_at: string }[];
}

const LEVELS = ['low', 'medium', 'high', 'critical'];

/** A reaction of the checklist in the reader's language (the English text when untranslated). */
const reactionText = (level: string, index: number, text: string) => label(`ui.reaction.${level}.${index}`, text);

export function LevelsPage({ user, version, item, setItem }: {
  user: User; version: number; item: string | null; setItem(item: string | null): void;
}) {
  const [rows, setRows] = useState<RiskRow[] | null>(null);
  const [detail, setDetail] = useState<SectionLevel | null>(null);
  const [level, setLevel] = useState('');
  const [justification, setJustification] = useState('');
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const canSet = may(user, 'set_impact_level');

  useEffect(() => {
    optional<{ sections: RiskRow[] }>('risk').then((r) => setRows(r?.sections ?? [])).catch(() => setRows([]));
  }, [version]);
  const selected = item ?? rows?.[0]?.section_id ?? null;
  // The section whose level the form was filled with: a live update of the same section
  // refreshes what is shown but keeps the choice and justification being typed.
  const formFor = useRef<string | null>(null);
  const fillForm = (d: SectionLevel) => {
    setLevel(d.confirmed?.level ?? d.proposed_level ?? 'low');
    setJustification('');
    formFor.current = d.section_id;
  };
  useEffect(() => {
    if (!selected) return;
    setError(null);
    get<SectionLevel>(`sections/${selected}/level`).then((d) => {
      setDetail(d);
      if (d.section_id !== formFor.current) fillForm(d);
    }).catch((e) => setError(refusal(e)));
  }, [selected, version]);

  const override = !!detail && level !== detail.proposed_level;
  const confirm = async () => {
    if (!detail) return;
    setBusy(true);
    setError(null);
    try {
      await post(`sections/${detail.section_id}/level`, { level, justification });
      const d = await get<SectionLevel>(`sections/${detail.section_id}/level`);
      setDetail(d);
      fillForm(d);
    } catch (e) { setError(refusal(e)); } finally { setBusy(false); }
  };
  const tick = async (index: number, done: boolean) => {
    if (!detail?.confirmed) return;
    setBusy(true);
    setError(null);
    try {
      await post(`sections/${detail.section_id}/level/checklist`, { item: index, done, note: notes[index] ?? '' });
      setDetail(await get<SectionLevel>(`sections/${detail.section_id}/level`));
    } catch (e) { setError(refusal(e)); } finally { setBusy(false); }
  };

  return (
    <div class="work-page levels-page">
      <div class="work-head"><h2>{t('levels.title')}</h2></div>
      <div class="work-body">
        <div class="queue-list" tabIndex={0} aria-label={t('levels.sections')}
          onKeyDown={(e) => {
            if (!rows?.length || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return;
            e.preventDefault();
            const i = rows.findIndex((r) => r.section_id === selected);
            const next = rows[Math.min(rows.length - 1, Math.max(0, i + (e.key === 'ArrowDown' ? 1 : -1)))];
            setItem(next.section_id);
          }}>
          <table class="work-table">
            <thead><tr><th>#</th><th>{t('levels.section')}</th><th>{t('levels.proposed')}</th><th>{t('levels.confirmed')}</th></tr></thead>
            <tbody>
              {(rows ?? []).map((r) => (
                <tr key={r.section_id} class={r.section_id === selected ? 'selected' : ''} onClick={() => setItem(r.section_id)}>
                  <td class="num">{r.rank}</td><td>{r.section_id}</td>
                  <td><span class={`level-chip level-${r.proposed_level}`}>{enumLabel('section_impact_level', r.proposed_level)}</span></td>
                  <td>{r.confirmed_level ? <span class={`level-chip level-${r.confirmed_level}`}>{enumLabel('section_impact_level', r.confirmed_level)}</span> : '—'}
                    {r.confirmed_level && r.confirmed_level !== r.proposed_level ? ' ≠' : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows?.length === 0 && <p class="empty">{t('levels.no_risk')}</p>}
        </div>
        {detail && (
          <section class="queue-detail" aria-label={detail.section_id}>
            <h3>{detail.section_id}</h3>
            <p>{t('levels.proposed')}: <span class={`level-chip level-${detail.proposed_level}`}>{enumLabel('section_impact_level', detail.proposed_level)}</span></p>
            {detail.reasons.length > 0 && <ul class="reasons small">{detail.reasons.map((r, i) => <li key={i}>{r}</li>)}</ul>}
            {detail.confirmed && (
              <p>{t('levels.confirmed')}: <span class={`level-chip level-${detail.confirmed.level}`}>{enumLabel('section_impact_level', detail.confirmed.level)}</span>
                {' '}<span class="muted small">{detail.confirmed.confirmed_by}, {formatShort(detail.confirmed.recorded_at)}
                  {detail.confirmed.overridden ? ` · ${t('levels.override')}: ${detail.confirmed.justification}` : ''}</span></p>
            )}
            {canSet && (
              <form class="level-form" onSubmit={(e) => { e.preventDefault(); confirm(); }}>
                <label for="level-choice">{t('levels.level')}</label>
                <select id="level-choice" value={level} onChange={(e) => setLevel((e.target as HTMLSelectElement).value)}>
                  {LEVELS.map((l) => <option key={l} value={l}>{enumLabel('section_impact_level', l)}{l === detail.proposed_level ? ` (${t('levels.proposed').toLowerCase()})` : ''}</option>)}
                </select>
                <label for="level-justification">{t('levels.justification')} {override && <span class="req">*</span>}</label>
                <textarea id="level-justification" rows={2} value={justification} aria-required={override}
                  onInput={(e) => setJustification((e.target as HTMLTextAreaElement).value)} />
                {override && <p class="muted small">{t('levels.override_needs')}</p>}
                <button type="submit" class="primary" disabled={busy || (override && !justification.trim())}>
                  {override ? t('levels.override_button') : t('levels.confirm_button')}
                </button>
              </form>
            )}
            {detail.confirmed && (
              <>
                <h3>{t('levels.checklist')}</h3>
                <ul class="checklist">
                  {detail.confirmed.reactions.map((text, i) => {
                    const state = detail.confirmed?.checklist[String(i)];
                    return (
                      <li key={i} class={state?.done ? 'done' : ''}>
                        <label>
                          <input type="checkbox" checked={!!state?.done} disabled={!canSet || busy}
                            onChange={(e) => tick(i, (e.target as HTMLInputElement).checked)} />
                          {reactionText(detail.confirmed!.level, i, text)}
                        </label>
                        {state && <span class="muted small"> — {state.by}, {formatShort(state.at)}{state.note ? `: ${state.note}` : ''}</span>}
                        {canSet && !state?.done && (
                          <input class="small" aria-label={t('levels.tick_note')} placeholder={t('levels.tick_note')}
                            value={notes[i] ?? ''} onInput={(e) => setNotes({ ...notes, [i]: (e.target as HTMLInputElement).value })} />
                        )}
                      </li>
                    );
                  })}
                </ul>
              </>
            )}
            {!detail.confirmed && detail.proposed_reactions.length > 0 && (
              <>
                <h3>{t('levels.reactions_if')}</h3>
                <ul class="small">{detail.proposed_reactions.map((r, i) => <li key={i}>{reactionText(detail.proposed_level ?? 'low', i, r)}</li>)}</ul>
              </>
            )}
            {detail.history.length > 1 && (
              <>
                <h3>{t('history')}</h3>
                <ol class="history">{detail.history.map((h) => <li key={h.version}>{formatShort(h.recorded_at)} · {enumLabel('section_impact_level', h.level)} · {h.confirmed_by}</li>)}</ol>
              </>
            )}
            {error && <p class="error" role="alert">{error}</p>}
          </section>
        )}
      </div>
    </div>
  );
}
