// A time typed as "YYYY-MM-DD HH:mm" in the console's zone, the zone written beside it. Not a
// datetime-local input: the browser orders its parts by its own locale (mm/dd, dd.mm), which
// is neither the console's language nor the order every other time on the page is shown in.
import { useEffect, useState } from 'preact/hooks';
import { currentTimeZone, fromLocalInput, t, toLocalInput, zoneLabel } from './i18n';

export const TIME_PATTERN = '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}';

/** The zone beside a time input: "UTC+05:00", its IANA name as the tooltip. */
export function ZoneTag({ id, at }: { id?: string; at?: number }) {
  return <span class="zone" id={id} title={currentTimeZone()}>{zoneLabel(at ?? Date.now())}</span>;
}

interface Props {
  id: string;
  label: string;
  /** The instant shown, epoch milliseconds. */
  at: number;
  /** Called with an ISO instant when a valid time is entered ("change": Enter or leaving the field). */
  onCommit(iso: string): void;
}

/** A time input that takes effect when the entry is complete and valid. */
export function TimeField({ id, label, at, onCommit }: Props) {
  const shown = toLocalInput(at);
  const [value, setValue] = useState(shown);
  const [bad, setBad] = useState(false);
  useEffect(() => { setValue(shown); setBad(false); }, [shown]);
  const commit = () => {
    const iso = fromLocalInput(value);
    setBad(!iso);
    if (iso && iso !== new Date(at).toISOString()) onCommit(iso);
  };
  return (
    <div class="time-field">
      <label for={id}>{label}</label>
      <span class="time-input">
        <input id={id} value={value} placeholder="YYYY-MM-DD HH:mm" pattern={TIME_PATTERN} spellcheck={false}
          aria-describedby={`${id}-zone${bad ? ` ${id}-error` : ''}`} aria-invalid={bad}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)} onChange={commit} />
        <ZoneTag id={`${id}-zone`} at={at} />
      </span>
      {bad && <span class="field-error" id={`${id}-error`} role="alert">{t('time_format')}</span>}
    </div>
  );
}
