// One event: every field, its versions, the actions on it (validations, comments) and where
// it came from; buttons for the actions the user's role allows.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, may, post, type ActionRecord, type EventRecord, type Taxonomy, type User } from './api';
import { enumLabel, formatTime, label, t, typeLabel } from './i18n';
import type { EventStore } from './store';

interface Props {
  id: string;
  user: User;
  store: EventStore;
  taxonomy: Taxonomy | null;
  actionsVersion: number;
  onClose(): void;
}

export function EventPanel({ id, user, store, taxonomy, actionsVersion, onClose }: Props) {
  const [event, setEvent] = useState<EventRecord | null>(store.byId.get(id) ?? null);
  const [versions, setVersions] = useState<EventRecord[]>([]);
  const [actions, setActions] = useState<ActionRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [comment, setComment] = useState('');
  const [impact, setImpact] = useState('');
  const [busy, setBusy] = useState(false);
  const known = store.byId.get(id);

  useEffect(() => {
    let live = true;
    setError(null);
    get<EventRecord>(`events/${id}`).then((e) => live && setEvent(e)).catch((e) => live && setError(String(e.message)));
    get<EventRecord[]>(`events/${id}/versions`).then((v) => live && setVersions(v)).catch(() => {});
    return () => { live = false; };
  }, [id, known?.version]);

  useEffect(() => {
    let live = true;
    get<ActionRecord[]>(`events/${id}/actions`).then((a) => {
      if (!live) return;
      setActions(a);
      for (const x of a) store.noteAction(x.body);
    }).catch(() => {});
    return () => { live = false; };
  }, [id, actionsVersion]);

  const act = async (action: string, extra: Record<string, unknown> = {}) => {
    setBusy(true);
    setError(null);
    try {
      const a = await post<ActionRecord>(`events/${id}/actions`, { action, ...extra });
      setActions((old) => (old.some((x) => x.id === a.id) ? old : [...old, a]));
      store.noteAction(a.body);
      if (action === 'comment') setComment('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 403 ? t('forbidden')
        : e instanceof ApiError && e.items.length ? e.items.map((i) => i.msg).join('; ') : String((e as Error).message));
    } finally {
      setBusy(false);
    }
  };

  if (!event) return <aside class="panel"><button class="close" onClick={onClose} aria-label={t('close')}>×</button>{error ?? t('loading')}</aside>;
  const status = store.status(event);
  const canDecide = may(user, 'change_status');
  const canComment = may(user, 'report_events');
  const rows: [string, string][] = [
    [label('field.category'), label(`category.${event.category}`, event.category)],
    [t('occurred_at'), formatTime(event.occurred_at)],
    [t('reported_at'), event.reported_at ? formatTime(event.reported_at) : '—'],
    [label('field.location'), event.location ? `${event.location.lon.toFixed(4)}, ${event.location.lat.toFixed(4)}${event.location.precision_m ? ` ±${event.location.precision_m} m` : ''}` : '—'],
    [label('ui.section', 'section'), event.section_id ? `${event.section_id} (${event.section_distance_km ?? '?'} km)` : t('inland')],
    [label('field.country'), event.country ?? '—'],
    [label('field.impact_level'), enumLabel('impact_level', store.impact(event))],
    [label('field.status'), enumLabel('status', status)],
    [label('field.handling'), enumLabel('handling', event.handling)],
    [label('field.confidence'), event.confidence ? `${event.confidence.source_reliability}${event.confidence.information_credibility}` : '—'],
    ...Object.entries(event.details ?? {}).map(([k, v]): [string, string] => [label(`field.${k}`, k), typeof v === 'string' && taxonomy?.enums[k] ? enumLabel(k, v) : String(v)]),
    [label('field.persons', 'persons'), (event.persons ?? []).map((p) => `${p.count ?? 1}× ${p.nationality ?? '?'}`).join(', ') || '—'],
    [label('field.transport'), event.transport ? enumLabel('transport', event.transport) : '—'],
    [label('field.reaction'), (event.reaction ?? []).map((r) => enumLabel('reaction', r)).join(', ') || '—'],
    [label('field.description'), event.description || '—'],
  ];

  return (
    <aside class="panel" aria-label={t('event')}>
      <button class="close" onClick={onClose} aria-label={t('close')}>×</button>
      <h2>{typeLabel(event.type)}</h2>
      <p class="muted"><span class={`badge status-${status ?? 'none'}`}>{enumLabel('status', status)}</span> v{event.version} · {event.id.slice(0, 8)}</p>
      <table class="fields"><tbody>{rows.map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody></table>

      <h3>{t('provenance')}</h3>
      <p>{t('origin')}: <code>{event.origin}</code>{event.origin === user.node_id ? ` (${t('this_node')})` : ''}</p>
      {event.provenance?.length ? <p>{t('came_through')}: {event.provenance.join(' → ')}</p> : null}
      {event.follow_up_of ? <p>{t('follow_up_of')}: <code>{event.follow_up_of.slice(0, 8)}</code></p> : null}

      {(canDecide || canComment) && <h3>{t('actions')}</h3>}
      {canDecide && (
        <div class="action-buttons">
          <button disabled={busy} onClick={() => act('validate')}>{t('validate')}</button>
          <button disabled={busy} onClick={() => act('reject')}>{t('reject')}</button>
          <button disabled={busy} onClick={() => act('close')}>{t('close_event')}</button>
          <span class="inline">
            <select aria-label={label('field.impact_level')} value={impact} onChange={(e) => setImpact((e.target as HTMLSelectElement).value)}>
              <option value="">{label('field.impact_level')}…</option>
              {(taxonomy?.enums.impact_level ?? []).map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
            </select>
            <button disabled={busy || !impact} onClick={() => act('reattribute_impact', { impact_level: impact })}>{t('reattribute')}</button>
          </span>
        </div>
      )}
      {canComment && (
        <form class="comment" onSubmit={(e) => { e.preventDefault(); act('comment', { text: comment }); }}>
          <label for="comment-text">{t('comment')}</label>
          <textarea id="comment-text" rows={2} value={comment} onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} />
          <button type="submit" disabled={busy || !comment.trim()}>{t('add_comment')}</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}

      <h3>{t('history')}</h3>
      <ol class="history">
        {versions.map((v) => <li key={`v${v.version}`}>v{v.version} · {v.recorded_at ? formatTime(v.recorded_at) : ''} · {enumLabel('status', v.status)} · {enumLabel('impact_level', v.impact_level)}</li>)}
        {actions.map((a) => (
          <li key={a.id} class={`action action-${a.body.action}`}>
            {formatTime(a.recorded_at)} · <strong>{t(`action.${a.body.action}`)}</strong>
            {a.body.impact_level ? ` → ${enumLabel('impact_level', a.body.impact_level)}` : ''}
            {a.body.text ? `: ${a.body.text}` : ''} — {a.body.by}@{a.origin}
          </li>
        ))}
      </ol>
    </aside>
  );
}
