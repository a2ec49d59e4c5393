// What the work pages share: the records' shapes, a phrase in the reader's language,
// durations, and the messages of a refusal.
import { ApiError } from './api';
import { label, t } from './i18n';

/** A catalogue key with parameters; a parameter {key} is itself a label (a type, a level). */
export interface Phrase { key: string; params?: Record<string, unknown> }

export function phraseText(p: Phrase | null | undefined): string {
  if (!p) return '';
  let text = label(p.key, p.key);
  for (const [name, value] of Object.entries(p.params ?? {})) {
    const shown = value && typeof value === 'object' && 'key' in (value as Record<string, unknown>)
      ? label(String((value as Record<string, unknown>).key))
      : typeof value === 'number' ? String(Math.round(value * 10) / 10) : String(value ?? '');
    text = text.split(`{${name}}`).join(shown);
  }
  return text;
}

/** "3 h 05 min", "12 min", "40 s": how long something has waited. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t('duration.seconds', { n: s });
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return t('duration.minutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('duration.hours', { h: hours, m: String(minutes % 60).padStart(2, '0') });
  return t('duration.days', { n: Math.floor(hours / 24) });
}

/** The reason a request was refused, in words for the officer. */
export function refusal(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return t('forbidden');
    const items = e.items;
    if (items.length) {
      return items.map((i) => (i.type === 'already_handled' ? t('already_handled', { msg: i.msg }) : i.msg)).join('; ');
    }
    return typeof e.detail === 'string' ? e.detail : `HTTP ${e.status}`;
  }
  return String((e as Error)?.message ?? e);
}

export interface QueueEntry {
  event_id: string; level: string; round: number; origin: string; entered_at: string;
  waiting_s: number; overdue: boolean; serious: boolean; late: boolean; state: string;
  acted_by: string | null; acted_node: string | null; note: string | null; left_at: string | null;
  event: { type?: string; section_id?: string | null; impact_level?: string | null;
    occurred_at?: string; description?: string; location?: { lon: number; lat: number } | null;
    reported_at?: string | null };
}
export interface QueueCounts { waiting: number; overdue: number; serious: number; late: number; below: number; returned: number }
export interface QueuePage {
  levels: string[]; level: string | null; overdue_after_s: number; counts: QueueCounts;
  items: QueueEntry[]; next_cursor: string | null;
}
export interface DurationGroup { count: number; median_s: number | null; p90_s: number | null; [k: string]: unknown }

export interface AlertCard {
  id: string; origin: string; version: number; section_id: string | null; severity: string;
  status: string; first_day: string; last_day: string; explanation: string; event_ids: string[];
  summary: Phrase; summary_text: string; assigned_to?: string | null; outcome?: string | null;
  notes: { by: string; at: string; text: string }[]; acknowledged_by?: string | null;
  acknowledged_at?: string | null; closed_by?: string | null; closed_at?: string | null;
  observed?: number; expected?: number; methods?: string[]; reopened?: boolean;
}

export interface TaskRecord {
  id: string; origin: string; version: number; unit_id: string;
  unit: { kind: string; id: string; name: string; callsign: string; node: string | null };
  target: { kind: string; event_id?: string; section_id?: string | null; location?: { lon: number; lat: number } | null; event_type?: string };
  section_id: string | null; location: { lon: number; lat: number } | null; priority: string;
  instructions: string; status: string; dispatched_at: string; dispatched_by: string;
  history: { status: string; at: string; by: string; via: string; note: string }[];
  on_scene_at?: string | null; outcome?: Record<string, unknown> | null; mine: boolean;
  declined_reason?: string;
}
export interface TaskUnit { kind: string; id: string; name: string; callsign: string; node: string | null; open_tasks: number }

export interface Notification {
  id: string; recorded_at: string; reason: string; about: { kind: string; id: string; origin: string; version: number };
  summary: Phrase; summary_text: string; text: string; by: string | null; section_id: string | null;
  serious: boolean; unread: boolean;
}

/** Where a notification takes its reader. */
export function notificationHref(n: Notification): string {
  const kind = n.about.kind;
  if (kind === 'event') return `#/map?event=${n.about.id}`;
  if (kind === 'alert') return `#/alerts?item=${n.about.id}`;
  if (kind === 'task' || kind === 'task_response') return `#/tasks?item=${n.about.id}`;
  if (kind === 'section_assessment' && n.section_id) return `#/levels?item=${n.section_id}`;
  if (kind === 'event_action') return '#/queue?item=returned';
  return '#/notifications';
}
