// The console's shell: login, the top bar, pages, and the live stream feeding them.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, get, post, whenUnauthorised, type ActionRecord, type Asset, type EventRecord, type Taxonomy, type User } from './api';
import { ConsolePage } from './console';
import { DirectoryPage, OperationsPage, RequestsPage } from './cooperation';
import { DashboardPage } from './dashboard';
import { currentTimeZone, initialLanguage, LANGUAGES, loadLanguage, setTimeZone, t, TIME_ZONES } from './i18n';
import { EventStore } from './store';
import './styles.css';
import { eventQuery, parseView, viewHash, type View } from './view';

function Login({ onLogin, language, setLanguage }: { onLogin(u: User): void; language: string; setLanguage(l: string): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await post<{ user: User }>('auth/session', { username, password });
      onLogin(answer.user);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? t('wrong_password') : String((err as Error).message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="login-page">
      <form class="login" onSubmit={submit} aria-label={t('log_in')}>
        <h1>sitcen</h1>
        <p class="muted">{t('tagline')}</p>
        <label for="login-username">{t('username')}</label>
        <input id="login-username" name="username" autoComplete="username" autoFocus value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        <label for="login-password">{t('password')}</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy || !username || !password}>{t('log_in')}</button>
        <label for="login-language" class="small">{t('language')}</label>
        <select id="login-language" value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value)}>
          {LANGUAGES.map(([code, name]) => <option key={code} value={code}>{name}</option>)}
        </select>
      </form>
    </div>
  );
}

function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [language, setLanguageState] = useState<string | null>(null);
  const [tz, setTz] = useState(currentTimeZone());
  const [taxonomy, setTaxonomy] = useState<Taxonomy | null>(null);
  const [view, setViewState] = useState<View>(() => parseView(location.hash));
  const [actionsVersion, setActionsVersion] = useState(0);
  const [assetsVersion, setAssetsVersion] = useState(0);
  const [analysisVersion, setAnalysisVersion] = useState(0);
  const [coopVersion, setCoopVersion] = useState(0);
  const [connected, setConnected] = useState(false);
  const store = useMemo(() => new EventStore(), []);

  const setLanguage = async (lang: string) => {
    await loadLanguage(lang);
    setLanguageState(lang);
  };

  useEffect(() => {
    whenUnauthorised(() => setUser(null));
    setLanguage(initialLanguage()).catch(() => setLanguageState('en'));
    get<User>('auth/me').then(setUser).catch(() => setUser(null));
    const onHash = () => setViewState(parseView(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (user && language) get<Taxonomy>(`taxonomy?lang=${language}`).then(setTaxonomy).catch(() => {});
  }, [user, language]);

  const setView = (v: View) => {
    const hash = viewHash(v);
    if (hash !== location.hash) history.replaceState(null, '', hash);
    setViewState(v);
  };

  // (Re)load the events whenever the window or the filters change.
  const queryKey = eventQuery({ ...view, selected: null }).toString().replace(/since=[^&]*/, '') + view.window;
  useEffect(() => {
    if (user && view.page === 'map') store.load(view).catch(() => {});
  }, [user, queryKey, view.page]);

  // The live stream: the browser sends the session cookie and resumes by Last-Event-ID.
  useEffect(() => {
    if (!user) return;
    const source = new EventSource('/api/v1/stream');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('event', (m) => {
      const frame = JSON.parse((m as MessageEvent).data) as { record: EventRecord | null };
      if (frame.record) store.receive(frame.record);
    });
    source.addEventListener('event_action', (m) => {
      const frame = JSON.parse((m as MessageEvent).data) as { record: ActionRecord['body'] | null };
      if (frame.record) store.noteAction(frame.record);
      setActionsVersion((n) => n + 1);
    });
    source.addEventListener('asset_position', (m) => {
      const frame = JSON.parse((m as MessageEvent).data) as { record: Asset | null };
      if (frame.record) setAssetsVersion((n) => n + 1);
    });
    for (const kind of ['alert', 'section_assessment']) {
      source.addEventListener(kind, () => setAnalysisVersion((n) => n + 1));
    }
    // Requests, responses, files, operations, reports and messages: the open page reloads.
    for (const kind of ['request_for_information', 'request_response', 'attachment',
      'thread_message', 'joint_operation', 'operation_report', 'organisation', 'contact_point']) {
      source.addEventListener(kind, () => setCoopVersion((n) => n + 1));
    }
    return () => { source.close(); setConnected(false); };
  }, [user]);

  if (language === null || user === undefined) return <div class="splash">sitcen…</div>;
  if (user === null) return <Login onLogin={setUser} language={language} setLanguage={setLanguage} />;

  const logout = async () => {
    try { await post('auth/logout'); } finally { setUser(null); }
  };

  return (
    <div class="shell" data-language={language}>
      <header class="topbar">
        <strong class="brand">sitcen</strong>
        <span class="node muted" title={t('node')}>{user.node_id}</span>
        <nav>
          <a href={viewHash({ ...view, page: 'map' })} class={view.page === 'map' ? 'active' : ''}>{t('map')}</a>
          <a href={viewHash({ ...view, page: 'dashboard' })} class={view.page === 'dashboard' ? 'active' : ''}>{t('dashboard')}</a>
          {(['requests', 'operations', 'directory'] as const).map((p) => (
            <a key={p} id={`nav-${p}`} href={viewHash({ ...view, page: p, item: view.page === p ? view.item : null })} class={view.page === p ? 'active' : ''}>{t(`coop.${p}`)}</a>))}
        </nav>
        <span class="spacer" />
        <label class="small">{t('language')}{' '}
          <select id="language" value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value)}>
            {LANGUAGES.map(([code, name]) => <option key={code} value={code}>{name}</option>)}
          </select>
        </label>
        <label class="small">{t('time_zone')}{' '}
          <select id="time-zone" value={tz} onChange={(e) => { const z = (e.target as HTMLSelectElement).value; setTimeZone(z); setTz(z); }}>
            {TIME_ZONES.map((z) => <option key={z} value={z}>{z}</option>)}
          </select>
        </label>
        <span class="user" data-role={user.role}>{user.full_name} · {t(`role.${user.role}`)}</span>
        <button onClick={logout}>{t('log_out')}</button>
      </header>
      {view.page === 'dashboard' ? <DashboardPage language={`${language}|${tz}`} />
        : view.page === 'directory' ? <DirectoryPage user={user} key={`${language}|${tz}`} />
        : view.page === 'requests' ? <RequestsPage user={user} view={view} setView={setView} liveVersion={coopVersion} key={`${language}|${tz}`} />
        : view.page === 'operations' ? <OperationsPage user={user} view={view} setView={setView} liveVersion={coopVersion} key={`${language}|${tz}`} />
        : <ConsolePage user={user} view={view} taxonomy={taxonomy} setView={setView} store={store}
          actionsVersion={actionsVersion}
          assetsVersion={assetsVersion} analysisVersion={analysisVersion} connected={connected} key={`${language}|${tz}`} />}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
