// The console's shell: login, the top bar, pages, and the live stream feeding them.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, get, may, post, whenUnauthorised, type ActionRecord, type Asset, type EventRecord, type Taxonomy, type User } from './api';
import { ConsolePage } from './console';
import { DirectoryLogin } from './directory_login';
import { Bell, NotificationsPage, Toasts } from './notifications';
import type { Notification, QueuePage } from './ops';
import { lazyPage } from './pages';
import { PageNav, type NavItem } from './nav';
import { currentTimeZone, initialLanguage, languageReviewed, LANGUAGES, loadLanguage, setTimeZone, t, TIME_ZONES, zoneName } from './i18n';
import { lowBandwidth, setLowBandwidth, streamUrl } from './bandwidth';
import { EventStore } from './store';
import { atMostEvery, atOnceThenEvery } from './timing';
import { forgetSession, keepReference, registerWorker, rememberedUser, rememberUser, unreachable, useNewVersion, useOnline } from './offline';
import { startOutbox } from './outbox';
import { OutboxBadge } from './outbox_view';
import './styles.css';
import { eventQuery, parseView, viewHash, type View } from './view';

function Login({ onLogin, language, setLanguage }: { onLogin(u: User): void; language: string; setLanguage(l: string): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Asked for once the node says this account logs in with a second factor.
  const [code, setCode] = useState<string | null>(null);
  // A user whose role needs a second factor and has none sets it up before going on.
  const [enrolling, setEnrolling] = useState<User | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = code === null ? { username, password } : { username, password, code };
      const answer = await post<{ user: User; second_factor_setup: boolean }>('auth/session', body);
      if (answer.second_factor_setup) setEnrolling(answer.user);
      else onLogin(answer.user);
    } catch (err) {
      const kind = err instanceof ApiError ? err.items[0]?.type : undefined;
      if (kind === 'second_factor_required') {
        setCode('');
        setError(t('code_needed'));
      } else {
        setError(kind === 'wrong_code' ? t('wrong_code')
          : err instanceof ApiError && err.status === 401 ? t('wrong_password')
          : err instanceof ApiError && err.status === 429 ? t('login_throttled') : String((err as Error).message));
      }
    } finally {
      setBusy(false);
    }
  };
  if (enrolling) {
    return (
      <div class="login-page">
        <div class="login" role="region" aria-label={t('account.set_up')}>
          <h1>sitcen</h1>
          <p>{t('account.factor_required')}</p>
          <SecondFactorSetup password={password} done={() => onLogin(enrolling)} />
        </div>
      </div>
    );
  }
  return (
    <div class="login-page">
      <form class="login" onSubmit={submit} aria-label={t('log_in')}>
        <h1>sitcen</h1>
        <p class="muted">{t('tagline')}</p>
        <label for="login-username">{t('username')}</label>
        <input id="login-username" name="username" autoComplete="username" autoFocus value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        <label for="login-password">{t('password')}</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        {code !== null && <>
          <label for="login-code">{t('code')}</label>
          <input id="login-code" name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} autoFocus value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value.trim())} />
        </>}
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy || !username || !password || (code !== null && !/^[0-9]{6}$/.test(code))}>{t('log_in')}</button>
        <DirectoryLogin />
        <label for="login-language" class="small">{t('language')}</label>
        <select id="login-language" value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value)}>
          {LANGUAGES.map(([code, name]) => <option key={code} value={code}>{name}</option>)}
        </select>
      </form>
    </div>
  );
}

// The pages a post operator does not need first are fetched when first opened (each its
// own file, precached by the service worker all the same): the first visit on a poor link
// loads the map and the report form only.
const AccountPage = lazyPage(() => import('./accounts').then((m) => m.AccountPage));
const UsersPage = lazyPage(() => import('./accounts').then((m) => m.UsersPage));
const SecondFactorSetup = lazyPage(() => import('./accounts').then((m) => m.SecondFactorSetup));
const AlertsPage = lazyPage(() => import('./alerts').then((m) => m.AlertsPage));
const DirectoryPage = lazyPage(() => import('./cooperation').then((m) => m.DirectoryPage));
const OperationsPage = lazyPage(() => import('./cooperation').then((m) => m.OperationsPage));
const RequestsPage = lazyPage(() => import('./cooperation').then((m) => m.RequestsPage));
const DashboardPage = lazyPage(() => import('./dashboard').then((m) => m.DashboardPage));
const ReportsPage = lazyPage(() => import('./reports').then((m) => m.ReportsPage));
const RiskPage = lazyPage(() => import('./risk').then((m) => m.RiskPage));
const LevelsPage = lazyPage(() => import('./levels').then((m) => m.LevelsPage));
const QueuePageView = lazyPage(() => import('./queue').then((m) => m.QueuePageView));
const ShiftPage = lazyPage(() => import('./shift').then((m) => m.ShiftPage));
const TasksPage = lazyPage(() => import('./tasks').then((m) => m.TasksPage));
const PatrolsPage = lazyPage(() => import('./patrols').then((m) => m.PatrolsPage));
const NetworkPage = lazyPage(() => import('./network').then((m) => m.NetworkPage));

/** The discreet line under the top bar for a catalogue no native speaker has reviewed. */
function TranslationNote() {
  return (
    <details class="translation-note small" id="translation-note">
      <summary>{t('translation.unreviewed')}</summary>
      <p>{t('translation.howto')}</p>
    </details>
  );
}

/** A new console build is installed: said, and taken only when the operator chooses (a
 * reload in the middle of a report would lose it). */
function NewVersionBar() {
  const [ready, reload] = useNewVersion();
  if (!ready) return null;
  return (
    <div class="update-bar" id="update-bar" role="status">
      <span>{t('update.ready')}</span>
      <button id="update-reload" class="primary" onClick={reload}>{t('update.reload')}</button>
    </div>
  );
}

/** The pages on the top bar, in their order, those of the user's role only. */
function navItems(view: View, user: User, counts: { queue: number; overdue: number; alerts: number }): NavItem[] {
  const item = (page: View['page'], label: string, extra: Partial<View> = {}, more: Partial<NavItem> = {}): NavItem => ({
    page, label, active: view.page === page,
    href: viewHash({ ...view, page, item: null, for: null, ...extra }), ...more,
  });
  return [
    item('map', t('map')),
    item('dashboard', t('dashboard')),
    item('risk', t('risk_screen')),
    item('reports', t('reports'), { card: null }),
    item('queue', t('nav.queue'), {}, { count: counts.queue, warn: counts.overdue > 0 }),
    item('alerts', t('nav.alerts'), {}, { count: counts.alerts }),
    item('levels', t('nav.levels')),
    item('tasks', t('nav.tasks')),
    ...(may(user, 'report_events') ? [item('patrols', t('nav.patrols'))] : []),
    item('log', t('nav.log')),
    item('network', t('nav.network')),
    ...(['requests', 'operations', 'directory'] as const).map((p) =>
      item(p, t(`coop.${p}`), { item: view.page === p ? view.item : null })),
    ...(may(user, 'manage_users') ? [item('users', t('users.title'))] : []),
  ];
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
  const [opsVersion, setOpsVersion] = useState(0);
  const [unread, setUnread] = useState(0);
  const [toasts, setToasts] = useState<Notification[]>([]);
  const [counts, setCounts] = useState<{ queue: number; overdue: number; alerts: number }>({ queue: 0, overdue: 0, alerts: 0 });
  const store = useMemo(() => new EventStore(), []);
  const online = useOnline();
  // The work pages read again when the stream says something of theirs changed: at most
  // once a second, however busy the stream.
  const bump = useMemo(() => atMostEvery(1000, () => setOpsVersion((n) => n + 1)), []);
  // Moving patrols send a position every few seconds each: the map reads the assets again
  // at most every two seconds, not once per position.
  const bumpAssets = useMemo(() => atMostEvery(2000, () => setAssetsVersion((n) => n + 1)), []);
  // The bell's count from the node, not counted up here (a count read just after a
  // notification was written holds it already: it was once shown twice): read at once, then
  // at most once a second. A burst of serious reports brings a notification each, and one
  // request per notification once filled the browser's request queue
  // (net::ERR_INSUFFICIENT_RESOURCES).
  const refreshUnread = useMemo(() => atOnceThenEvery(1000, () => {
    get<{ unread: number }>('notifications?limit=1').then((a) => setUnread(a.unread)).catch(() => {});
  }), []);

  const setLanguage = async (lang: string) => {
    await loadLanguage(lang);
    setLanguageState(lang);
  };

  useEffect(() => {
    whenUnauthorised(() => setUser(null));
    setLanguage(initialLanguage()).catch(() => setLanguageState('en'));
    // With no link, the console starts as the user of the last session, from what the
    // service worker and the device kept (docs/field.md); the node checks the session
    // again as soon as it is reached.
    get<User>('auth/me').then(setUser).catch((e) => setUser(unreachable(e) ? rememberedUser() : null));
    const onHash = () => setViewState(parseView(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (user && language) {
      get<Taxonomy>(`taxonomy?lang=${language}`).then(setTaxonomy).catch(() => {});
      keepReference(language).catch(() => {});
    }
  }, [user, language]);

  // The outbox sends the signed-in user's changes; the device remembers who that is.
  useEffect(() => {
    if (user === undefined) return;
    rememberUser(user);
    startOutbox(user?.username ?? null);
  }, [user]);

  const setView = (v: View) => {
    const hash = viewHash(v);
    if (hash !== location.hash) history.replaceState(null, '', hash);
    setViewState(v);
  };
  // The map page's own writes (a debounced position, a selection) count only while the
  // address still shows the map: once the user has gone to another page, a late one must
  // not bring the map back.
  const setMapView = (v: View) => {
    if (parseView(location.hash).page === 'map') setView(v);
  };
  // A work page's open item (and, on the task page, what a new task is for) goes into
  // the URL as a new history entry, so Back returns to the list.
  const setItem = (item: string | null, forWhat: string | null = null) => {
    const next = { ...view, item, for: forWhat };
    const hash = viewHash(next);
    if (hash !== location.hash) history.pushState(null, '', hash);
    setViewState(next);
  };

  // (Re)load the events whenever the window or the filters change, and when the link comes
  // or goes (with none, the store shows the picture kept on the device).
  const queryKey = eventQuery({ ...view, selected: null }).toString().replace(/since=[^&]*/, '') + view.window;
  useEffect(() => {
    if (user && view.page === 'map') store.load(view).catch(() => {});
  }, [user, queryKey, view.page, online]);

  // The live stream: the browser sends the session cookie and resumes by Last-Event-ID.
  useEffect(() => {
    if (!user) return;
    const source = new EventSource(streamUrl());
    source.onopen = () => { setConnected(true); store.markLink(true); };
    source.onerror = () => { setConnected(false); store.markLink(false); };
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
      if (frame.record) bumpAssets();
    });
    for (const kind of ['alert', 'section_assessment', 'report']) {
      source.addEventListener(kind, () => setAnalysisVersion((n) => n + 1));
    }
    // Requests, responses, files, operations, reports and messages: the open page reloads.
    for (const kind of ['request_for_information', 'request_response', 'attachment',
      'thread_message', 'joint_operation', 'operation_report', 'organisation', 'contact_point']) {
      source.addEventListener(kind, () => setCoopVersion((n) => n + 1));
    }
    for (const kind of ['event', 'event_action', 'alert', 'section_assessment', 'task', 'task_response',
      'duty_log_entry', 'handover', 'notification_read', 'recommendation']) {
      source.addEventListener(kind, bump);
    }
    // The stream brings this user's own notifications only: count them and show a toast.
    source.addEventListener('notification', (m) => {
      const frame = JSON.parse((m as MessageEvent).data) as { record_id: string; recorded_at: number; record: Omit<Notification, 'id' | 'recorded_at' | 'unread' | 'summary_text'> | null };
      if (!frame.record) return;
      const n: Notification = { ...frame.record, id: frame.record_id, unread: true, summary_text: '',
        recorded_at: new Date(frame.recorded_at / 1000).toISOString() };
      refreshUnread();
      setToasts((ts) => [...ts.filter((x) => x.id !== n.id), n].slice(-5));
      if (!n.serious) setTimeout(() => setToasts((ts) => ts.filter((x) => x.id !== n.id)), 8000);
      bump();
    });
    return () => { source.close(); setConnected(false); };
  }, [user]);

  // The bell's count and the queue's and the alerts' figures in the top bar.
  useEffect(() => {
    if (!user) return;
    get<{ unread: number }>('notifications?limit=1').then((a) => setUnread(a.unread)).catch(() => {});
    Promise.all([get<QueuePage>('queue?limit=1'), get<{ alerts: { status: string }[] }>('alerts?status=open&limit=1000')])
      .then(([q, a]) => setCounts({ queue: q.counts.waiting, overdue: q.counts.overdue, alerts: a.alerts.length }))
      .catch(() => {});
  }, [user, opsVersion]);

  if (language === null || user === undefined) return <div class="splash">sitcen…</div>;
  if (user === null) return <Login onLogin={setUser} language={language} setLanguage={setLanguage} />;

  const logout = async () => {
    try { await post('auth/logout'); } finally { await forgetSession(); setUser(null); }
  };

  return (
    <div class="shell" data-language={language} data-live={connected ? 'on' : 'off'}>
      <header class="topbar">
        <strong class="brand">sitcen</strong>
        <span class="node muted" title={t('node')}>{user.node_id}</span>
        <PageNav items={navItems(view, user, counts)} />
        <label class="small"><span class="sr-only">{t('language')}</span>
          <select id="language" value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value)}>
            {LANGUAGES.map(([code, name]) => <option key={code} value={code}>{name}</option>)}
          </select>
        </label>
        <label class="small"><span class="sr-only">{t('time_zone')}</span>
          <select id="time-zone" title={t('times_in_zone')} value={tz} onChange={(e) => { const z = (e.target as HTMLSelectElement).value; setTimeZone(z); setTz(z); }}>
            {TIME_ZONES.map((z) => <option key={z} value={z}>{zoneName(z)}</option>)}
          </select>
        </label>
        <OutboxBadge />
        <label class="small low-bandwidth" title={t('low_bandwidth_hint')}>
          <input type="checkbox" id="low-bandwidth" checked={lowBandwidth()}
            onChange={(e) => setLowBandwidth((e.target as HTMLInputElement).checked)} />
          {t('low_bandwidth')}
        </label>
        <Bell unread={unread} />
        <a class="user" id="nav-account" data-role={user.role} href={viewHash({ ...view, page: 'account', item: null, for: null })}
          title={t('account.title')}>{user.full_name} · {t(`role.${user.role}`)}</a>
        <button onClick={logout}>{t('log_out')}</button>
      </header>
      <NewVersionBar />
      {!languageReviewed() && <TranslationNote />}
      {view.page === 'dashboard' ? <DashboardPage language={`${language}|${tz}`} />
        : view.page === 'risk' ? <RiskPage user={user} view={view} setView={setView} version={analysisVersion} key={`risk|${language}|${tz}`} />
        : view.page === 'reports' ? <ReportsPage user={user} view={view} setView={setView} version={analysisVersion} key={`reports|${language}|${tz}`} />
        : view.page === 'queue' ? <QueuePageView user={user} version={opsVersion} item={view.item} setItem={setItem} key={`${language}|${tz}`} />
          : view.page === 'alerts' ? <AlertsPage user={user} version={opsVersion} item={view.item} setItem={setItem} key={`${language}|${tz}`} />
            : view.page === 'levels' ? <LevelsPage user={user} version={opsVersion} item={view.item} setItem={setItem} key={`${language}|${tz}`} />
              : view.page === 'patrols' ? <PatrolsPage user={user} version={opsVersion} item={view.item} setItem={setItem} key={`patrols|${language}|${tz}`} />
              : view.page === 'tasks' ? <TasksPage user={user} version={opsVersion} item={view.item} forWhat={view.for} setItem={setItem} key={`${language}|${tz}`} />
                : view.page === 'log' ? <ShiftPage user={user} version={opsVersion} key={`${language}|${tz}`} />
                : view.page === 'network' ? <NetworkPage key={`network|${language}|${tz}`} />
                  : view.page === 'notifications' ? <NotificationsPage version={opsVersion} taxonomy={taxonomy} onRead={() => setUnread(0)} key={`${language}|${tz}`} />
                    : view.page === 'directory' ? <DirectoryPage user={user} key={`${language}|${tz}`} />
                      : view.page === 'requests' ? <RequestsPage user={user} view={view} setView={setView} liveVersion={coopVersion} key={`${language}|${tz}`} />
                        : view.page === 'operations' ? <OperationsPage user={user} view={view} setView={setView} liveVersion={coopVersion} key={`${language}|${tz}`} />
                          : view.page === 'account' ? <AccountPage user={user} key={`${language}|${tz}`} />
                            : view.page === 'users' ? <UsersPage user={user} key={`${language}|${tz}`} />
                          : <ConsolePage user={user} view={view} taxonomy={taxonomy} setView={setMapView} store={store}
                            actionsVersion={actionsVersion}
                            assetsVersion={assetsVersion} analysisVersion={analysisVersion} connected={connected} key={`${language}|${tz}`} />}
      <Toasts items={toasts} dismiss={(id) => setToasts((ts) => ts.filter((x) => x.id !== id))} />
    </div>
  );
}

registerWorker();
render(<App />, document.getElementById('app')!);
