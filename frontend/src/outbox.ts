// The outbox: changes made with no link (reports, follow-ups, task statuses, photos) kept on
// the device in IndexedDB and sent when the link returns, strictly in the order they were
// made, one at a time. Each keeps the Idempotency-Key it was made with, so a try whose
// answer was lost is answered by the node with its first answer: nothing is stored twice.
// An item is delivered (2xx), failed (any other 4xx: shown with the node's reason, the
// operator removes it) or still waiting (no link, the node busy or failing, the session
// ended); waiting items are tried again when the browser says it is online, and after a
// pause that doubles from 5 s to 5 min.
import { answerOf, API, ApiError, newKey, request } from './api';
import { local, unreachable, type OutboxItem } from './offline';

export type { OutboxItem };

const FIRST_PAUSE_MS = 5_000;
const LONGEST_PAUSE_MS = 5 * 60_000;
/** Delivered items stay listed (the operator sees them go), the last few of them. */
const DELIVERED_KEPT = 20;

let username: string | null = null;
let pauses = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let sending: Promise<void> | null = null;
const listeners = new Set<() => void>();

/** Called whenever an item is added, sent, refused or removed. */
export function watchOutbox(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
const changed = () => { for (const fn of listeners) fn(); };

/** Start sending `user`'s items (at log-in; null at log-out stops it). */
export function startOutbox(user: string | null): void {
  username = user;
  clearTimeout(timer);
  pauses = 0;
  if (user) void sendWaiting();
  changed();
}

addEventListener('online', () => { pauses = 0; void sendWaiting(); });

/** This user's items, oldest first. */
export async function outboxItems(): Promise<OutboxItem[]> {
  if (!username) return [];
  const all = await (await local()).getAllFromIndex('outbox', 'by_user', username);
  return all.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}

/** A change as the outbox keeps it, before it has a place in the queue. */
export type NewChange = Pick<OutboxItem, 'kind' | 'path' | 'body' | 'file' | 'after' | 'title'> & { key?: string };

/** Put a change at the end of the queue; answers its place (seq). */
export async function enqueue(change: NewChange): Promise<number> {
  if (!username) throw new Error('not logged in');
  const item: OutboxItem = { ...change, key: change.key ?? newKey(), username, state: 'waiting',
    made: Date.now(), tries: 0 };
  if (item.body === undefined) delete item.body;
  if (item.file === undefined) delete item.file;
  if (item.after === undefined) delete item.after;
  const seq = await (await local()).add('outbox', item);
  changed();
  void sendWaiting();
  return seq;
}

/** Remove an item the operator has seen fail (or a delivered one from the list). */
export async function removeItem(seq: number): Promise<void> {
  await (await local()).delete('outbox', seq);
  changed();
}

/** Try the waiting items now (the operator's "send now", a link that came back). */
export function sendNow(): Promise<void> {
  pauses = 0;
  return sendWaiting();
}

/** What became of a change: the node's answer, or its place in the outbox. */
export type Outcome<T> = { sent: T; queued?: undefined } | { queued: number; sent?: undefined };

/**
 * Make a change now when nothing is waiting before it and the link answers; else keep it
 * in the outbox (with the same key: a try whose answer was lost is not stored twice). A
 * refusal (4xx) is thrown as usual, for the form to show it.
 */
export async function change<T>(c: NewChange & { body: unknown }): Promise<Outcome<T>> {
  const key = c.key ?? newKey();
  const waiting = (await outboxItems()).some((i) => i.state === 'waiting');
  if (navigator.onLine && !waiting) {
    try {
      return { sent: await request<T>('POST', c.path, c.body, key) };
    } catch (e) {
      if (!unreachable(e) && !(e instanceof ApiError && e.status >= 500)) throw e;
    }
  }
  return { queued: await enqueue({ ...c, key }) };
}

function sendWaiting(): Promise<void> {
  // One sender per page; across the console's tabs, one at a time (Web Locks).
  sending ??= (async () => {
    try {
      if (navigator.locks) await navigator.locks.request('sitcen-outbox', sendInOrder);
      else await sendInOrder();
    } finally {
      sending = null;
    }
  })();
  return sending;
}

async function sendInOrder(): Promise<void> {
  clearTimeout(timer);
  for (;;) {
    const item = (await outboxItems()).find((i) => i.state === 'waiting');
    if (!item) { pauses = 0; return; }
    if (!await deliver(item)) {
      // Not through: the whole queue waits (order is kept), and is tried again later.
      const pause = Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** pauses++);
      timer = setTimeout(() => void sendWaiting(), pause);
      return;
    }
  }
}

/** One try of one item: true when it is settled (delivered or failed), false to wait. */
async function deliver(item: OutboxItem): Promise<boolean> {
  const db = await local();
  const save = async (update: Partial<OutboxItem>) => {
    Object.assign(item, update);
    await db.put('outbox', item);
    changed();
  };
  let path = item.path;
  if (item.after !== undefined) {
    const first = await db.get('outbox', item.after);
    if (!first?.answerId) {
      await save({ state: 'failed', error: first?.error ?? 'the record it belongs to was not delivered' });
      return true;
    }
    path = path.split('{record}').join(first.answerId);
  }
  const headers: Record<string, string> = {
    Accept: 'application/json', 'X-Sitcen-Console': '1', 'Idempotency-Key': item.key };
  let body: BodyInit | undefined;
  if (item.file) {
    body = item.file;
    headers['Content-Type'] = item.file.type || 'application/octet-stream';
  } else if (item.body !== undefined) {
    body = JSON.stringify(item.body);
    headers['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(`${API}/${path}`, { method: 'POST', headers, body, credentials: 'same-origin' });
  } catch {
    await save({ tries: item.tries + 1, error: 'no link' });
    return false;
  }
  // The node failing, busy, still answering a first try, or the session ended: later.
  if (res.status >= 500 || res.status === 401 || res.status === 408 || res.status === 409 || res.status === 429) {
    await save({ tries: item.tries + 1, error: `HTTP ${res.status}` });
    return false;
  }
  try {
    const answer = await answerOf<{ id?: string } | null>(res, path);
    await save({ state: 'delivered', delivered: Date.now(), tries: item.tries + 1, error: undefined,
      answerId: answer?.id });
    await forgetOldDelivered();
  } catch (e) {
    await save({ state: 'failed', tries: item.tries + 1,
      error: e instanceof ApiError ? `${e.status}: ${e.message}` : String(e) });
  }
  return true;
}

async function forgetOldDelivered(): Promise<void> {
  const items = await outboxItems();
  const delivered = items.filter((i) => i.state === 'delivered');
  // An item another waits on (a photo's event) stays until that one is settled.
  const needed = new Set(items.filter((i) => i.state === 'waiting' && i.after !== undefined).map((i) => i.after));
  const db = await local();
  for (const old of delivered.slice(0, Math.max(0, delivered.length - DELIVERED_KEPT))) {
    if (!needed.has(old.seq)) await db.delete('outbox', old.seq!);
  }
}
