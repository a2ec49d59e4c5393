// Low-bandwidth mode, for a post on a poor link (docs/field.md, "Poor links"): the console
// leaves out what is heavy and not needed to report and to see the picture — the detailed
// country outlines, asset tracks, attachment thumbnails, asset positions on the live
// stream — and loads smaller windows of events (a larger one is drawn as counts per cell).
// The choice is kept in this browser; changing it reloads the page, which then fetches only
// what the new mode wants.

const KEY = 'sitcen.lowBandwidth';

/** Events one view loads at most in low-bandwidth mode (the normal mode loads MAX_EVENTS). */
export const LOW_BANDWIDTH_EVENTS = 2000;

/** The live stream's record kinds in low-bandwidth mode: everything but asset positions,
 * sensor detections and the analysis's daily figures (the bulk of a busy stream). */
export const LOW_BANDWIDTH_KINDS = [
  'event', 'event_action', 'alert', 'section_assessment', 'report', 'recommendation',
  'request_for_information', 'request_response', 'attachment', 'thread_message',
  'joint_operation', 'operation_report', 'organisation', 'contact_point', 'task',
  'task_response', 'duty_log_entry', 'handover', 'notification', 'notification_read',
];

let low: boolean | null = null;

/** Whether the console runs in low-bandwidth mode. */
export function lowBandwidth(): boolean {
  if (low === null) {
    try { low = localStorage.getItem(KEY) === '1'; } catch { low = false; }
  }
  return low;
}

/** Switch low-bandwidth mode on or off for this browser and start again in it. */
export function setLowBandwidth(on: boolean): void {
  try { localStorage.setItem(KEY, on ? '1' : '0'); } catch { /* private mode: this page only */ }
  low = on;
  location.reload();
}

/** The country outlines the map draws in the current mode (the offline start keeps the same). */
export function countriesPath(): string {
  return lowBandwidth() ? 'countries?detail=low' : 'countries';
}

/** The live stream's address in the current mode. */
export function streamUrl(): string {
  return lowBandwidth() ? `/api/v1/stream?kinds=${LOW_BANDWIDTH_KINDS.join(',')}` : '/api/v1/stream';
}
