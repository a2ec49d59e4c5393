// Talking to the node: same-origin requests with the session cookie, JSON in and out.

export const API = '/api/v1';

export interface ApiErrorItem { loc: (string | number)[]; msg: string; type: string }

export class ApiError extends Error {
  constructor(public status: number, public detail: unknown) {
    super(typeof detail === 'string' ? detail : messageOf(detail) ?? `HTTP ${status}`);
  }
  get items(): ApiErrorItem[] {
    return Array.isArray(this.detail) ? (this.detail as ApiErrorItem[]) : [];
  }
}

/** The reasons of a list-shaped detail (the API's one error shape), joined for people. */
function messageOf(detail: unknown): string | null {
  if (!Array.isArray(detail)) return null;
  const msgs = detail.map((e) => (e && typeof e === 'object' && 'msg' in e ? String(e.msg) : ''))
    .filter((m) => m);
  return msgs.length ? msgs.join('; ') : null;
}

/** Called when the session has ended (401): the console goes back to the login page. */
let onUnauthorised: () => void = () => {};
export function whenUnauthorised(fn: () => void): void { onUnauthorised = fn; }

/** A random key for one request (a UUID's form); crypto.randomUUID exists only on HTTPS pages. */
export function newKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Send a request; a change is sent again, with the same Idempotency-Key, when the link
 * drops before an answer arrives (the node then answers the first answer: nothing twice). */
async function send(url: string, init: RequestInit, retries: number): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, init);
      if (res.status === 409 && res.headers.get('Retry-After') && attempt < retries) {
        await pause(1000);  // the first try is still being answered
        continue;
      }
      return res;
    } catch (e) {
      if (attempt >= retries) throw e;
      await pause(1000 * 2 ** attempt);
    }
  }
}

/** A request to the node; a change carries `key` as its Idempotency-Key (a new one if none:
 * the outbox passes the key it keeps with a change, so that a later try is the same request). */
export async function request<T>(method: string, path: string, body?: unknown, key?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  // Our pages mark their requests; together with Origin this is the CSRF check.
  if (method !== 'GET') {
    headers['X-Sitcen-Console'] = '1';
    headers['Idempotency-Key'] = key ?? newKey();
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await send(path.startsWith('/') ? path : `${API}/${path}`, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  }, method === 'GET' ? 0 : 2);
  return answerOf<T>(res, path);
}

/** A response's JSON, or the ApiError it stands for. */
export async function answerOf<T>(res: Response, path = ''): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    if (res.status === 401 && !path.includes('auth/session')) onUnauthorised();
    const detail = (data && typeof data === 'object' && 'detail' in data)
      ? (data as { detail: unknown }).detail : data;
    throw new ApiError(res.status, detail);
  }
  return data as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const put = <T>(path: string, body?: unknown) => request<T>('PUT', path, body);
export const patch = <T>(path: string, body?: unknown) => request<T>('PATCH', path, body);

/** POST a file's bytes as the body (attachments), with its own type; sent again with the
 * same Idempotency-Key when the link drops, so a retry never attaches the file twice. */
export async function upload<T>(path: string, file: File): Promise<T> {
  const res = await send(`${API}/${path}`, {
    method: 'POST', credentials: 'same-origin', body: file,
    headers: { Accept: 'application/json', 'X-Sitcen-Console': '1', 'Content-Type': file.type || 'application/octet-stream', 'Idempotency-Key': newKey() },
  }, 2);
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data && typeof data === 'object' && 'detail' in data ? (data as { detail: unknown }).detail : data);
  return data as T;
}
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body);

/** GET that answers null when the node does not offer the endpoint (404). */
export async function optional<T>(path: string): Promise<T | null> {
  try {
    return await get<T>(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export type Role = 'operator' | 'duty_officer' | 'analyst' | 'liaison' | 'admin';

export interface User { username: string; full_name: string; role: Role; node_id: string }

// Mirrors sitcen.users.PERMISSIONS; the API enforces it, the console only hides buttons.
const PERMISSIONS: Record<Role, string[]> = {
  operator: ['read_picture', 'report_events'],
  duty_officer: ['read_picture', 'report_events', 'change_status', 'read_personal_data',
    'set_impact_level', 'issue_reports', 'task_units', 'manage_directory', 'handle_requests',
    'coordinate_operations'],
  analyst: ['read_picture', 'read_personal_data', 'assess_vulnerability', 'issue_reports',
    'manage_report_templates', 'handle_requests'],
  liaison: ['read_picture', 'handle_requests'],
  admin: ['read_picture', 'report_events', 'change_status', 'read_personal_data',
    'manage_users', 'manage_geography', 'assess_vulnerability', 'set_impact_level',
    'issue_reports', 'manage_report_templates', 'task_units',
    'manage_directory', 'handle_requests', 'coordinate_operations'],
};
export const may = (user: User | null, permission: string): boolean =>
  !!user && PERMISSIONS[user.role]?.includes(permission);

export interface Location { lon: number; lat: number; precision_m?: number | null }

export interface EventRecord {
  id: string; origin: string; version: number; category: string; type: string;
  occurred_at: string; handling: string; reported_at?: string | null; recorded_at?: string | null;
  recorded_by?: { username: string; full_name: string } | null;
  location?: Location | null; section_id?: string | null; section_distance_km?: number | null;
  country?: string | null; impact_level?: string | null; status?: string | null;
  confidence?: { source_reliability: string; information_credibility: number } | null;
  details?: Record<string, unknown>; persons?: { nationality?: string; count?: number; sex?: string; age_group?: string }[];
  transport?: string | null; modus_operandi?: string[]; reaction?: string[];
  description?: string; follow_up_of?: string | null; has_personal_data?: boolean;
  provenance?: string[] | null; sharing?: Record<string, unknown> | null;
}

/** What the map and the list show of an event; the panel reads the whole record. */
export interface EventSummary {
  /** The event's number in the current load of the store: its key on the map. */
  key: number;
  id: string; version: number; at: number; // occurred_at in epoch milliseconds
  category: string; type: string; lon: number | null; lat: number | null;
  impact_level: string | null; status: string | null; section_id: string | null;
}

/** A column of few distinct values: entry i is values[codes[i]]. */
export interface CodedColumn<T> { values: T[]; codes: number[] }

/** GET /api/v1/events/columns: entry i of every column is event i, newest first. */
export interface EventColumns {
  count: number; truncated: boolean; id: string[]; version: number[]; occurred_at_ms: number[];
  lon: (number | null)[]; lat: (number | null)[]; category: CodedColumn<string>;
  type: CodedColumn<string>; impact_level: CodedColumn<string | null>;
  status: CodedColumn<string | null>; section_id: CodedColumn<string | null>;
}

/** The same with compact=true: ids as packed bytes, times as gaps back from the newest. */
export type CompactColumns = Omit<EventColumns, 'id' | 'occurred_at_ms'> & {
  ids_base64: string; occurred_at_gaps_ms: number[];
};

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Compact columns as plain ones: each id back to its text, each time back to epoch ms. */
export function expandColumns(c: CompactColumns): EventColumns {
  const { ids_base64: packed, occurred_at_gaps_ms: gaps, ...rest } = c;
  const bytes = Uint8Array.from(atob(packed), (ch) => ch.charCodeAt(0));
  const id: string[] = new Array(c.count);
  const at: number[] = new Array(c.count);
  for (let i = 0, t = 0; i < c.count; i++) {
    const h = Array.from(bytes.subarray(i * 16, i * 16 + 16), (b) => HEX[b]).join('');
    id[i] = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    t = i === 0 ? gaps[0] : t - gaps[i];
    at[i] = t;
  }
  return { ...rest, id, occurred_at_ms: at };
}

export function summaryOf(e: EventRecord, key = -1): EventSummary {
  return {
    key, id: e.id, version: e.version, at: Date.parse(e.occurred_at), category: e.category, type: e.type,
    lon: e.location?.lon ?? null, lat: e.location?.lat ?? null, impact_level: e.impact_level ?? null,
    status: e.status ?? null, section_id: e.section_id ?? null,
  };
}

export interface ActionRecord {
  id: string; origin: string; version: number; recorded_at: string;
  body: { event_id: string; action: string; impact_level?: string | null; text?: string; by?: string };
  provenance?: string[] | null;
}

/** A sensor with its open conditions (GET /sensor-health, docs/surveillance.md). */
export interface SensorHealth {
  sensor_id: string; name: string | null; section_id: string | null; location: Location | null;
  ok: boolean; conditions: string[];
}

export interface Asset {
  id: string; origin: string; asset_id: string; kind: string; name: string; status: string;
  location: Location; at: string; section_id: string | null; track: [number, number, string][];
  /** A drone's sensor footprint (a closed ring of [lon, lat]); absent for other assets. */
  footprint?: [number, number][] | null;
}

export interface TaxonomyType { id: string; label: string; details: string[]; required: string[]; persons: boolean; units: string[] }
export interface Taxonomy {
  language: string;
  categories: { id: string; label: string; types: TaxonomyType[] }[];
  enums: Record<string, { id: string; label: string }[]>;
}

export interface Alert {
  id: string; section_id: string; severity: string; status: string; first_day: string;
  last_day: string; explanation: string; event_ids: string[];
}
export interface SectionRisk {
  section_id: string; rank: number; risk: number; proposed_level?: string | null;
  confirmed_level?: string | null; reasons?: unknown;
}

/** Any record as the API returns it (requests, responses, operations, messages...). */
export interface RecordOf<B = Record<string, any>> {
  id: string; origin: string; version: number; kind: string; recorded_at: string;
  body: B; provenance?: string[] | null;
}
