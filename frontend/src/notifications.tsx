// Notifications: the bell with the unread count, toasts as they arrive, the list of what
// one was told, and the settings — what one follows and how it reaches one (e-mail,
// webhook, a daily digest), with the delivery log.
import { useEffect, useState } from 'preact/hooks';
import { request, get, post, type Taxonomy } from './api';
import { currentLanguage, enumLabel, formatShort, formatTime, t, typeLabel } from './i18n';
import { notificationHref, phraseText, refusal, type Notification } from './ops';

const KINDS = ['event', 'event_action', 'alert', 'section_assessment', 'recommendation', 'asset_position', 'request_for_information', 'sensor_detection'];
const IMPACTS = ['low', 'medium', 'high', 'very_high', 'critical'];
const SEVERITIES = ['low', 'medium', 'high'];

interface Subscription {
  id: string; version: number; name: string; kinds: string[]; sections: string[];
  area: [number, number, number, number] | null; event_types: string[]; impact_levels: string[];
  alert_severities: string[]; on_change: boolean; email: string | null; webhook_url: string | null;
  digest: boolean; language: string; active: boolean;
}
interface Delivery { id: string; version: number; channel: string; to: string; status: string; attempts: number; last_error: string; recorded_at: string; notifications: string[] }

/** The bell: unread notifications; opening it goes to the list and marks them read. */
export function Bell({ unread }: { unread: number }) {
  return (
    <a class={`bell ${unread ? 'has-unread' : ''}`} href="#/notifications" aria-label={t('notify.bell', { n: unread })} title={t('notify.bell', { n: unread })}>
      <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="currentColor">
        <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z" />
      </svg>{unread > 0 && <span class="bell-count">{unread > 99 ? '99+' : unread}</span>}
    </a>
  );
}

/** Toasts for notifications that arrive: serious ones stay until dismissed. */
export function Toasts({ items, dismiss }: { items: Notification[]; dismiss(id: string): void }) {
  return (
    <div class="toasts" aria-live="polite">
      {items.map((n) => (
        <div key={n.id} class={`toast-card ${n.serious ? 'serious' : ''}`} role={n.serious ? 'alert' : 'status'}>
          <a href={notificationHref(n)} onClick={() => dismiss(n.id)}>{phraseText(n.summary)}</a>
          {n.text && !phraseText(n.summary).includes(n.text) && <span class="small"> — {n.text}</span>}
          <button class="close" aria-label={t('close')} onClick={() => dismiss(n.id)}>×</button>
        </div>
      ))}
    </div>
  );
}

function emptySubscription(): Omit<Subscription, 'id' | 'version'> {
  return { name: '', kinds: ['event'], sections: [], area: null, event_types: [], impact_levels: [], alert_severities: [],
    on_change: false, email: null, webhook_url: null, digest: false, language: currentLanguage(), active: true };
}

export function NotificationsPage({ version, taxonomy, onRead }: { version: number; taxonomy: Taxonomy | null; onRead(): void }) {
  const [items, setItems] = useState<Notification[]>([]);
  const [subs, setSubs] = useState<Subscription[]>([]);
  const [editing, setEditing] = useState<(Omit<Subscription, 'id' | 'version'> & { id?: string; version?: number }) | null>(null);
  const [sections, setSections] = useState('');
  const [deliveries, setDeliveries] = useState<Record<string, Delivery[]>>({});
  const [keys, setKeys] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    setItems((await get<{ notifications: Notification[] }>('notifications?limit=100')).notifications);
    setSubs((await get<{ subscriptions: Subscription[] }>('subscriptions')).subscriptions);
  };
  useEffect(() => {
    load().then(() => post('notifications/read', {})).then(onRead).catch((e) => setError(refusal(e)));
  }, [version]);

  const edit = (s: Subscription | null) => {
    const value = s ? { ...s } : emptySubscription();
    setEditing(value);
    setSections(value.sections.join(', '));
  };
  const toggle = (list: string[], value: string) => (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);
  const save = async (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    setBusy(true);
    setError(null);
    const { id, version: v, ...rest } = editing;
    const body = { ...rest, sections: sections.split(',').map((s) => s.trim()).filter(Boolean),
      email: rest.email || null, webhook_url: rest.webhook_url || null };
    try {
      if (id) await request('PUT', `subscriptions/${id}`, { ...body, base_version: v });
      else await post('subscriptions', body);
      setEditing(null);
      await load();
    } catch (err) { setError(refusal(err)); } finally { setBusy(false); }
  };
  const remove = async (s: Subscription) => {
    try { await request('DELETE', `subscriptions/${s.id}`); await load(); } catch (err) { setError(refusal(err)); }
  };
  const showLog = async (s: Subscription) => {
    const answer = await get<{ deliveries: Delivery[] }>(`subscriptions/${s.id}/deliveries`);
    setDeliveries({ ...deliveries, [s.id]: answer.deliveries });
  };
  const showKey = async (s: Subscription) => {
    const answer = await get<{ key: string }>(`subscriptions/${s.id}/webhook-key`);
    setKeys({ ...keys, [s.id]: answer.key });
  };

  const types = taxonomy?.categories.flatMap((c) => c.types) ?? [];
  return (
    <div class="work-page notifications-page">
      <div class="work-head"><h2>{t('notify.title')}</h2></div>
      {error && <p class="error notice" role="alert">{error}</p>}
      <div class="shift-body">
        <section class="card" aria-label={t('notify.received')}>
          <h3>{t('notify.received')}</h3>
          <ol class="notification-list">
            {items.map((n) => (
              <li key={n.id} class={`${n.unread ? 'unread' : ''} ${n.serious ? 'serious' : ''}`}>
                <span class="muted small">{formatShort(n.recorded_at)}</span>{' '}
                <span class="badge">{t(`notify.reason.${n.reason}`)}</span>{' '}
                <a href={notificationHref(n)}>{phraseText(n.summary)}</a>
                {n.text && !phraseText(n.summary).includes(n.text) && <span class="small"> — {n.text}</span>}
              </li>
            ))}
          </ol>
          {!items.length && <p class="empty">{t('notify.none')}</p>}
        </section>
        <section class="card" aria-label={t('notify.settings')}>
          <h3>{t('notify.settings')}</h3>
          {!editing && <button class="primary" onClick={() => edit(null)}>{t('notify.new')}</button>}
          {editing && (
            <form class="subscription-form" onSubmit={save} onKeyDown={(e) => { if (e.key === 'Escape') setEditing(null); }}>
              <label for="sub-name">{t('notify.name')} <span class="req">*</span></label>
              <input id="sub-name" required value={editing.name} onInput={(e) => setEditing({ ...editing, name: (e.target as HTMLInputElement).value })} />
              <fieldset class="filter chips"><legend>{t('notify.kinds')} <span class="req">*</span></legend>
                {KINDS.map((k) => <label key={k} class={editing.kinds.includes(k) ? 'on' : ''}><input type="checkbox" checked={editing.kinds.includes(k)} onChange={() => setEditing({ ...editing, kinds: toggle(editing.kinds, k) })} /> {t(`notify.kind.${k}`)}</label>)}
              </fieldset>
              <label for="sub-sections">{t('notify.sections')}</label>
              <input id="sub-sections" placeholder="AF-TJ-004, KG-TJ-*" value={sections} onInput={(e) => setSections((e.target as HTMLInputElement).value)} />
              <fieldset class="filter checks long"><legend>{t('notify.types')}</legend>
                {types.map((ty) => <label key={ty.id}><input type="checkbox" checked={editing.event_types.includes(ty.id)} onChange={() => setEditing({ ...editing, event_types: toggle(editing.event_types, ty.id) })} /> {typeLabel(ty.id)}</label>)}
              </fieldset>
              <fieldset class="filter chips"><legend>{t('notify.impacts')}</legend>
                {IMPACTS.map((k) => <label key={k} class={editing.impact_levels.includes(k) ? 'on' : ''}><input type="checkbox" checked={editing.impact_levels.includes(k)} onChange={() => setEditing({ ...editing, impact_levels: toggle(editing.impact_levels, k) })} /> {k === 'critical' ? enumLabel('section_impact_level', k) : enumLabel('impact_level', k)}</label>)}
              </fieldset>
              <fieldset class="filter chips"><legend>{t('notify.severities')}</legend>
                {SEVERITIES.map((k) => <label key={k} class={editing.alert_severities.includes(k) ? 'on' : ''}><input type="checkbox" checked={editing.alert_severities.includes(k)} onChange={() => setEditing({ ...editing, alert_severities: toggle(editing.alert_severities, k) })} /> {t(`severity.${k}`)}</label>)}
              </fieldset>
              <label class="inline-check"><input type="checkbox" checked={editing.on_change} onChange={() => setEditing({ ...editing, on_change: !editing.on_change })} /> {t('notify.on_change')}</label>
              <label for="sub-email">{t('notify.email')}</label>
              <input id="sub-email" type="email" value={editing.email ?? ''} onInput={(e) => setEditing({ ...editing, email: (e.target as HTMLInputElement).value })} />
              <label class="inline-check"><input type="checkbox" checked={editing.digest} onChange={() => setEditing({ ...editing, digest: !editing.digest })} /> {t('notify.digest')}</label>
              <label for="sub-webhook">{t('notify.webhook')}</label>
              <input id="sub-webhook" type="url" placeholder="https://" value={editing.webhook_url ?? ''} onInput={(e) => setEditing({ ...editing, webhook_url: (e.target as HTMLInputElement).value })} />
              <div class="buttons">
                <button type="submit" class="primary" disabled={busy || !editing.name.trim() || !editing.kinds.length}>{t('notify.save')}</button>
                <button type="button" onClick={() => setEditing(null)}>{t('cancel')}</button>
              </div>
            </form>
          )}
          <ul class="subscriptions">
            {subs.map((s) => (
              <li key={s.id}>
                <strong>{s.name}</strong> <span class="muted small">{s.kinds.map((k) => t(`notify.kind.${k}`)).join(', ')}
                  {s.sections.length ? ` · ${s.sections.join(', ')}` : ''}{s.event_types.length ? ` · ${s.event_types.map(typeLabel).join(', ')}` : ''}
                  {s.impact_levels.length ? ` · ${s.impact_levels.join(', ')}` : ''}{s.email ? ` · ✉ ${s.email}${s.digest ? ` (${t('notify.digest_short')})` : ''}` : ''}
                  {s.webhook_url ? ` · ⇄ ${s.webhook_url}` : ''}</span>
                <div class="action-buttons">
                  <button onClick={() => edit(s)}>{t('notify.edit')}</button>
                  <button onClick={() => remove(s)}>{t('notify.delete')}</button>
                  {(s.email || s.webhook_url) && <button onClick={() => showLog(s)}>{t('notify.log')}</button>}
                  {s.webhook_url && <button onClick={() => showKey(s)}>{t('notify.key')}</button>}
                </div>
                {keys[s.id] && <p class="small"><code>{keys[s.id]}</code></p>}
                {deliveries[s.id] && (
                  <table class="work-table small"><tbody>
                    {deliveries[s.id].map((d) => <tr key={d.id}><td>{formatTime(d.recorded_at)}</td><td>{d.channel}</td><td>{t(`notify.delivery.${d.status}`)}</td><td class="num">{d.attempts}</td><td>{d.last_error}</td></tr>)}
                    {!deliveries[s.id].length && <tr><td>{t('notify.no_deliveries')}</td></tr>}
                  </tbody></table>
                )}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
