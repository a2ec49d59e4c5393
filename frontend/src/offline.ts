// What the console keeps on the device to work with no link (docs/field.md): one IndexedDB
// database holding the outbox (outbox.ts) and the last picture the node sent; the signed-in
// user in localStorage; the service worker's registration and its reference data.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { registerSW } from 'virtual:pwa-register';
import { useEffect, useState } from 'preact/hooks';
import type { EventColumns, User } from './api';
import { t } from './i18n';
import { countriesPath } from './bandwidth';

/** One change waiting to be sent, or sent, or refused (outbox.ts). */
export interface OutboxItem {
  /** The order of sending (IndexedDB's key generator: strictly increasing). */
  seq?: number;
  /** Whose change it is: only that user's session sends it. */
  username: string;
  /** The Idempotency-Key, made once: every try of this change carries the same one. */
  key: string;
  kind: 'event' | 'event_action' | 'task_status' | 'attachment';
  /** Under /api/v1; `{record}` stands for the id the node gave the item `after`. */
  path: string;
  body?: unknown;
  /** A file's bytes (a photo) instead of a JSON body. */
  file?: Blob;
  /** The item whose answer names the record this one belongs to (a photo's event). */
  after?: number;
  /** What the operator sees in the outbox, in the language of the moment it was made. */
  title: string;
  state: 'waiting' | 'failed' | 'delivered';
  made: number;
  tries: number;
  /** The node's refusal (failed), or the last reason a try did not get through (waiting). */
  error?: string;
  delivered?: number;
  /** The id of the record the node made (events: the event's id). */
  answerId?: string;
  /** A file's resumable upload at the node (its address), once started (outbox.ts). */
  upload?: string;
  /** How many of the file's bytes the node holds, as last heard. */
  uploaded?: number;
}

/** The last list of events the node sent: shown, marked stale, when the node cannot be reached. */
export interface KeptPicture { id: 'last'; at: number; query: string; columns: EventColumns }

interface LocalSchema extends DBSchema {
  outbox: { key: number; value: OutboxItem; indexes: { by_user: string } };
  picture: { key: string; value: KeptPicture };
}

let opened: Promise<IDBPDatabase<LocalSchema>> | null = null;

/** The console's database on this device (made at first use). */
export function local(): Promise<IDBPDatabase<LocalSchema>> {
  opened ??= openDB<LocalSchema>('sitcen', 1, {
    upgrade(db) {
      const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      outbox.createIndex('by_user', 'username');
      db.createObjectStore('picture', { keyPath: 'id' });
    },
  });
  return opened;
}

export async function keepPicture(query: string, columns: EventColumns): Promise<void> {
  await (await local()).put('picture', { id: 'last', at: Date.now(), query, columns });
}

export async function keptPicture(): Promise<KeptPicture | null> {
  return (await (await local()).get('picture', 'last')) ?? null;
}

/** A fetch that never reached the node (no link, refused connection), not an answer. */
export const unreachable = (e: unknown): boolean => e instanceof TypeError;

// --- the signed-in user --------------------------------------------------------------------
const USER = 'sitcen.user';

/** The user of the last session, for a start with no link (the node still checks the cookie). */
export function rememberedUser(): User | null {
  try { return JSON.parse(localStorage.getItem(USER) ?? 'null') as User | null; } catch { return null; }
}

export function rememberUser(user: User | null): void {
  if (user) localStorage.setItem(USER, JSON.stringify(user));
  else localStorage.removeItem(USER);
}

/** At log-out: the picture goes (it is operational data); the outbox stays with its owner. */
export async function forgetSession(): Promise<void> {
  rememberUser(null);
  await (await local()).delete('picture', 'last');
}

/** Whether the browser believes it has a link, re-rendering on change. */
export function useOnline(): boolean {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    addEventListener('online', on);
    addEventListener('offline', off);
    return () => { removeEventListener('online', on); removeEventListener('offline', off); };
  }, []);
  return online;
}

/** How old something is, in words: "just now", "25 min ago", "2 h ago", "3 d ago". */
export function ageText(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return t('offline.age_now');
  if (minutes < 60) return t('offline.age_minutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? t('offline.age_hours', { n: hours }) : t('offline.age_days', { n: Math.floor(hours / 24) });
}

// --- the service worker --------------------------------------------------------------------
/** How often an open console asks the node whether a new build is installed. */
const UPDATE_CHECK_MS = 60 * 60_000;
let newVersion = false;
let installNewVersion: (() => Promise<void>) | null = null;
const versionListeners = new Set<() => void>();

/**
 * Register the console's service worker (built by vite-plugin-pwa, prompt mode) for the page
 * at "/". A new build's worker installs beside the old one and waits: the page is never
 * reloaded under an operator's hands; it says a new version is ready (useNewVersion) and
 * reloads when the operator chooses to.
 */
export function registerWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  let reloading = false;
  const reloadOnce = () => {
    if (!reloading) { reloading = true; location.reload(); }
  };
  const update = registerSW({
    immediate: true,
    onNeedReload: reloadOnce,
    onNeedRefresh() {
      newVersion = true;
      for (const fn of versionListeners) fn();
    },
    onRegisteredSW(_url, registration) {
      if (registration) setInterval(() => void registration.update().catch(() => {}), UPDATE_CHECK_MS);
    },
  });
  // The waiting worker takes over, then the page reloads. (registerSW reloads by itself
  // only when the page had a worker at its start: not after a first visit's install.)
  installNewVersion = async () => {
    navigator.serviceWorker.addEventListener('controllerchange', reloadOnce, { once: true });
    await update(true);
  };
}

/** Whether a new console build waits to take over, and how to take it (a reload). */
export function useNewVersion(): [boolean, () => void] {
  const [ready, setReady] = useState(newVersion);
  useEffect(() => {
    const fn = () => setReady(true);
    versionListeners.add(fn);
    return () => { versionListeners.delete(fn); };
  }, []);
  return [ready, () => void installNewVersion?.()];
}

/**
 * Ask again, through the worker, for what the console needs to start: the worker keeps a
 * copy of each answer. The first load of a page comes before its worker controls it, so
 * these would otherwise be kept only at the next start. Marks the page
 * `data-offline-ready` when done.
 */
export async function keepReference(language: string): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((done) => navigator.serviceWorker.addEventListener('controllerchange', done, { once: true }));
  }
  const lang = encodeURIComponent(language);
  await Promise.all([`taxonomy/labels?lang=${lang}`, `taxonomy?lang=${lang}`, countriesPath(), 'sections',
    'crossing-points'].map((path) => fetch(`/api/v1/${path}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then((r) => r.arrayBuffer())));
  document.documentElement.dataset.offlineReady = 'yes';
}
