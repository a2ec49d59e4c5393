// Cooperation between agencies and centres: the directory, requests for information (inbox,
// outbox, responses, files, thread) and joint operations (plan, daily reports, merged day,
// evaluation, the picture filtered to one operation). Every action is a record of this node.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, may, patch, post, upload, type RecordOf, type User } from './api';
import { lowBandwidth } from './bandwidth';
import { enumLabel, formatShort, fromLocalInput, label, t, toLocalInput, zoneLabel } from './i18n';
import { emptyFilters, type View } from './view';

type Body = Record<string, any>;
type Rec = RecordOf<Body>;

const errorText = (e: unknown): string => e instanceof ApiError
  ? (e.status === 403 ? t('forbidden') : e.items.length ? e.items.map((i) => `${i.loc.slice(1).join('.')}: ${i.msg}`).join('; ') : String(e.message))
  : String((e as Error).message);

function useLoad<T>(path: string | null, deps: unknown[]): [T | null, string | null, () => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) { setData(null); return; }
    let live = true;
    get<T>(path).then((d) => { if (live) { setData(d); setError(null); } }).catch((e) => live && setError(errorText(e)));
    return () => { live = false; };
  }, [path, tick, ...deps]);
  return [data, error, () => setTick((n) => n + 1)];
}

// --- shared pieces -----------------------------------------------------------------------

export function Files({ files }: { files: (Rec & { url: string; thumbnail_url?: string })[] }) {
  if (!files?.length) return null;
  return (
    <ul class="files">{files.map((f) => (
      <li key={f.id}>
        <a href={f.url} target="_blank" rel="noopener">
          {f.thumbnail_url && !lowBandwidth() ? <img src={f.thumbnail_url} alt={f.body.name} /> : <span class="file-icon">{(f.body.name.split('.').pop() ?? '').toUpperCase()}</span>}
          <span>{f.body.name}</span>
        </a>
        <span class="muted small"> {Math.ceil(f.body.size / 1024)} KB · {f.origin}{f.body.stripped?.includes('gps') ? ` · ${t('coop.gps_removed')}` : ''}</span>
      </li>))}
    </ul>
  );
}

/** The discussion thread of a record: messages of every node holding it, and a box to write. */
export function Thread({ recordId, messages, onPosted }: { recordId: string; messages: Rec[]; onPosted(): void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    try { await post('messages', { record_id: recordId, text }); setText(''); setError(null); onPosted(); } catch (err) { setError(errorText(err)); }
  };
  return (
    <section class="thread" aria-label={t('coop.thread')}>
      <h3>{t('coop.thread')}</h3>
      {messages.length === 0 && <p class="muted">{t('coop.no_messages')}</p>}
      <ol class="messages">{messages.map((m) => (
        <li key={m.id} class="message" data-origin={m.origin}>
          <span class="muted small">{formatShort(m.body.at ?? m.recorded_at)} · <strong>{m.body.by}@{m.origin}</strong></span>
          <p>{m.body.text}</p>
        </li>))}
      </ol>
      <form onSubmit={send}>
        <label for={`msg-${recordId}`}>{t('coop.write_message')}</label>
        <textarea id={`msg-${recordId}`} rows={2} value={text} placeholder={t('coop.mention_hint')}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        <button type="submit" disabled={!text.trim()}>{t('coop.send')}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </section>
  );
}

function Field({ id, name, children, required }: { id: string; name: string; children: preact.ComponentChildren; required?: boolean }) {
  return <div class="field"><label for={id}>{name}{required && <span class="req" aria-hidden="true"> *</span>}</label>{children}</div>;
}

const val = (e: Event) => (e.target as HTMLInputElement).value;

// --- directory ---------------------------------------------------------------------------

const AGENCY_TYPES = ['border_guard', 'customs', 'police', 'drug_control', 'migration', 'army', 'international_partner'];
const UNIT_KINDS = ['headquarters', 'situation_centre', 'regional_office', 'border_post', 'crossing_point', 'border_liaison_office', 'mobile_unit', 'other'];

export function DirectoryPage({ user }: { user: User }) {
  const [q, setQ] = useState('');
  const [type, setType] = useState('');
  const [country, setCountry] = useState('');
  const [adding, setAdding] = useState(false);
  const params = new URLSearchParams({ q, ...(type ? { agency_type: type } : {}), ...(country ? { country } : {}) });
  const [data, error, reload] = useLoad<{ organisations: (Rec & { contacts: (Rec & { on_duty: boolean })[]; parent_name: string | null })[]; liaison_pairs: Body[] }>(`directory?${params}`, []);
  return (
    <div class="coop-page" id="directory-page">
      <header class="coop-head">
        <h2>{t('coop.directory')}</h2>
        <label for="directory-q" class="sr">{t('coop.search')}</label>
        <input id="directory-q" type="search" placeholder={t('coop.search_hint')} value={q} onInput={(e) => setQ(val(e))} autoFocus />
        <select aria-label={t('coop.agency_type')} value={type} onChange={(e) => setType(val(e))}>
          <option value="">{t('coop.all_types')}</option>
          {AGENCY_TYPES.map((a) => <option key={a} value={a}>{t(`coop.agency.${a}`)}</option>)}
        </select>
        <select aria-label={label('field.country')} value={country} onChange={(e) => setCountry(val(e))}>
          <option value="">{t('all')}</option>
          {['KZ', 'KG', 'TJ', 'TM', 'UZ', 'AF', 'CN', 'RU'].map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
        {may(user, 'manage_directory') && <button class="primary" onClick={() => setAdding(!adding)}>+ {t('coop.add_organisation')}</button>}
      </header>
      {adding && <OrganisationForm parents={data?.organisations ?? []} onDone={() => { setAdding(false); reload(); }} />}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="coop-columns">
        <section class="directory-list" aria-label={t('coop.organisations')}>
          {data?.organisations.length === 0 && <p class="muted">{t('coop.nothing_found')}</p>}
          {data?.organisations.map((o) => (
            <article key={o.id} class="organisation" data-id={o.id}>
              <h3>{o.body.name} {o.body.short_name && <span class="muted">({o.body.short_name})</span>}</h3>
              <p class="muted small">
                {t(`coop.agency.${o.body.agency_type}`)}{o.body.unit_kind ? ` · ${t(`coop.unit.${o.body.unit_kind}`)}` : ''}
                {o.parent_name ? ` · ${o.parent_name}` : ''} · {o.body.country} · {t('node')} <code>{o.body.node}</code>
                {o.origin !== user.node_id && <> · {t('coop.from')} <code>{o.origin}</code></>}
              </p>
              {o.body.counterpart && <p class="small">⇄ {t('coop.counterpart')}: {o.body.counterpart.name} ({o.body.counterpart.country})</p>}
              <table class="contacts"><tbody>{o.contacts.map((c) => (
                <tr key={c.id}>
                  <td><span class={`badge ${c.on_duty ? 'on-duty' : 'off-duty'}`}>{c.on_duty ? t('coop.on_duty') : t('coop.off_duty')}</span></td>
                  <td><strong>{c.body.role}</strong>{c.body.personal ? <> · {c.body.personal.name} {(c.body.personal.phones ?? []).join(', ')}</> : c.body.personal_withheld ? <span class="muted small"> · {t('coop.person_withheld')}</span> : null}</td>
                  <td>{(c.body.phones ?? []).map((p: string) => <a key={p} href={`tel:${p.replace(/\s/g, '')}`}>{p}</a>)}</td>
                  <td>{c.body.radio_callsign && <><span class="muted small">{t('coop.radio')}</span> {c.body.radio_callsign}</>}</td>
                  <td class="small">{(c.body.languages ?? []).join(', ')} · {c.body.hours?.always ? '24/7' : `${(c.body.hours?.days ?? []).join(' ')} ${c.body.hours?.start}–${c.body.hours?.end} (${c.body.hours?.time_zone})`}</td>
                </tr>))}</tbody></table>
              {may(user, 'manage_directory') && o.origin === user.node_id && <ContactForm organisationId={o.id} onDone={reload} />}
            </article>
          ))}
        </section>
        <aside class="pairs" aria-label={t('coop.liaison_pairs')}>
          <h3>{t('coop.liaison_pairs')}</h3>
          <table><thead><tr><th>{t('coop.border')}</th><th>{t('coop.offices')}</th><th>{label('field.status')}</th></tr></thead>
            <tbody>{(data?.liaison_pairs ?? []).map((p, i) => (
              <tr key={i}><td>{p.border}</td><td>{p.offices[0].name} ⇄ {p.offices[1].name}</td><td>{t(`coop.pair.${p.status}`)}</td></tr>
            ))}</tbody></table>
        </aside>
      </div>
    </div>
  );
}

function OrganisationForm({ parents, onDone }: { parents: Rec[]; onDone(): void }) {
  const [f, setF] = useState<Body>({ name: '', agency_type: 'border_guard', unit_kind: '', parent_id: '', country: 'KG', node: '' });
  const [error, setError] = useState<string | null>(null);
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: val(e) });
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await post('directory/organisations', { name: f.name, agency_type: f.agency_type, country: f.country,
        unit_kind: f.unit_kind || null, parent_id: f.parent_id || null, node: f.node || null });
      onDone();
    } catch (err) { setError(errorText(err)); }
  };
  return (
    <form class="coop-form inline-form" onSubmit={submit} aria-label={t('coop.add_organisation')}>
      <Field id="org-name" name={t('coop.name')} required><input id="org-name" required value={f.name} onInput={set('name')} /></Field>
      <Field id="org-type" name={t('coop.agency_type')}><select id="org-type" value={f.agency_type} onChange={set('agency_type')}>{AGENCY_TYPES.map((a) => <option key={a} value={a}>{t(`coop.agency.${a}`)}</option>)}</select></Field>
      <Field id="org-unit" name={t('coop.unit_kind')}><select id="org-unit" value={f.unit_kind} onChange={set('unit_kind')}><option value="">{t('coop.agency_itself')}</option>{UNIT_KINDS.map((u) => <option key={u} value={u}>{t(`coop.unit.${u}`)}</option>)}</select></Field>
      <Field id="org-parent" name={t('coop.parent')}><select id="org-parent" value={f.parent_id} onChange={set('parent_id')}><option value="">—</option>{parents.map((p) => <option key={p.id} value={p.id}>{p.body.name}</option>)}</select></Field>
      <Field id="org-country" name={label('field.country')} required><input id="org-country" required pattern="[A-Z]{2}" maxLength={2} value={f.country} onInput={set('country')} /></Field>
      <Field id="org-node" name={t('node')}><input id="org-node" value={f.node} placeholder={t('coop.this_node')} onInput={set('node')} /></Field>
      <button type="submit" class="primary">{t('coop.save')}</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

function ContactForm({ organisationId, onDone }: { organisationId: string; onDone(): void }) {
  const [open, setOpen] = useState(false);
  const [f, setF] = useState<Body>({ role: '', phones: '', radio_callsign: '', languages: 'ru', person: '' });
  const [error, setError] = useState<string | null>(null);
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: val(e) });
  if (!open) return <button class="link" onClick={() => setOpen(true)}>+ {t('coop.add_contact')}</button>;
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await post('directory/contacts', { organisation_id: organisationId, role: f.role, phones: list(f.phones),
        radio_callsign: f.radio_callsign, languages: list(f.languages), person: f.person ? { name: f.person } : null });
      setOpen(false); onDone();
    } catch (err) { setError(errorText(err)); }
  };
  const id = organisationId.slice(0, 8);
  return (
    <form class="coop-form inline-form" onSubmit={submit} aria-label={t('coop.add_contact')}>
      <Field id={`c-role-${id}`} name={t('coop.role')} required><input id={`c-role-${id}`} required value={f.role} onInput={set('role')} /></Field>
      <Field id={`c-phones-${id}`} name={t('coop.phones')}><input id={`c-phones-${id}`} value={f.phones} onInput={set('phones')} /></Field>
      <Field id={`c-radio-${id}`} name={t('coop.callsign')}><input id={`c-radio-${id}`} value={f.radio_callsign} onInput={set('radio_callsign')} /></Field>
      <Field id={`c-lang-${id}`} name={t('coop.languages')}><input id={`c-lang-${id}`} value={f.languages} onInput={set('languages')} /></Field>
      <Field id={`c-person-${id}`} name={t('coop.person')}><input id={`c-person-${id}`} value={f.person} onInput={set('person')} /></Field>
      <button type="submit">{t('coop.save')}</button>
      <button type="button" class="link" onClick={() => setOpen(false)}>{t('cancel')}</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

// --- requests ----------------------------------------------------------------------------

interface RequestItem extends Rec { state: Body; direction?: string; responses?: Rec[]; attachments?: Record<string, (Rec & { url: string; thumbnail_url?: string })[]>; thread?: Rec[] }

export function RequestsPage({ user, view, setView, liveVersion }: { user: User; view: View; setView(v: View): void; liveVersion: number }) {
  const [box, setBox] = useState<'in' | 'out'>('in');
  const [mine, setMine] = useState(false);
  const [creating, setCreating] = useState(false);
  const [list, error, reload] = useLoad<{ items: RequestItem[]; overdue: number }>(`requests?box=${box}${mine ? '&mine=true' : ''}`, [liveVersion]);
  const open = (id: string | null) => { setCreating(false); setView({ ...view, item: id }); };
  return (
    <div class="coop-page" id="requests-page">
      <header class="coop-head">
        <h2>{t('coop.requests')}</h2>
        <div role="tablist" class="tabs">
          {(['in', 'out'] as const).map((b) => (
            <button key={b} role="tab" aria-selected={box === b} class={box === b ? 'active' : ''} onClick={() => setBox(b)}>{t(`coop.box.${b}`)}</button>))}
        </div>
        <label class="small"><input type="checkbox" checked={mine} onChange={() => setMine(!mine)} /> {t('coop.only_mine')}</label>
        {list && list.overdue > 0 && <span class="badge overdue" data-overdue={list.overdue}>⚠ {t('coop.overdue_count', { n: list.overdue })}</span>}
        <span class="spacer" />
        {may(user, 'handle_requests') && <button class="primary" id="new-request" onClick={() => { setCreating(true); setView({ ...view, item: null }); }}>+ {t('coop.new_request')}</button>}
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="coop-columns">
        <ul class="request-list" aria-label={t(`coop.box.${box}`)}>
          {list?.items.length === 0 && <li class="muted">{t('coop.no_requests')}</li>}
          {list?.items.map((r) => (
            <li key={r.id} class={`${view.item === r.id ? 'selected' : ''} ${r.state.overdue ? 'is-overdue' : ''}`}>
              <button class="row" onClick={() => open(r.id)} data-id={r.id}>
                <strong>{r.body.title}</strong>
                <span class="small muted">{box === 'in' ? `${t('coop.from')} ${r.origin}` : `${t('coop.to')} ${r.body.to_node}`}{r.body.to_organisation ? ` · ${r.body.to_organisation.name}` : ''} · {t(`coop.priority.${r.body.priority}`)}</span>
                <span class={`badge req-${r.state.status}`} data-status={r.state.status}>{t(`coop.status.${r.state.status}`)}</span>
                {r.state.overdue && <span class="badge overdue">⚠ {t('coop.overdue')}</span>}
                <span class="small muted">{t('coop.due')} {formatShort(r.state.due_at)}</span>
              </button>
            </li>))}
        </ul>
        <section class="request-detail">
          {creating ? <RequestForm onDone={(id) => { reload(); open(id); setBox('out'); }} onCancel={() => setCreating(false)} />
            : view.item ? <RequestDetail id={view.item} user={user} liveVersion={liveVersion} onChanged={reload} />
              : <p class="muted">{t('coop.pick_request')}</p>}
        </section>
      </div>
    </div>
  );
}

function RequestForm({ onDone, onCancel }: { onDone(id: string): void; onCancel(): void }) {
  const [peers] = useLoad<{ node_id: string; name: string }[]>('peers', []);
  const [f, setF] = useState<Body>({ to_node: '', title: '', text: '', priority: 'normal', handling: 'AMBER', due: '', forward_allowed: false, answer_onward: false, person: '' });
  const [files, setFiles] = useState<File[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: val(e) });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const due = f.due ? fromLocalInput(f.due) : null;
      const sent = await post<RequestItem>('requests', {
        to_node: f.to_node, title: f.title, text: f.text, priority: f.priority, handling: f.handling,
        due_at: due, forward_allowed: f.forward_allowed, answer_onward: f.answer_onward,
        persons: f.person ? [{ full_name: f.person }] : [] });
      for (const file of files) await upload(`attachments?record_id=${sent.id}&name=${encodeURIComponent(file.name)}`, file);
      onDone(sent.id);
    } catch (err) { setError(errorText(err)); } finally { setBusy(false); }
  };
  return (
    <form class="coop-form" id="request-form" onSubmit={submit} aria-label={t('coop.new_request')} onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <h3>{t('coop.new_request')}</h3>
      <Field id="rq-to" name={t('coop.addressee')} required>
        <select id="rq-to" required value={f.to_node} onChange={set('to_node')}>
          <option value="">—</option>
          {(peers ?? []).map((p) => <option key={p.node_id} value={p.node_id}>{p.name || p.node_id} ({p.node_id})</option>)}
        </select></Field>
      <Field id="rq-title" name={t('coop.title')} required><input id="rq-title" required maxLength={200} value={f.title} onInput={set('title')} /></Field>
      <Field id="rq-text" name={t('coop.question')} required><textarea id="rq-text" required rows={4} value={f.text} onInput={set('text')} /></Field>
      <Field id="rq-person" name={t('coop.person_asked')}><input id="rq-person" value={f.person} onInput={set('person')} /></Field>
      <div class="row-fields">
        <Field id="rq-priority" name={t('coop.priority')}><select id="rq-priority" value={f.priority} onChange={set('priority')}>{['urgent', 'normal', 'routine'].map((p) => <option key={p} value={p}>{t(`coop.priority.${p}`)}</option>)}</select></Field>
        <Field id="rq-handling" name={label('field.handling')}><select id="rq-handling" value={f.handling} onChange={set('handling')}>{['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'].map((h) => <option key={h} value={h}>{enumLabel('handling', h)}</option>)}</select></Field>
        <Field id="rq-due" name={`${t('coop.due')} (${zoneLabel()})`}><input id="rq-due" placeholder={`${toLocalInput(Date.now() + 7 * 86400e3)} — ${t('coop.due_default')}`} value={f.due} onInput={set('due')} /></Field>
      </div>
      <label><input type="checkbox" id="rq-forward" checked={f.forward_allowed} onChange={() => setF({ ...f, forward_allowed: !f.forward_allowed })} /> {t('coop.forward_allowed')}</label>
      <label><input type="checkbox" id="rq-onward" checked={f.answer_onward} onChange={() => setF({ ...f, answer_onward: !f.answer_onward })} /> {t('coop.answer_onward')}</label>
      <Field id="rq-files" name={t('coop.attach')}><input id="rq-files" type="file" multiple onChange={(e) => setFiles([...((e.target as HTMLInputElement).files ?? [])])} /></Field>
      <div class="form-buttons">
        <button type="submit" class="primary" disabled={busy}>{t('coop.send_request')}</button>
        <button type="button" onClick={onCancel}>{t('cancel')}</button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

function RequestDetail({ id, user, liveVersion, onChanged }: { id: string; user: User; liveVersion: number; onChanged(): void }) {
  const [r, error, reload] = useLoad<RequestItem>(`requests/${id}`, [liveVersion]);
  const [action, setAction] = useState('acknowledge');
  const [text, setText] = useState('');
  const [forwardTo, setForwardTo] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [peers] = useLoad<{ node_id: string }[]>('peers', []);
  const [failure, setFailure] = useState<string | null>(null);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!r) return <p class="muted">{t('loading')}</p>;
  const addressee = r.body.to_node === user.node_id;
  const originator = r.origin === user.node_id;
  const open = !['withdrawn', 'closed'].includes(r.state.status);
  const actions = [...(addressee ? ['acknowledge', 'ask', 'answer', ...(r.body.forward_allowed ? ['forward'] : []), 'decline'] : []), ...(originator && !addressee ? ['clarify'] : [])];
  const respond = async (e: Event) => {
    e.preventDefault();
    setFailure(null);
    try {
      const written = await post<Rec[]>(`requests/${id}/responses`, { action, text, ...(action === 'forward' ? { forward_to: forwardTo } : {}) });
      const response = written[written.length - 1];
      for (const file of files) await upload(`attachments?record_id=${response.id}&name=${encodeURIComponent(file.name)}`, file);
      setText(''); setFiles([]); reload(); onChanged();
    } catch (err) { setFailure(errorText(err)); }
  };
  const setStatus = async (status: string) => {
    try { await patch(`requests/${id}`, { status }); reload(); onChanged(); } catch (err) { setFailure(errorText(err)); }
  };
  return (
    <article class="request" data-id={r.id} data-status={r.state.status}>
      <h3>{r.body.title}</h3>
      <p class="muted small">
        {r.origin} → {r.body.to_node}{r.body.to_organisation ? ` (${r.body.to_organisation.name})` : ''} · {t(`coop.kind.${r.body.kind}`)} · {t(`coop.priority.${r.body.priority}`)} · {enumLabel('handling', r.body.handling)}
      </p>
      <p>
        <span class={`badge req-${r.state.status}`}>{t(`coop.status.${r.state.status}`)}</span>
        {r.state.overdue && <span class="badge overdue"> ⚠ {t('coop.overdue')}</span>}
        {' '}{t('coop.sent')} {formatShort(r.state.sent_at)} · {t('coop.due')} {formatShort(r.state.due_at)}
        {r.state.handler && <> · {t('coop.handler')}: {r.state.handler}</>}
      </p>
      <p class="request-text">{r.body.text}</p>
      {r.body.forwarded_from && <p class="small">↪ {t('coop.forwarded_from')} {r.body.forwarded_from.origin}: {r.body.forwarded_from.title}</p>}
      {r.body.personal?.persons?.length ? <p class="small">{t('coop.persons')}: {r.body.personal.persons.map((p: Body) => p.full_name).join(', ')}</p>
        : r.body.personal_withheld ? <p class="small muted">{t('coop.persons_withheld')}</p> : null}
      <p class="small muted">{r.body.forward_allowed ? t('coop.forward_allowed') : t('coop.forward_not_allowed')} · {r.body.answer_onward ? t('coop.answer_onward') : t('coop.answer_not_onward')}</p>
      <Files files={r.attachments?.[r.id] ?? []} />

      <h3>{t('coop.responses')}</h3>
      <ol class="responses">{(r.responses ?? []).map((x) => (
        <li key={x.id} class={`response action-${x.body.action}`} data-action={x.body.action}>
          <span class="muted small">{formatShort(x.body.at ?? x.recorded_at)} · {x.body.by}@{x.origin}</span>
          <strong> {t(`coop.action.${x.body.action}`)}</strong>
          {x.body.forward && <> → {x.body.forward.to_node}</>}
          {x.body.text && <p>{x.body.text}</p>}
          {x.body.onward === false && <span class="small muted">{t('coop.answer_not_onward')}</span>}
          <Files files={r.attachments?.[x.id] ?? []} />
        </li>))}
        {(r.responses ?? []).length === 0 && <li class="muted">{t('coop.no_responses')}</li>}
      </ol>
      {open && actions.length > 0 && may(user, 'handle_requests') && (
        <form class="coop-form" id="response-form" onSubmit={respond} aria-label={t('coop.respond')}>
          <Field id="rs-action" name={t('coop.respond')}>
            <select id="rs-action" value={action} onChange={(e) => setAction(val(e))}>
              {actions.map((a) => <option key={a} value={a}>{t(`coop.action.${a}`)}</option>)}
            </select></Field>
          {action === 'forward' && <Field id="rs-forward" name={t('coop.forward_to')} required>
            <select id="rs-forward" required value={forwardTo} onChange={(e) => setForwardTo(val(e))}>
              <option value="">—</option>
              {(peers ?? []).filter((p) => p.node_id !== r.origin).map((p) => <option key={p.node_id} value={p.node_id}>{p.node_id}</option>)}
            </select></Field>}
          <Field id="rs-text" name={t('coop.text')} required={['ask', 'decline', 'clarify', 'answer'].includes(action)}>
            <textarea id="rs-text" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} /></Field>
          {action === 'answer' && <Field id="rs-files" name={t('coop.attach')}><input id="rs-files" type="file" multiple onChange={(e) => setFiles([...((e.target as HTMLInputElement).files ?? [])])} /></Field>}
          <button type="submit" class="primary">{t('coop.send')}</button>
        </form>)}
      {open && originator && may(user, 'handle_requests') && (
        <div class="form-buttons">
          <button onClick={() => setStatus('closed')}>{t('coop.close_request')}</button>
          <button onClick={() => setStatus('withdrawn')}>{t('coop.withdraw')}</button>
        </div>)}
      {failure && <p class="error" role="alert">{failure}</p>}
      <Thread recordId={r.id} messages={r.thread ?? []} onPosted={reload} />
    </article>
  );
}

// --- joint operations --------------------------------------------------------------------

const INDICATORS = ['patrols', 'persons_checked', 'vehicles_checked', 'events_detected', 'persons_apprehended', 'drugs_seized_kg', 'weapons_seized'];

interface OperationItem extends Rec { status: string; reports?: Rec[]; attachments?: (Rec & { url: string; thumbnail_url?: string })[]; thread?: Rec[] }

/** The map's view filtered to one operation: its sections and its period. */
export function operationView(view: View, op: Rec): View {
  return { ...view, page: 'map', window: 'custom', since: op.body.starts_at, until: op.body.ends_at,
    filters: { ...emptyFilters(), section: op.body.sections }, item: op.id, selected: null };
}

export function OperationsPage({ user, view, setView, liveVersion }: { user: User; view: View; setView(v: View): void; liveVersion: number }) {
  const [list, error, reload] = useLoad<OperationItem[]>('operations', [liveVersion]);
  const [creating, setCreating] = useState(false);
  return (
    <div class="coop-page" id="operations-page">
      <header class="coop-head">
        <h2>{t('coop.operations')}</h2>
        <span class="spacer" />
        {may(user, 'coordinate_operations') && <button class="primary" onClick={() => setCreating(!creating)}>+ {t('coop.new_operation')}</button>}
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      {creating && <OperationForm user={user} onDone={(id) => { setCreating(false); reload(); setView({ ...view, item: id }); }} />}
      <div class="coop-columns">
        <ul class="request-list" aria-label={t('coop.operations')}>
          {list?.length === 0 && <li class="muted">{t('coop.no_operations')}</li>}
          {list?.map((o) => (
            <li key={o.id} class={view.item === o.id ? 'selected' : ''}>
              <button class="row" onClick={() => setView({ ...view, item: o.id })} data-id={o.id}>
                <strong>{o.body.name}</strong>
                <span class="small muted">{formatShort(o.body.starts_at)} – {formatShort(o.body.ends_at)} · {o.body.countries.join(', ')} · {o.origin}</span>
                <span class={`badge op-${o.status}`}>{t(`coop.op_status.${o.status}`)}</span>
              </button>
            </li>))}
        </ul>
        <section class="request-detail">
          {view.item ? <OperationDetail id={view.item} user={user} view={view} setView={setView} liveVersion={liveVersion} /> : <p class="muted">{t('coop.pick_operation')}</p>}
        </section>
      </div>
    </div>
  );
}

function OperationDetail({ id, user, view, setView, liveVersion }: { id: string; user: User; view: View; setView(v: View): void; liveVersion: number }) {
  const [op, error, reload] = useLoad<OperationItem>(`operations/${id}`, [liveVersion]);
  const [evaluation] = useLoad<{ current: Body; kept: Body | null }>(`operations/${id}/evaluation`, [liveVersion, op?.version, op?.reports?.length]);
  const [day, setDay] = useState(new Date().toISOString().slice(0, 10));
  const [counts, setCounts] = useState<Record<string, string>>({});
  const [remarks, setRemarks] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!op) return <p class="muted">{t('loading')}</p>;
  const coordinator = op.origin === user.node_id;
  const participant = op.body.participants.some((p: Body) => p.node === user.node_id);
  const days = [...new Set((op.reports ?? []).map((r) => r.body.day as string))].sort();
  const act = async (fn: () => Promise<unknown>) => { setFailure(null); try { await fn(); reload(); } catch (err) { setFailure(errorText(err)); } };
  const draft = () => act(async () => {
    const d = await get<{ counts: Record<string, number> }>(`operations/${id}/reports/draft?day=${day}`);
    setCounts(Object.fromEntries(Object.entries(d.counts).map(([k, v]) => [k, String(v)])));
  });
  const report = (e: Event) => { e.preventDefault(); act(() => post(`operations/${id}/reports`, { day, remarks,
    counts: Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== '').map(([k, v]) => [k, Number(v)])) })); };
  return (
    <article class="operation" data-id={op.id}>
      <h3>{op.body.name} <span class={`badge op-${op.status}`}>{t(`coop.op_status.${op.status}`)}</span></h3>
      <p class="muted small">{t('coop.coordinator')}: {op.origin} · {formatShort(op.body.starts_at)} – {formatShort(op.body.ends_at)} · {enumLabel('handling', op.body.handling)}</p>
      {op.body.description && <p>{op.body.description}</p>}
      <p><button id="show-on-map" onClick={() => setView(operationView(view, op))}>{t('coop.show_on_map')}</button> {t('coop.sections')}: {op.body.sections.join(', ')}</p>
      <h4>{t('coop.participants')}</h4>
      <ul>{op.body.participants.map((p: Body) => <li key={p.node}>{p.name} ({p.country}) · <code>{p.node}</code></li>)}</ul>
      <h4>{t('coop.resources')}</h4>
      <table class="resources"><thead><tr><th>{t('coop.name')}</th><th>{t('coop.resource_kind')}</th><th>{t('coop.home_unit')}</th><th>{t('node')}</th><th>{t('coop.period')}</th></tr></thead>
        <tbody>{op.body.resources.map((r: Body) => <tr key={r.id}><td>{r.name}{r.people ? ` (${r.people})` : ''}</td><td>{t(`coop.resource.${r.kind}`)}</td><td>{r.home_unit}</td><td>{r.node}</td><td class="small">{formatShort(r.starts_at)} – {formatShort(r.ends_at)}</td></tr>)}</tbody></table>
      <h4>{t('coop.objectives')}</h4>
      <table class="objectives"><tbody>{(evaluation?.kept ?? evaluation?.current)?.objectives?.map((o: Body) => (
        <tr key={o.id}><td>{o.text}</td><td>{o.indicator ? t(`coop.indicator.${o.indicator}`) : ''}</td><td>{o.achieved ?? '—'} / {o.target ?? '—'}</td>
          <td>{o.met === true ? `✔ ${t('coop.met')}` : o.met === false ? `✘ ${t('coop.not_met')}` : ''}</td></tr>))}</tbody></table>
      <Files files={op.attachments ?? []} />
      <h4>{t('coop.daily_reports')}</h4>
      {days.map((d) => (
        <div key={d} class="report-day" data-day={d}>
          <strong>{d}</strong>
          <table><tbody>{(op.reports ?? []).filter((r) => r.body.day === d).map((r) => (
            <tr key={r.id} class={`scope-${r.body.scope}`}><td>{r.body.scope === 'merged' ? t('coop.merged') : r.body.participant?.name}</td>
              <td class="small">{Object.entries(r.body.counts ?? {}).map(([k, v]) => `${t(`coop.indicator.${k}`)}: ${v}`).join(' · ')}</td>
              <td class="small">{r.body.scope === 'merged' ? (r.body.missing?.length ? `${t('coop.missing')}: ${r.body.missing.join(', ')}` : '') : r.body.remarks}</td></tr>))}</tbody></table>
          {coordinator && may(user, 'coordinate_operations') && <button onClick={() => act(() => post(`operations/${id}/merged`, { day: d }))}>{t('coop.merge_day')}</button>}
        </div>))}
      {participant && may(user, 'report_events') && op.status !== 'evaluated' && (
        <form class="coop-form" id="daily-report" onSubmit={report} aria-label={t('coop.daily_report')}>
          <h4>{t('coop.daily_report')}</h4>
          <Field id="dr-day" name={t('coop.day')} required><input id="dr-day" required pattern="\d{4}-\d{2}-\d{2}" value={day} onInput={(e) => setDay(val(e))} /></Field>
          <button type="button" class="link" onClick={draft}>{t('coop.fill_from_events')}</button>
          <div class="row-fields">{INDICATORS.map((k) => (
            <Field key={k} id={`dr-${k}`} name={t(`coop.indicator.${k}`)}><input id={`dr-${k}`} type="number" min={0} step="any" value={counts[k] ?? ''} onInput={(e) => setCounts({ ...counts, [k]: val(e) })} /></Field>))}</div>
          <Field id="dr-remarks" name={t('coop.remarks')}><textarea id="dr-remarks" rows={2} value={remarks} onInput={(e) => setRemarks((e.target as HTMLTextAreaElement).value)} /></Field>
          <button type="submit" class="primary">{t('coop.submit_report')}</button>
        </form>)}
      {coordinator && may(user, 'coordinate_operations') && op.status === 'ended' && (
        <button onClick={() => act(() => post(`operations/${id}/evaluation`, { remarks: '' }))}>{t('coop.evaluate')}</button>)}
      {failure && <p class="error" role="alert">{failure}</p>}
      <Thread recordId={op.id} messages={op.thread ?? []} onPosted={reload} />
    </article>
  );
}

function OperationForm({ user, onDone }: { user: User; onDone(id: string): void }) {
  const [peers] = useLoad<{ node_id: string; name: string }[]>('peers', []);
  const now = Date.now();
  const [f, setF] = useState<Body>({ name: '', sections: '', countries: '', start: toLocalInput(now), end: toLocalInput(now + 14 * 86400e3), description: '' });
  const [nodes, setNodes] = useState<string[]>([user.node_id]);
  const [resources, setResources] = useState<Body[]>([]);
  const [objectives, setObjectives] = useState<Body[]>([]);
  const [error, setError] = useState<string | null>(null);
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: val(e) });
  const list = (s: string) => s.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
  const submit = async (e: Event) => {
    e.preventDefault();
    const starts = fromLocalInput(f.start), ends = fromLocalInput(f.end);
    const countries = list(f.countries.toUpperCase());
    try {
      const op = await post<Rec>('operations', {
        name: f.name, description: f.description, sections: list(f.sections), countries, starts_at: starts, ends_at: ends,
        participants: nodes.map((n) => ({ node: n, name: n, country: n.slice(0, 2).toUpperCase() })),
        resources: resources.map((r, i) => ({ id: `r${i + 1}`, kind: r.kind, name: r.name, node: r.node || user.node_id, home_unit: r.home_unit, starts_at: starts, ends_at: ends })),
        objectives: objectives.map((o, i) => ({ id: `o${i + 1}`, text: o.text, indicator: o.indicator || null, target: o.target === '' || o.target == null ? null : Number(o.target) })),
      });
      onDone(op.id);
    } catch (err) { setError(errorText(err)); }
  };
  const row = (rows: Body[], setRows: (r: Body[]) => void, i: number, k: string) => (e: Event) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: val(e) } : r)));
  return (
    <form class="coop-form" id="operation-form" onSubmit={submit} aria-label={t('coop.new_operation')}>
      <Field id="op-name" name={t('coop.name')} required><input id="op-name" required value={f.name} onInput={set('name')} /></Field>
      <Field id="op-sections" name={t('coop.sections')} required><input id="op-sections" required placeholder="KG-TJ-007, KG-TJ-008" value={f.sections} onInput={set('sections')} /></Field>
      <Field id="op-countries" name={t('coop.countries')} required><input id="op-countries" required placeholder="KG, TJ" value={f.countries} onInput={set('countries')} /></Field>
      <div class="row-fields">
        <Field id="op-start" name={`${t('coop.starts')} (${zoneLabel()})`} required><input id="op-start" required value={f.start} onInput={set('start')} /></Field>
        <Field id="op-end" name={`${t('coop.ends')} (${zoneLabel()})`} required><input id="op-end" required value={f.end} onInput={set('end')} /></Field>
      </div>
      <fieldset><legend>{t('coop.participants')}</legend>
        {[user.node_id, ...(peers ?? []).map((p) => p.node_id)].map((n) => (
          <label key={n}><input type="checkbox" checked={nodes.includes(n)} disabled={n === user.node_id} onChange={() => setNodes(nodes.includes(n) ? nodes.filter((x) => x !== n) : [...nodes, n])} /> {n}</label>))}
      </fieldset>
      <fieldset><legend>{t('coop.resources')}</legend>
        {resources.map((r, i) => (
          <div class="row-fields" key={i}>
            <input aria-label={t('coop.name')} required value={r.name} onInput={row(resources, setResources, i, 'name')} />
            <select aria-label={t('coop.resource_kind')} value={r.kind} onChange={row(resources, setResources, i, 'kind')}><option value="asset">{t('coop.resource.asset')}</option><option value="team">{t('coop.resource.team')}</option></select>
            <select aria-label={t('node')} value={r.node} onChange={row(resources, setResources, i, 'node')}>{nodes.map((n) => <option key={n} value={n}>{n}</option>)}</select>
            <input aria-label={t('coop.home_unit')} placeholder={t('coop.home_unit')} required value={r.home_unit} onInput={row(resources, setResources, i, 'home_unit')} />
          </div>))}
        <button type="button" class="link" onClick={() => setResources([...resources, { name: '', kind: 'team', node: user.node_id, home_unit: '' }])}>+ {t('coop.add_resource')}</button>
      </fieldset>
      <fieldset><legend>{t('coop.objectives')}</legend>
        {objectives.map((o, i) => (
          <div class="row-fields" key={i}>
            <input aria-label={t('coop.objective')} required value={o.text} onInput={row(objectives, setObjectives, i, 'text')} />
            <select aria-label={t('coop.indicator')} value={o.indicator} onChange={row(objectives, setObjectives, i, 'indicator')}><option value="">—</option>{INDICATORS.map((k) => <option key={k} value={k}>{t(`coop.indicator.${k}`)}</option>)}</select>
            <input aria-label={t('coop.target')} type="number" min={0} value={o.target} onInput={row(objectives, setObjectives, i, 'target')} />
          </div>))}
        <button type="button" class="link" onClick={() => setObjectives([...objectives, { text: '', indicator: '', target: '' }])}>+ {t('coop.add_objective')}</button>
      </fieldset>
      <Field id="op-description" name={t('coop.plan')}><textarea id="op-description" rows={3} value={f.description} onInput={set('description')} /></Field>
      <button type="submit" class="primary">{t('coop.save')}</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
