// Labels come from the node's translation catalogues (sitcen/locales), fallbacks merged in
// by the node: Kazakh, Kyrgyz, Tajik, Turkmen and Uzbek fall back to Russian, then English.
import { get } from './api';

export const LANGUAGES: [string, string][] = [
  ['en', 'English'], ['ru', 'Русский'], ['kk', 'Қазақ тілі'], ['ky', 'Кыргызча'],
  ['tg', 'Тоҷикӣ'], ['tk', 'Türkmençe'], ['uz', 'Oʻzbekcha'],
];

export const TIME_ZONES = ['Asia/Almaty', 'Asia/Bishkek', 'Asia/Dushanbe', 'Asia/Ashgabat',
  'Asia/Tashkent', 'UTC'];

let labels: Record<string, string> = {};
let language = 'en';

export function initialLanguage(): string {
  const saved = localStorage.getItem('sitcen.lang');
  if (saved && LANGUAGES.some(([code]) => code === saved)) return saved;
  const browser = (navigator.language || 'en').slice(0, 2).toLowerCase();
  return LANGUAGES.some(([code]) => code === browser) ? browser : 'en';
}

export async function loadLanguage(lang: string): Promise<void> {
  const answer = await get<{ language: string; labels: Record<string, string> }>(
    `taxonomy/labels?lang=${encodeURIComponent(lang)}`);
  labels = answer.labels;
  language = answer.language;
  localStorage.setItem('sitcen.lang', language);
  document.documentElement.lang = language;
}

export const currentLanguage = (): string => language;

/** A console string (ui.console.<key>), with {name} placeholders filled in. */
export function t(key: string, vars?: Record<string, string | number>): string {
  let text = labels[`ui.console.${key}`] ?? labels[`ui.${key}`] ?? labels[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(String(v));
  return text;
}

/** A catalogue label by its full key (type.*, enum.*, field.*), or the fallback. */
export function label(key: string, fallback?: string): string {
  return labels[key] ?? fallback ?? key.split('.').pop() ?? key;
}

export const typeLabel = (id: string) => label(`type.${id}`, id);
export const enumLabel = (name: string, id: string | null | undefined) =>
  id == null ? '—' : label(`enum.${name}.${id}`, id);

// --- time zone ---------------------------------------------------------------------------
export function initialTimeZone(): string {
  const saved = localStorage.getItem('sitcen.tz');
  if (saved && TIME_ZONES.includes(saved)) return saved;
  // The browser's own zone when it is one of the region's, else Almaty (UTC+5).
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return TIME_ZONES.includes(own) && own !== 'UTC' ? own : 'Asia/Almaty';
}

let timeZone = initialTimeZone();
export const currentTimeZone = () => timeZone;
export function setTimeZone(tz: string): void {
  timeZone = tz;
  localStorage.setItem('sitcen.tz', tz);
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(kind: 'full' | 'short' | 'date'): Intl.DateTimeFormat {
  const key = `${kind}|${language}|${timeZone}`;
  let f = formats.get(key);
  if (!f) {
    const options: Intl.DateTimeFormatOptions = kind === 'date'
      ? { year: 'numeric', month: '2-digit', day: '2-digit' }
      : kind === 'short'
        ? { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' };
    // Intl may not know every national locale: fall back to Russian formatting.
    const locale = Intl.DateTimeFormat.supportedLocalesOf([language]).length ? language : 'ru';
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    formats.set(key, f);
  }
  return f;
}

export const formatTime = (iso: string | number) => format('full').format(new Date(iso));
export const formatShort = (iso: string | number) => format('short').format(new Date(iso));
export const formatDate = (iso: string | number) => format('date').format(new Date(iso));

/** The UTC offset of the chosen zone at an instant, in minutes (UTC+5 → 300). */
export function zoneOffsetMinutes(at: Date = new Date()): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((asUtc - at.getTime()) / 60000);
}

/** "YYYY-MM-DDTHH:MM" in the chosen zone (for datetime-local inputs). */
export function toLocalInput(at: Date): string {
  const shifted = new Date(at.getTime() + zoneOffsetMinutes(at) * 60000);
  return shifted.toISOString().slice(0, 16);
}

/** A datetime-local value read in the chosen zone, as an ISO instant in UTC. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const naive = new Date(`${value.slice(0, 16)}:00Z`);
  const offset = zoneOffsetMinutes(naive);
  return new Date(naive.getTime() - offset * 60000).toISOString();
}
