// One event: every field, its versions, the actions on it (validations, comments) and where
// it came from; buttons for the actions the user's role allows.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, may, post, summaryOf, type ActionRecord, type EventRecord, type RecordOf, type Taxonomy, type User } from './api';
import { Files } from './cooperation';
import { enumLabel, formatTime, label, t, typeLabel } from './i18n';
import { refusal } from './ops';
import { change } from './outbox';
import type { EventStore } from './store';

type Attached = RecordOf & { url: string; thumbnail_url?: string };

/** A piece of evidence correlation grouped into the event (GET incidents/{id}). */
interface Piece {
  grouping_id: string;
  kind: 'sensor_detection' | 'fence_segment' | 'event';
  id: string;
  source: string | null;
  at: string | null;
  rule: 'same_segment' | 'near' | 'same_section' | null;
  distance_km: number | null;
  gap_s: number | null;
  attachments: Attached[];
}

interface Props {
  id: string;
  user: User;
  store: EventStore;
  taxonomy: Taxonomy | null;
  actionsVersion: number;
  onClose(): void;
}

export function EventPanel({ id, user, store, taxonomy, actionsVersion, onClose }: Props) {
  const [event, setEvent] = useState<EventRecord | null>(null);
  const [versions, setVersions] = useState<EventRecord[]>([]);
  const [actions, setActions] = useState<ActionRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [comment, setComment] = useState('');
  const [impact, setImpact] = useState('');
  const [busy, setBusy] = useState(false);
  // A return for correction or a rejection needs a reason the reporter reads; a rejection
  // is confirmed once more before it is sent.
  const [deciding, setDeciding] = useState<null | { action: 'return_for_correction' | 'reject'; confirm: boolean }>(null);
  const [reason, setReason] = useState('');
  const known = store.byId.get(id);
  const [files, setFiles] = useState<Attached[]>([]);
  const [evidence, setEvidence] = useState<Piece[]>([]);

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

  useEffect(() => {
    let live = true;
    get<Attached[]>(`attachments?record_id=${id}`).then((f) => live && setFiles(f)).catch(() => {});
    get<{ evidence: Piece[] }>(`incidents/${id}`).then((i) => live && setEvidence(i.evidence)).catch(() => {});
    return () => { live = false; };
  }, [id, known?.version]);

  const act = async (action: string, extra: Record<string, unknown> = {}) => {
    setBusy(true);
    setError(null);
    try {
      // With no link the follow-up waits in the outbox (and shows there, not here).
      const outcome = await change<ActionRecord>({ kind: 'event_action', path: `events/${id}/actions`,
        body: { action, ...extra }, title: `${t(`action.${action}`)} · ${typeLabel(known?.type ?? event?.type ?? '')}` });
      const a = outcome.sent;
      if (a) {
        setActions((old) => (old.some((x) => x.id === a.id) ? old : [...old, a]));
        store.noteAction(a.body);
      } else {
        setError(t('outbox.queued'));
      }
      if (action === 'comment') setComment('');
      if (action === 'reject' || action === 'return_for_correction') { setDeciding(null); setReason(''); }
    } catch (e) {
      setError(e instanceof ApiError ? refusal(e) : String((e as Error).message));
    } finally {
      setBusy(false);
    }
  };

  // What the map and the list know shows at once; the whole record when it has come.
  const full = event?.id === id ? event : null;
  const shown = full ? summaryOf(full) : known;
  if (!shown) return <aside class="panel" aria-label={t('event')}><button class="close" onClick={onClose} aria-label={t('close')}>×</button>{error ?? t('loading')}</aside>;
  const status = store.status(shown);
  const canDecide = may(user, 'change_status');
  const canComment = may(user, 'report_events');
  const place = full?.location ?? (shown.lon !== null && shown.lat !== null ? { lon: shown.lon, lat: shown.lat } : null);
  const rows: [string, string][] = [
    [label('field.category'), label(`category.${shown.category}`, shown.category)],
    [t('occurred_at'), formatTime(shown.at)],
    [t('reported_at'), full?.reported_at ? formatTime(full.reported_at) : '—'],
    [label('field.location'), place ? `${place.lon.toFixed(4)}, ${place.lat.toFixed(4)}${place.precision_m ? ` ±${place.precision_m} m` : ''}` : '—'],
    [label('ui.section', 'section'), shown.section_id ? `${shown.section_id} (${full?.section_distance_km ?? '?'} km)` : t('inland')],
    ...(full ? [[label('field.country'), full.country ?? '—'] as [string, string]] : []),
    [label('field.impact_level'), enumLabel('impact_level', store.impact(shown))],
    [label('field.status'), enumLabel('status', status)],
    ...(full ? fullRows(full, taxonomy) : []),
  ];

  return (
    <aside class="panel" aria-label={t('event')}>
      <button class="close" onClick={onClose} aria-label={t('close')}>×</button>
      <h2>{typeLabel(shown.type)}</h2>
      <p class="muted"><span class={`badge status-${status ?? 'none'}`}>{enumLabel('status', status)}</span> v{shown.version} · {shown.id.slice(0, 8)}</p>
      <p class="muted small keys">{t('panel_keys')}</p>
      <table class="fields"><tbody>{rows.map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody></table>
      {!full && <p class="muted small">{error ?? t('loading')}</p>}

      {full && <h3>{t('provenance')}</h3>}
      {full && <p>{t('origin')}: <code>{full.origin}</code>{full.origin === user.node_id ? ` (${t('this_node')})` : ''}</p>}
      {full?.provenance?.length ? <p>{t('came_through')}: {full.provenance.join(' → ')}</p> : null}
      {full?.follow_up_of ? <p>{t('follow_up_of')}: <code>{full.follow_up_of.slice(0, 8)}</code></p> : null}

      {(canDecide || canComment) && <h3>{t('actions')}</h3>}
      {canDecide && (
        <div class="action-buttons">
          <button disabled={busy} onClick={() => act('validate')}>{t('validate')}</button>
          <button disabled={busy} onClick={() => setDeciding({ action: 'return_for_correction', confirm: false })}>{t('queue.return')}</button>
          <button disabled={busy} onClick={() => setDeciding({ action: 'reject', confirm: false })}>{t('reject')}</button>
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
      {canDecide && deciding && (
        <form class="comment" onSubmit={(e) => {
          e.preventDefault();
          if (!reason.trim()) return;
          if (deciding.action === 'reject' && !deciding.confirm) { setDeciding({ ...deciding, confirm: true }); return; }
          act(deciding.action, { text: reason });
        }}>
          <label for="decision-reason">{deciding.action === 'reject' ? t('queue.reject_reason') : t('queue.return_reason')} <span class="req">*</span></label>
          <textarea id="decision-reason" rows={2} required aria-required="true" value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
          {deciding.confirm && <p class="error" role="alert">{t('queue.reject_confirm')}</p>}
          <span class="inline">
            <button type="submit" disabled={busy || !reason.trim()}>{deciding.action === 'reject' ? (deciding.confirm ? t('queue.reject_yes') : t('reject')) : t('queue.return')}</button>
            <button type="button" onClick={() => setDeciding(null)}>{t('cancel')}</button>
          </span>
        </form>
      )}
      {may(user, 'task_units') && <p><a class="button" href={`#/tasks?for=event:${id}`}>{t('queue.task')}</a></p>}
      {canComment && (
        <form class="comment" onSubmit={(e) => { e.preventDefault(); act('comment', { text: comment }); }}>
          <label for="comment-text">{t('comment')}</label>
          <textarea id="comment-text" rows={2} value={comment} onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} />
          <button type="submit" disabled={busy || !comment.trim()}>{t('add_comment')}</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}

      {evidence.length > 0 && <Evidence key={id} eventId={id} pieces={evidence} user={user} onUngrouped={(a, left) => {
        setEvidence(left);
        setActions((old) => (old.some((x) => x.id === a.id) ? old : [...old, a]));
        store.noteAction(a.body);
      }} />}

      {files.length > 0 && <h3>{t('panel.attachments')}</h3>}
      <Attachments files={files} user={user} />

      <h3>{t('history')}</h3>
      <ol class="history">
        {versions.map((v) => (
          <li key={`v${v.version}`}>
            v{v.version} · {v.recorded_at ? formatTime(v.recorded_at) : ''} · {enumLabel('status', v.status)} · {enumLabel('impact_level', v.impact_level)}
            {v.recorded_by ? <span class="by" title={v.recorded_by.username}> — {v.recorded_by.full_name}</span> : ` — ${v.origin}`}
          </li>
        ))}
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

/** The evidence grouped into the incident, each piece explained. A role that may change an
 * event's status takes a piece out (not the first, which the incident was made from) with a
 * reason the journal keeps (POST incidents/{id}/ungroup); the list is then the node's. */
function Evidence({ eventId, pieces, user, onUngrouped }: {
  eventId: string; pieces: Piece[]; user: User; onUngrouped(action: ActionRecord, left: Piece[]): void;
}) {
  const [open, setOpen] = useState<Piece | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState('');
  const field = useRef<HTMLTextAreaElement>(null);
  const title = useRef<HTMLHeadingElement>(null);
  // Focused as soon as it is drawn, not after the next frame: the first key typed lands in it.
  useLayoutEffect(() => { if (open) field.current?.focus(); }, [open]);
  const mayUngroup = may(user, 'change_status');
  const name = (p: Piece) => `${t(`panel.evidence_kind.${p.kind}`)} ${p.source ?? ''}`.trim();
  const start = (p: Piece | null) => { setOpen(p); setReason(''); setError(null); };
  const cancel = () => {
    const back = open && document.getElementById(`ungroup-${open.grouping_id}`);
    start(null);
    if (back) back.focus();
  };

  const send = async (e: Event) => {
    e.preventDefault();
    if (!open || !reason.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const action = await post<ActionRecord>(`incidents/${eventId}/ungroup`, { grouping_id: open.grouping_id, text: reason.trim() });
      // What the node lists now; should that read fail, the piece is gone all the same.
      const left = await get<{ evidence: Piece[] }>(`incidents/${eventId}`).then((i) => i.evidence)
        .catch(() => pieces.filter((p) => p.grouping_id !== open.grouping_id));
      setDone(t('panel.ungrouped', { piece: name(open) }));
      start(null);
      onUngrouped(action, left);
      title.current?.focus();  // the button that had the focus is gone with its piece
    } catch (x) {
      setError(refusal(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section id="incident-evidence" aria-labelledby="incident-evidence-title">
      <h3 id="incident-evidence-title" ref={title} tabIndex={-1}>{t('panel.evidence', { count: pieces.length })}</h3>
      <p class="muted small" role="status">{done}</p>
      <ol class="evidence">{pieces.map((p) => (
        <li key={p.grouping_id} data-kind={p.kind}>
          <strong>{t(`panel.evidence_kind.${p.kind}`)}</strong> {p.source ?? ''}{p.at ? ` · ${formatTime(p.at)}` : ''}
          <br /><span class="muted small">{p.rule
            ? t(`panel.evidence_rule.${p.rule}`, { km: (p.distance_km ?? 0).toFixed(2), minutes: Math.round((p.gap_s ?? 0) / 60) })
            : t('panel.evidence_first')}</span>
          <Attachments files={p.attachments} user={user} />
          {mayUngroup && p.rule !== null && (
            <p><button type="button" id={`ungroup-${p.grouping_id}`} class="ungroup" disabled={busy}
              aria-label={t('panel.ungroup_piece', { piece: name(p) })} aria-expanded={open?.grouping_id === p.grouping_id}
              onClick={() => (open?.grouping_id === p.grouping_id ? cancel() : start(p))}>{t('panel.ungroup')}</button></p>
          )}
          {open?.grouping_id === p.grouping_id && (
            <form class="comment ungroup-form" aria-label={t('panel.ungroup_piece', { piece: name(p) })} onSubmit={send}
              onKeyDown={(e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); cancel(); } }}>
              <label for="ungroup-reason">{t('panel.ungroup_reason')} <span class="req">*</span></label>
              <textarea id="ungroup-reason" ref={field} rows={2} required aria-required="true" maxLength={4000} value={reason}
                onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
              {error && <p class="error" role="alert">{error}</p>}
              <span class="inline">
                <button type="submit" disabled={busy || !reason.trim()}>{t('panel.ungroup_send')}</button>
                <button type="button" onClick={cancel}>{t('cancel')}</button>
              </span>
            </form>
          )}
        </li>))}
      </ol>
    </section>
  );
}

/** Attached files; a camera's snapshot is personal data: its picture only for roles that
 * read it, the others are told it is withheld. */
function Attachments({ files, user }: { files: Attached[]; user: User }) {
  const mayRead = may(user, 'read_personal_data');
  return (
    <>
      <Files files={files.filter((f) => !f.body.camera_snapshot || mayRead)} />
      {files.filter((f) => f.body.camera_snapshot && !mayRead).map((f) => (
        <p key={f.id} class="muted small snapshot-withheld">{t('panel.snapshot_withheld', { camera: f.body.camera_id ?? '?' })}</p>
      ))}
    </>
  );
}

/** The fields only the whole record has. */
function fullRows(event: EventRecord, taxonomy: Taxonomy | null): [string, string][] {
  return [
    [label('field.handling'), enumLabel('handling', event.handling)],
    [label('field.confidence'), event.confidence ? `${event.confidence.source_reliability}${event.confidence.information_credibility}` : '—'],
    ...Object.entries(event.details ?? {}).map(([k, v]): [string, string] => [label(`field.${k}`, k), typeof v === 'string' && taxonomy?.enums[k] ? enumLabel(k, v) : String(v)]),
    [label('field.persons', 'persons'), (event.persons ?? []).map((p) => `${p.count ?? 1}× ${p.nationality ?? '?'}`).join(', ') || '—'],
    [label('field.transport'), event.transport ? enumLabel('transport', event.transport) : '—'],
    [label('field.reaction'), (event.reaction ?? []).map((r) => enumLabel('reaction', r)).join(', ') || '—'],
    [label('field.description'), event.description || '—'],
  ];
}
