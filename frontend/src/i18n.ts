// Labels come from the node's translation catalogues (sitcen/locales), fallbacks merged in
// by the node: Kazakh, Kyrgyz, Tajik, Turkmen and both Uzbek scripts fall back to Russian,
// then English. Every number, count and time the console shows goes through this module:
// counts agree with their number by the CLDR plural rules (Intl.PluralRules), figures get the
// language's separators (Intl.NumberFormat), times the chosen zone.
import { get } from './api';

export const LANGUAGES: [string, string][] = [
  ['en', 'English'], ['ru', 'Русский'], ['kk', 'Қазақ тілі'], ['ky', 'Кыргызча'],
  ['tg', 'Тоҷикӣ'], ['tk', 'Türkmençe'], ['uz', 'Oʻzbekcha'], ['uz-Cyrl', 'Ўзбекча'],
];

/** A count message: one text per CLDR plural category, chosen by `language`'s rules. */
interface Plural { language: string; forms: Record<string, string> }
interface Bundle {
  language: string; labels: Record<string, string>; plurals?: Record<string, Plural>;
  complete?: boolean; reviewed?: boolean; numbers?: { decimal: string; group: string };
}

export const TIME_ZONES = ['Asia/Almaty', 'Asia/Bishkek', 'Asia/Dushanbe', 'Asia/Ashgabat',
  'Asia/Tashkent', 'UTC'];

let labels: Record<string, string> = {};
let plurals: Record<string, Plural> = {};
let language = 'en';
let reviewed = true;
let numberSigns = { decimal: '.', group: ',' };

/** A browser language tag (uz-Cyrl-UZ, kk-KZ, ru) as one of the console's languages, or null. */
export function consoleLanguage(tag: string): string | null {
  const parts = tag.replace(/_/g, '-').toLowerCase().split('-');
  if (parts[0] === 'uz' && parts.includes('cyrl')) return 'uz-Cyrl';
  return LANGUAGES.some(([code]) => code === parts[0]) ? parts[0] : null;
}

export function initialLanguage(): string {
  const saved = localStorage.getItem('sitcen.lang');
  if (saved && LANGUAGES.some(([code]) => code === saved)) return saved;
  return consoleLanguage(navigator.language || 'en') ?? 'en';
}

export async function loadLanguage(lang: string): Promise<void> {
  const answer = await get<Bundle>(`taxonomy/labels?lang=${encodeURIComponent(lang)}`);
  labels = answer.labels;
  plurals = answer.plurals ?? {};
  reviewed = answer.reviewed ?? true;
  numberSigns = answer.numbers ?? { decimal: '.', group: ',' };
  language = answer.language;
  localStorage.setItem('sitcen.lang', language);
  document.documentElement.lang = language;
}

export const currentLanguage = (): string => language;
/** Whether a native speaker has reviewed the current language's catalogue. */
export const languageReviewed = (): boolean => reviewed;

// --- numbers and plural rules --------------------------------------------------------------
// Chromium's ICU is trimmed: it names kk, ky, tg, tk and uz as supported yet formats them by
// the root locale (12,345.5) and may resolve their plural rules to en-US. So the signs of a
// figure come from the node (CLDR through Babel, the same as in reports), and Intl only groups
// and rounds; plural rules are taken from Intl when it really has the language, else from a
// language with the same CLDR rule: Persian for Tajik (one: i = 0 or n = 1), English for the
// others (one: n = 1). tests/test_console_languages.py checks the pairs against Babel.
const numberFormats = new Map<string, Intl.NumberFormat>();
/** A figure with the language's signs (12 345,5 in Russian, 12,345.5 in English). */
export function formatNumber(value: number, digits?: number): string {
  const id = String(digits ?? '');
  let f = numberFormats.get(id);
  if (!f) {
    f = new Intl.NumberFormat('en', digits === undefined
      ? { maximumFractionDigits: 3 } : { minimumFractionDigits: digits, maximumFractionDigits: digits });
    numberFormats.set(id, f);
  }
  return f.formatToParts(value).map((p) => p.type === 'group' ? numberSigns.group
    : p.type === 'decimal' ? numberSigns.decimal : p.value).join('');
}

const pluralRules = new Map<string, Intl.PluralRules>();
/** The CLDR plural category of `count` in `lang` (one, few, many, other …). */
export function pluralCategory(count: number, lang: string = language): string {
  let rules = pluralRules.get(lang);
  if (!rules) {
    rules = new Intl.PluralRules(lang);
    const resolved = rules.resolvedOptions().locale.split('-')[0];
    if (resolved !== lang.split('-')[0]) rules = new Intl.PluralRules(lang === 'tg' ? 'fa' : 'en');
    pluralRules.set(lang, rules);
  }
  return rules.select(count);
}

/**
 * A console string (ui.console.<key>), with {name} placeholders filled in. A count message
 * (plural forms in the catalogue) takes the form that agrees with a numeric `n`, written
 * with the language's separators.
 */
export function t(key: string, vars?: Record<string, string | number>): string {
  const full = [`ui.console.${key}`, `ui.${key}`, key].find((k) => k in labels || k in plurals);
  let text = full === undefined ? key : labels[full] ?? key;
  const plural = full === undefined ? undefined : plurals[full];
  const n = vars?.n;
  if (plural && typeof n === 'number') {
    text = plural.forms[pluralCategory(n, plural.language)] ?? plural.forms.other ?? text;
    vars = { ...vars, n: formatNumber(n) };
  }
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

// One rule for every date and time in every language: "YYYY-MM-DD HH:mm" (ISO 8601 order),
// in the chosen zone (offsets from Intl's zone data), with the zone beside every time
// ("UTC+5" in lists, "UTC+05:00" in details and beside inputs); Intl's locale orders
// (dd/mm, mm/dd, dd.mm) differ between the console's languages and confuse a shared desk.
const partFormats = new Map<string, Intl.DateTimeFormat>();
function parts(at: Date, zone: string = timeZone): Record<string, string> {
  let f = partFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    partFormats.set(zone, f);
  }
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(at)) out[p.type] = p.value;
  return out;
}

/** "UTC+05:00": the chosen zone's offset at an instant, as shown beside every time. */
export function zoneLabel(at: Date | number = new Date(), zone: string = timeZone): string {
  const minutes = zoneOffsetMinutes(new Date(at), zone);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** "UTC+5" (or "UTC+5:45", "UTC"): the zone as every shown time carries it, short enough
 * for a list row on a phone. */
export function zoneShort(at: Date | number = new Date(), zone: string = timeZone): string {
  const minutes = zoneOffsetMinutes(new Date(at), zone);
  if (minutes === 0) return 'UTC';
  const abs = Math.abs(minutes);
  const rest = abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : '';
  return `UTC${minutes < 0 ? '-' : '+'}${Math.floor(abs / 60)}${rest}`;
}

/** "2025-06-01 14:03:12 UTC+05:00" */
export function formatTime(iso: string | number): string {
  const at = new Date(iso);
  const p = parts(at);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${zoneLabel(at)}`;
}
/** "2025-06-01 14:03 UTC+5": every time the console shows says its zone (issue 16). */
export function formatShort(iso: string | number): string {
  const at = new Date(iso);
  return `${wallClock(at)} ${zoneShort(at)}`;
}
/** "2025-06-01 14:03" in the chosen zone, without the zone (what the time inputs take). */
function wallClock(at: Date): string {
  const p = parts(at);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}
/** "2025-06-01" */
export function formatDate(iso: string | number): string {
  const p = parts(new Date(iso));
  return `${p.year}-${p.month}-${p.day}`;
}

/** "Dushanbe (UTC+05:00)": a zone as the zone picker names it (the city is a proper name). */
export function zoneName(zone: string = timeZone): string {
  if (zone === 'UTC') return zone;
  return `${(zone.split('/').pop() ?? zone).replace(/_/g, ' ')} (${zoneLabel(Date.now(), zone)})`;
}

/** The UTC offset of the chosen zone at an instant, in minutes (UTC+5 → 300). */
export function zoneOffsetMinutes(at: Date = new Date(), zone: string = timeZone): number {
  const p = parts(at, zone);
  const n = (type: string) => Number(p[type]);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60000);
}

/** "YYYY-MM-DD HH:mm" in the chosen zone (what the time inputs show and take). */
export function toLocalInput(at: Date | number): string {
  return wallClock(new Date(at));
}

/** A "YYYY-MM-DD HH:mm" value (a "T" also does) read in the chosen zone, as an ISO instant. */
export function fromLocalInput(value: string): string | null {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})\s*$/.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  const naive = Date.UTC(year, month - 1, day, hour, minute);
  const back = new Date(naive);
  if (back.getUTCDate() !== day) return null; // 2025-02-30
  // The offset at the instant itself (which is near naive − offset); twice for a zone change.
  let at = naive - zoneOffsetMinutes(back) * 60000;
  at = naive - zoneOffsetMinutes(new Date(at)) * 60000;
  return new Date(at).toISOString();
}
