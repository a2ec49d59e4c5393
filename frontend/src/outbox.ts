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
  if (item.file) return sendFile(item, item.file, path, save);
  const headers: Record<string, string> = {
    Accept: 'application/json', 'X-Sitcen-Console': '1', 'Idempotency-Key': item.key };
  let body: BodyInit | undefined;
  if (item.body !== undefined) {
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

/** The bytes a file goes in: a lost chunk costs at most this much again on a poor link. */
export const CHUNK_BYTES = 64 * 1024;

/** The file's SHA-256 (hex) for the node to check, where the browser offers it (HTTPS). */
async function sha256Of(file: Blob): Promise<string | null> {
  if (!crypto.subtle) return null;
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, '0')).join('');
}

type Save = (update: Partial<OutboxItem>) => Promise<void>;

/**
 * Send a file as a resumable upload (docs/api.md): start it once, then 64 KiB chunks from
 * where the node says it stands, so that after a dropped link only the rest goes again.
 * `path` is the attachment's (attachments?record_id=…&name=…): its query names the upload.
 */
async function sendFile(item: OutboxItem, file: Blob, path: string, save: Save): Promise<boolean> {
  const headers = { Accept: 'application/json', 'X-Sitcen-Console': '1' };
  const wait = async (error: string) => { await save({ tries: item.tries + 1, error }); return false; };
  const refused = async (res: Response) => {
    try { await answerOf(res, path); } catch (e) {
      await save({ state: 'failed', tries: item.tries + 1,
        error: e instanceof ApiError ? `${e.status}: ${e.message}` : String(e) });
    }
    return true;
  };
  const later = (status: number) => status >= 500 || [401, 408, 429].includes(status);
  try {
    let offset = 0;
    if (!item.upload) {
      const query = new URLSearchParams(path.split('?')[1] ?? '');
      const sha = await sha256Of(file);
      if (sha) query.set('sha256', sha);
      const res = await fetch(`${API}/uploads?${query}`, { method: 'POST', credentials: 'same-origin',
        headers: { ...headers, 'Idempotency-Key': item.key, 'Upload-Length': String(file.size),
          'Upload-Type': file.type || 'application/octet-stream' } });
      if (later(res.status)) return wait(`HTTP ${res.status}`);
      if (!res.ok) return refused(res);
      await save({ upload: (await res.json() as { url: string }).url, uploaded: 0 });
    } else {
      // Resuming: the node says how much it holds (a chunk may have arrived unanswered).
      const res = await fetch(item.upload, { headers, credentials: 'same-origin' });
      if (res.status === 404) {
        // Expired unfinished: start again, under a new key (the old one names the old upload).
        await save({ upload: undefined, uploaded: 0, key: newKey() });
        return wait('HTTP 404');
      }
      if (later(res.status)) return wait(`HTTP ${res.status}`);
      if (!res.ok) return refused(res);
      offset = Number(res.headers.get('Upload-Offset') ?? 0);
    }
    for (;;) {
      const res = await fetch(item.upload!, { method: 'PATCH', credentials: 'same-origin',
        headers: { ...headers, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
        body: file.slice(offset, offset + CHUNK_BYTES) });
      if (res.status === 409 && res.headers.get('Upload-Offset')) {
        offset = Number(res.headers.get('Upload-Offset'));  // the node holds another amount
        continue;
      }
      if (later(res.status)) return wait(`HTTP ${res.status}`);
      if (!res.ok) return refused(res);
      const answer = await res.json() as { offset: number; attachment_id: string | null };
      offset = answer.offset;
      if (answer.attachment_id) {
        await save({ state: 'delivered', delivered: Date.now(), tries: item.tries + 1, error: undefined,
          answerId: answer.attachment_id, uploaded: offset });
        await forgetOldDelivered();
        return true;
      }
      await save({ uploaded: offset });
    }
  } catch {
    return wait('no link');
  }
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
