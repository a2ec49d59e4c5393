// Accounts: my sessions and password (everyone); the node's users and the audit trail
// (administrators). The same API as `sitcen user …` and `sitcen audit …` (docs/security.md).
import { useEffect, useState } from 'preact/hooks';
import { get, may, patch, post, request, type User } from './api';
import { formatTime, t } from './i18n';
import { refusal } from './ops';

interface Session { id: string; username: string; kind: string; address: string | null; created_at: string; expires_at: string; current: boolean }
interface Account { username: string; full_name: string; role: string; disabled: boolean; created_at: string; sessions: number; second_factor: boolean }
interface FactorState { enrolled: boolean; required: boolean }
interface FactorSetup { secret: string; uri: string; qr_svg: string }
interface AuditEntry { seq: number; at: string; actor: string; action: string; subject: string; detail: string }
interface AuditPage { entries: AuditEntry[]; next_after: number | null }
interface Verification { ok: boolean; entries: number; head: string; problems: string[] }

const ROLES = ['operator', 'duty_officer', 'analyst', 'liaison', 'admin'];

function Sessions({ sessions, end }: { sessions: Session[]; end(s: Session): void }) {
  if (!sessions.length) return <p class="muted">{t('account.no_sessions')}</p>;
  return (
    <table class="sessions">
      <thead><tr><th>{t('account.session_kind')}</th><th>{t('account.address')}</th><th>{t('account.since')}</th><th>{t('account.until')}</th><th /></tr></thead>
      <tbody>
        {sessions.map((s) => (
          <tr key={s.id} data-session={s.id}>
            <td>{t(`account.kind.${s.kind}`)}{s.current && <strong> · {t('account.this_session')}</strong>}</td>
            <td>{s.address ?? '—'}</td>
            <td>{formatTime(s.created_at)}</td>
            <td>{formatTime(s.expires_at)}</td>
            <td>{!s.current && <button class="end-session" onClick={() => end(s)}>{t('account.end_session')}</button>}</td>
          </tr>))}
      </tbody>
    </table>
  );
}

const CODE = /^[0-9]{6}$/;

/** Setting up a second factor: the password again (unless just typed at login), the QR
 * code for the authenticator app, and its first code to confirm. */
export function SecondFactorSetup({ password: known, done }: { password?: string; done(): void }) {
  const [password, setPassword] = useState(known ?? '');
  const [setup, setSetup] = useState<FactorSetup | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const start = async (pw: string) => {
    setError(null);
    try { setSetup(await post<FactorSetup>('auth/second-factor', { password: pw })); } catch (e) { setError(refusal(e)); }
  };
  useEffect(() => { if (known) start(known); }, []);
  const confirm = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try { await post('auth/second-factor/confirm', { code }); done(); } catch (err) { setError(refusal(err)); }
  };
  return (
    <div class="factor-setup">
      {!setup && !known && (
        <form onSubmit={(e) => { e.preventDefault(); start(password); }}>
          <label for="factor-password">{t('account.password_again')}</label>
          <input id="factor-password" type="password" autoComplete="current-password" value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary" disabled={!password}>{t('account.set_up')}</button>
        </form>)}
      {setup && (
        <form onSubmit={confirm}>
          <p>{t('account.scan')}</p>
          <img class="factor-qr" src={setup.qr_svg} alt={t('account.qr')} width={200} height={200} />
          <p><code class="factor-secret">{setup.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
          <label for="factor-code">{t('account.app_code')}</label>
          <input id="factor-code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value.trim())} />
          <button type="submit" class="primary" disabled={!CODE.test(code)}>{t('account.confirm')}</button>
        </form>)}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

/** My second factor: on, or set one up; removing it takes a current code. */
function SecondFactor() {
  const [state, setState] = useState<FactorState | null>(null);
  const [settingUp, setSettingUp] = useState(false);
  const [code, setCode] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => get<FactorState>('auth/second-factor').then(setState).catch((e) => setError(refusal(e)));
  useEffect(() => { load(); }, []);
  const remove = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await post('auth/second-factor/remove', { code });
      setCode('');
      setMessage(t('account.factor_removed'));
      await load();
    } catch (err) { setError(refusal(err)); }
  };
  if (!state) return null;
  return (
    <section class="card second-factor">
      <h3>{t('account.second_factor')}</h3>
      <p>{state.enrolled ? t('account.factor_on') : state.required ? t('account.factor_required') : t('account.factor_off')}</p>
      {!state.enrolled && !settingUp && <button class="primary" onClick={() => { setMessage(null); setSettingUp(true); }}>{t('account.set_up')}</button>}
      {!state.enrolled && settingUp && <SecondFactorSetup done={() => { setSettingUp(false); setMessage(t('account.factor_set')); load(); }} />}
      {state.enrolled && (
        <form onSubmit={remove}>
          <label for="remove-factor-code">{t('account.app_code')}</label>
          <input id="remove-factor-code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value.trim())} />
          <button type="submit" disabled={!CODE.test(code)}>{t('account.remove_factor')}</button>
        </form>)}
      {message && <p class="notice" role="status">{message}</p>}
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}

/** Everyone: my open sessions (end one left open elsewhere) and a new password. */
export function AccountPage({ user }: { user: User }) {
  const [sessions, setSessions] = useState<Session[]>([]);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => get<Session[]>('auth/sessions').then(setSessions).catch((e) => setError(refusal(e)));
  useEffect(() => { load(); }, []);
  const end = async (s: Session) => {
    setError(null);
    try { await request('DELETE', `auth/sessions/${s.id}`); await load(); } catch (e) { setError(refusal(e)); }
  };
  const change = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setMessage(null);
    try {
      await post('auth/password', { current_password: current, new_password: next });
      setCurrent('');
      setNext('');
      setMessage(t('account.password_changed'));
      await load();
    } catch (err) { setError(refusal(err)); }
  };
  return (
    <div class="work-page account-page">
      <div class="work-head"><h2>{t('account.title')} · {user.full_name}</h2></div>
      <div class="accounts-body">
      <section class="card">
        <h3>{t('account.sessions')}</h3>
        <Sessions sessions={sessions} end={end} />
      </section>
      <section class="card">
        <h3>{t('account.change_password')}</h3>
        <form class="password-form" onSubmit={change}>
          <label for="current-password">{t('account.current_password')}</label>
          <input id="current-password" type="password" autoComplete="current-password" value={current}
            onInput={(e) => setCurrent((e.target as HTMLInputElement).value)} />
          <label for="new-password">{t('account.new_password')}</label>
          <input id="new-password" type="password" autoComplete="new-password" value={next}
            onInput={(e) => setNext((e.target as HTMLInputElement).value)} />
          <p class="muted small">{t('account.password_rules')}</p>
          <button type="submit" class="primary" disabled={!current || !next}>{t('account.change_password')}</button>
        </form>
        {message && <p class="notice" role="status">{message}</p>}
      </section>
      <SecondFactor />
      {error && <p class="error" role="alert">{error}</p>}
      </div>
    </div>
  );
}

function AuditTrail({ version }: { version: number }) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [nextAfter, setNextAfter] = useState<number | null>(null);
  const [actor, setActor] = useState('');
  const [check, setCheck] = useState<Verification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async (after = 0) => {
    setError(null);
    const query = new URLSearchParams({ limit: '100', after_seq: String(after) });
    if (actor.trim()) query.set('actor', actor.trim());
    try {
      const page = await get<AuditPage>(`audit?${query}`);
      setEntries((old) => (after ? [...old, ...page.entries] : page.entries));
      setNextAfter(page.next_after);
    } catch (e) { setError(refusal(e)); }
  };
  useEffect(() => { load(); }, [version]);
  const verify = async () => {
    setError(null);
    try { setCheck(await get<Verification>('audit/verify')); } catch (e) { setError(refusal(e)); }
  };
  return (
    <section class="card audit-trail">
      <h3>{t('audit.title')}</h3>
      <form class="audit-filter" onSubmit={(e) => { e.preventDefault(); load(); }}>
        <label for="audit-actor">{t('audit.person')}</label>
        <input id="audit-actor" value={actor} onInput={(e) => setActor((e.target as HTMLInputElement).value)} />
        <button type="submit">{t('audit.show')}</button>
        <button type="button" id="audit-verify" onClick={verify}>{t('audit.verify')}</button>
      </form>
      {check && (
        <p class={check.ok ? 'notice' : 'error'} role="status" id="audit-check">
          {check.ok ? t('audit.whole', { n: check.entries }) : t('audit.broken', { n: check.problems.length })}
          {' '}<code title={t('audit.head_hint')}>{check.head.slice(0, 16)}…</code>
          {!check.ok && <ul>{check.problems.map((p) => <li key={p}>{p}</li>)}</ul>}
        </p>)}
      <table class="audit">
        <thead><tr><th>#</th><th>{t('audit.when')}</th><th>{t('audit.person')}</th><th>{t('audit.action')}</th><th>{t('audit.subject')}</th><th>{t('audit.detail')}</th></tr></thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq} data-action={e.action}>
              <td>{e.seq}</td><td>{formatTime(e.at)}</td><td>{e.actor}</td>
              <td>{t(`audit.action.${e.action}`)}</td><td>{e.subject}</td><td class="small"><code>{e.detail}</code></td>
            </tr>))}
        </tbody>
      </table>
      {nextAfter !== null && <button onClick={() => load(nextAfter)}>{t('audit.more')}</button>}
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}

/** Administrators: the node's users (add, disable, role, new password, unlock, end
 * sessions) and the audit trail with its check. */
export function UsersPage({ user }: { user: User }) {
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [form, setForm] = useState({ username: '', full_name: '', role: 'operator', password: '' });
  const [version, setVersion] = useState(0);
  const load = () => get<Account[]>('users').then(setAccounts).catch((e) => setError(refusal(e)));
  useEffect(() => { load(); }, []);
  if (!may(user, 'manage_users')) return <div class="work-page"><p class="error">{t('forbidden')}</p></div>;
  const act = async (what: () => Promise<unknown>, done: string) => {
    setError(null);
    setNotice(null);
    try { await what(); setNotice(done); await load(); setVersion((v) => v + 1); } catch (e) { setError(refusal(e)); }
  };
  const add = (e: Event) => {
    e.preventDefault();
    act(() => post('users', form), t('users.added', { name: form.username }))
      .then(() => setForm({ username: '', full_name: '', role: 'operator', password: '' }));
  };
  const reset = (a: Account) => {
    const password = window.prompt(t('users.new_password_for', { name: a.username }));
    if (password) act(() => post(`users/${a.username}/password`, { password }), t('users.password_set', { name: a.username }));
  };
  return (
    <div class="work-page users-page">
      <div class="work-head"><h2>{t('users.title')}</h2></div>
      <div class="accounts-body">
      <section class="card">
      <table class="users">
        <thead><tr><th>{t('username')}</th><th>{t('users.name')}</th><th>{t('users.role')}</th><th>{t('account.sessions')}</th><th>{t('users.second_factor')}</th><th /></tr></thead>
        <tbody>
          {accounts.map((a) => (
            <tr key={a.username} data-user={a.username} class={a.disabled ? 'disabled' : ''}>
              <td>{a.username}{a.disabled && <span class="muted"> · {t('users.disabled')}</span>}</td>
              <td>{a.full_name}</td>
              <td>
                <select aria-label={t('users.role')} value={a.role}
                  onChange={(e) => act(() => patch(`users/${a.username}`, { role: (e.target as HTMLSelectElement).value }), t('users.changed', { name: a.username }))}>
                  {ROLES.map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
                </select>
              </td>
              <td>{a.sessions}</td>
              <td>{a.second_factor ? t('users.factor_yes') : '—'}</td>
              <td><div class="actions">
                <button class="toggle-user" onClick={() => act(() => patch(`users/${a.username}`, { disabled: !a.disabled }), t('users.changed', { name: a.username }))}>
                  {a.disabled ? t('users.enable') : t('users.disable')}</button>
                <button onClick={() => reset(a)}>{t('users.reset_password')}</button>
                <button onClick={() => act(() => post(`users/${a.username}/unlock`), t('users.unlocked', { name: a.username }))}>{t('users.unlock')}</button>
                {a.second_factor && <button class="reset-factor" onClick={() => {
                  if (window.confirm(t('users.reset_factor_confirm', { name: a.username })))
                    act(() => request('DELETE', `users/${a.username}/second-factor`), t('users.factor_reset', { name: a.username }));
                }}>{t('users.reset_factor')}</button>}
                <button disabled={!a.sessions} onClick={() => act(() => request('DELETE', `users/${a.username}/sessions`), t('users.sessions_ended', { name: a.username }))}>{t('users.end_sessions')}</button>
              </div></td>
            </tr>))}
        </tbody>
      </table>
      </section>
      <form class="card add-user" onSubmit={add}>
        <h3>{t('users.add')}</h3>
        <label for="new-username">{t('username')}</label>
        <input id="new-username" value={form.username} onInput={(e) => setForm({ ...form, username: (e.target as HTMLInputElement).value })} />
        <label for="new-full-name">{t('users.name')}</label>
        <input id="new-full-name" value={form.full_name} onInput={(e) => setForm({ ...form, full_name: (e.target as HTMLInputElement).value })} />
        <label for="new-role">{t('users.role')}</label>
        <select id="new-role" value={form.role} onChange={(e) => setForm({ ...form, role: (e.target as HTMLSelectElement).value })}>
          {ROLES.map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
        </select>
        <label for="new-user-password">{t('password')}</label>
        <input id="new-user-password" type="password" autoComplete="new-password" value={form.password}
          onInput={(e) => setForm({ ...form, password: (e.target as HTMLInputElement).value })} />
        <button type="submit" class="primary" disabled={!form.username || !form.password}>{t('users.add')}</button>
      </form>
      {notice && <p class="notice" role="status">{notice}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <AuditTrail version={version} />
      </div>
    </div>
  );
}
