// The quick report form: click on the map, type coordinates or take the device's position;
// the fields follow the taxonomy; required fields are marked (a star, and aria-required);
// each of the API's 422 errors is shown under the field its `loc` names, in the user's
// language. On a phone it fills the screen with large controls and the Send button under
// the thumb; a photo from the camera goes with the report, made small and without its
// metadata (photo.ts). With no link the report and its photo wait in the outbox.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type ApiErrorItem, type Taxonomy } from './api';
import { formatShort, fromLocalInput, label, t, toLocalInput, typeLabel } from './i18n';
import { change, enqueue } from './outbox';
import { compressPhoto } from './photo';
import { TIME_PATTERN, ZoneTag } from './timefield';

/** What the form remembers on this device between reports: what a post reports most. */
const LAST_USED = 'sitcen.report.last';
interface LastUsed { type?: string; impact?: string; handling?: string; reliability?: string; credibility?: string; unit?: string }
function lastUsed(): LastUsed {
  try { return JSON.parse(localStorage.getItem(LAST_USED) ?? '{}') as LastUsed; } catch { return {}; }
}

const NUMBER_DETAILS = new Set(['quantity', 'killed', 'injured', 'cases']);
const BOOLEAN_DETAILS = new Set(['shots_fired']);

interface Props {
  taxonomy: Taxonomy;
  picked: [number, number] | null;
  picking: boolean;
  onPickToggle(on: boolean): void;
  /** The new event's id; null when the report waits in the outbox. */
  onDone(id: string | null): void;
  onCancel(): void;
}

/**
 * The form field a 422 error's `loc` names: ["body", "persons", 0, "nationality"] →
 * "persons.nationality". Errors about a whole group land on its first field.
 */
export function fieldOf(loc: (string | number)[]): string {
  const path = loc.filter((p) => p !== 'body' && typeof p === 'string') as string[];
  const [head, sub] = path;
  if (head === 'persons') return sub === 'nationality' ? 'persons.nationality' : 'persons.count';
  if (head === 'confidence') return sub === 'information_credibility' ? 'confidence.information_credibility' : 'confidence.source_reliability';
  if (head === 'location') return sub === 'lon' || sub === 'lat' ? `location.${sub}` : 'location';
  if (head === 'details') return sub ? `details.${sub}` : 'details';
  return path.join('.') || 'body';
}

/** The star of a required field: seen, not read out (the control says aria-required). */
const Req = () => <span class="req" aria-hidden="true"> *</span>;

/** A field's message in the user's language, from the error's type (the API's text as a tip). */
function message(item: ApiErrorItem): string {
  const byType: Record<string, string> = {
    missing: 'error.required', enum: 'error.unknown_value', literal_error: 'error.unknown_value',
    extra_forbidden: 'error.unknown_field', greater_than_equal: 'error.out_of_range',
    less_than_equal: 'error.out_of_range', greater_than: 'error.not_positive',
    float_parsing: 'error.number', float_type: 'error.number', int_parsing: 'error.number', datetime: 'error.time',
    datetime_from_date_parsing: 'error.time', occurred_at: 'error.future_time', unit: 'error.unit',
    string_too_long: 'error.too_long', persons: 'error.persons_not_allowed',
  };
  const key = byType[item.type];
  return key ? t(key) : item.msg;
}

export function ReportForm({ taxonomy, picked, picking, onPickToggle, onDone, onCancel }: Props) {
  const types = taxonomy.categories.flatMap((c) => c.types);
  const last = lastUsed();
  const known = (id: string | undefined, options: { id: string }[] | undefined) => (id && options?.some((o) => o.id === id) ? id : undefined);
  const [type, setType] = useState(known(last.type, types) ?? types[0]?.id ?? '');
  const [when, setWhen] = useState(toLocalInput(new Date()));
  const [lon, setLon] = useState('');
  const [lat, setLat] = useState('');
  /** The device's accuracy (m) of a position it gave; null once the position is typed or picked. */
  const [accuracy, setAccuracy] = useState<number | null>(null);
  const [locating, setLocating] = useState(false);
  const [impact, setImpact] = useState(known(last.impact, taxonomy.enums.impact_level) ?? 'low');
  const [handling, setHandling] = useState(known(last.handling, taxonomy.enums.handling) ?? 'AMBER');
  const [reliability, setReliability] = useState(known(last.reliability, taxonomy.enums.source_reliability) ?? 'C');
  const [credibility, setCredibility] = useState(last.credibility && /^[1-6]$/.test(last.credibility) ? last.credibility : '3');
  const [details, setDetails] = useState<Record<string, string>>(
    last.unit && types.find((x) => x.id === type)?.units.includes(last.unit) ? { unit: last.unit } : {});
  const [photo, setPhoto] = useState<Blob | null>(null);
  const [photoUrl, setPhotoUrl] = useState<string | null>(null);
  const [photoBusy, setPhotoBusy] = useState(false);
  const [persons, setPersons] = useState('');
  const [nationality, setNationality] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, ApiErrorItem>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLSelectElement>(null);

  useEffect(() => { first.current?.focus(); }, []);
  useEffect(() => {
    if (picked) { setLon(String(picked[0])); setLat(String(picked[1])); setAccuracy(null); }
  }, [picked]);
  useEffect(() => () => { if (photoUrl) URL.revokeObjectURL(photoUrl); }, [photoUrl]);

  /** The device's position (GPS on a phone), with how accurate it says it is. */
  const locate = () => {
    if (!navigator.geolocation) { setGeneral(t('report.no_position')); return; }
    setLocating(true);
    navigator.geolocation.getCurrentPosition((p) => {
      setLon(p.coords.longitude.toFixed(5));
      setLat(p.coords.latitude.toFixed(5));
      setAccuracy(Math.max(1, Math.round(p.coords.accuracy)));
      setLocating(false);
    }, () => { setLocating(false); setGeneral(t('report.no_position')); },
    { enableHighAccuracy: true, timeout: 30_000, maximumAge: 60_000 });
  };

  const takePhoto = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setPhotoBusy(true);
    try {
      const small = await compressPhoto(file);
      setPhoto(small);
      setPhotoUrl(URL.createObjectURL(small));
    } catch {
      setGeneral(t('report.photo_unreadable'));
    } finally {
      setPhotoBusy(false);
    }
  };

  const spec = taxonomy.categories.flatMap((c) => c.types).find((x) => x.id === type);

  // The fields that show their own errors in this render; any other error goes to the
  // message at the bottom (rendered last, when this set is complete).
  const placed = new Set<string>();
  const fieldError = (path: string) => {
    placed.add(path);
    const item = errors[path];
    return item ? <span class="field-error" id={`err-${path}`} role="alert" title={item.msg}>{message(item)}</span> : null;
  };
  const described = (path: string, required = false) => ({
    ...(required ? { 'aria-required': true } : {}),
    ...(errors[path] ? { 'aria-invalid': true, 'aria-describedby': `err-${path}` } : {}),
  });
  const personsGiven = persons !== '' || nationality !== '';
  const form = useRef<HTMLFormElement>(null);
  // After a refusal, the first field in error takes the focus.
  useEffect(() => {
    (form.current?.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus();
  }, [errors]);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(null);
    const occurred = fromLocalInput(when);
    const detailBody: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(details)) {
      if (!spec?.details.includes(k) && k !== 'unit') continue;
      if (v === '') continue;
      detailBody[k] = NUMBER_DETAILS.has(k) ? Number(v) : BOOLEAN_DETAILS.has(k) ? v === 'true' : v;
    }
    // Of the optional fields only those set go on the wire: a report is small on a poor
    // link. The place is required: an empty coordinate goes as null, for the node to name it.
    const body: Record<string, unknown> = {
      type,
      occurred_at: occurred ?? when,
      location: { lon: lon === '' ? null : Number(lon), lat: lat === '' ? null : Number(lat),
        ...(accuracy !== null ? { precision_m: accuracy } : {}) },
      impact_level: impact,
      handling,
      confidence: { source_reliability: reliability, information_credibility: Number(credibility) },
    };
    if (Object.keys(detailBody).length) body.details = detailBody;
    if (description.trim()) body.description = description;
    if (spec?.persons && (persons || nationality)) {
      body.persons = [{ ...(persons ? { count: Number(persons) } : {}), ...(nationality ? { nationality: nationality.toUpperCase() } : {}) }];
    }
    const title = `${typeLabel(type)} · ${formatShort(occurred ?? Date.now())}`;
    try {
      const outcome = await change<{ id: string }>({ kind: 'event', path: 'events', body, title });
      localStorage.setItem(LAST_USED, JSON.stringify({ type, impact, handling, reliability, credibility,
        unit: details.unit || undefined } satisfies LastUsed));
      if (photo) {
        // The photo follows its event, in the outbox: the event's id fills {record}.
        const path = 'attachments?record_id={record}&name=photo.jpg';
        await enqueue({ kind: 'attachment', file: photo, title: `${t('report.photo')} · ${title}`,
          ...(outcome.sent ? { path: path.replace('{record}', outcome.sent.id) } : { path, after: outcome.queued }) });
      }
      onDone(outcome.sent ? outcome.sent.id : null);
    } catch (e) {
      if (e instanceof ApiError && e.items.length) {
        const found: Record<string, ApiErrorItem> = {};
        for (const item of e.items) {
          const key = fieldOf(item.loc);
          found[key] = found[key] ?? item;
        }
        setErrors(found);
      } else {
        setGeneral(e instanceof ApiError && e.status === 403 ? t('forbidden') : String((e as Error).message));
      }
    } finally {
      setBusy(false);
    }
  };

  const detailInput = (name: string) => {
    const options = taxonomy.enums[name];
    const id = `detail-${name}`;
    const required = spec?.required.includes(name);
    const value = details[name] ?? '';
    const set = (v: string) => setDetails({ ...details, [name]: v });
    return (
      <div class="field" key={name}>
        <label for={id}>{label(`field.${name}`, name)}{required ? <Req /> : null}</label>
        {options ? (
          <select id={id} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)} {...described(`details.${name}`, required)}>
            <option value="">—</option>
            {options.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
          </select>
        ) : BOOLEAN_DETAILS.has(name) ? (
          <select id={id} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)} {...described(`details.${name}`, required)}>
            <option value="">—</option><option value="true">{t('yes')}</option><option value="false">{t('no')}</option>
          </select>
        ) : NUMBER_DETAILS.has(name) ? (
          <input id={id} type="number" step="any" value={value}
            onInput={(e) => set((e.target as HTMLInputElement).value)} {...described(`details.${name}`, required)} />
        ) : (
          <input id={id} value={value}
            onInput={(e) => set((e.target as HTMLInputElement).value)} {...described(`details.${name}`, required)} />
        )}
        {fieldError(`details.${name}`)}
      </div>
    );
  };

  return (
    <form class="report-form" ref={form} onSubmit={submit} aria-label={t('new_report')} noValidate
      onKeyDown={(e) => { if (e.key === 'Escape') onCancel(); }}>
      <h2>{t('new_report')}</h2>
      <p class="muted small"><span aria-hidden="true">* </span>{t('required_note')}</p>
      <div class="field">
        <label for="report-type">{label('field.type', t('type'))}<Req /></label>
        <select id="report-type" ref={first} value={type} onChange={(e) => { setType((e.target as HTMLSelectElement).value); setDetails({}); }} {...described('type', true)}>
          {taxonomy.categories.map((c) => (
            <optgroup key={c.id} label={c.label}>
              {c.types.map((x) => <option key={x.id} value={x.id}>{x.label}</option>)}
            </optgroup>
          ))}
        </select>
        {fieldError('type')}
      </div>
      <div class="field">
        <label for="report-when">{t('occurred_at')}<Req /></label>
        <span class="time-input">
          <input id="report-when" value={when} placeholder="YYYY-MM-DD HH:mm" pattern={TIME_PATTERN} spellcheck={false}
            onInput={(e) => setWhen((e.target as HTMLInputElement).value)} {...described('occurred_at', true)}
            aria-describedby={errors.occurred_at ? 'err-occurred_at report-when-zone' : 'report-when-zone'} />
          <ZoneTag id="report-when-zone" />
        </span>
        {fieldError('occurred_at')}
      </div>
      <fieldset class="coords">
        <legend>{label('field.location')}<Req /></legend>
        <div class="field">
          <label for="report-lon">{label('field.lon')}<Req /></label>
          <input id="report-lon" inputMode="decimal" value={lon} onInput={(e) => { setLon((e.target as HTMLInputElement).value); setAccuracy(null); }} {...described('location.lon', true)} />
          {fieldError('location.lon')}
        </div>
        <div class="field">
          <label for="report-lat">{label('field.lat')}<Req /></label>
          <input id="report-lat" inputMode="decimal" value={lat} onInput={(e) => { setLat((e.target as HTMLInputElement).value); setAccuracy(null); }} {...described('location.lat', true)} />
          {fieldError('location.lat')}
        </div>
        <div class="location-buttons">
          <button type="button" id="report-locate" onClick={locate} disabled={locating}>{locating ? t('report.locating') : t('report.use_my_location')}</button>
          <button type="button" class={picking ? 'active' : ''} aria-pressed={picking} onClick={() => onPickToggle(!picking)}>{picking ? t('picking') : t('pick_on_map')}</button>
        </div>
        {accuracy !== null && <p class="muted small" id="report-accuracy" data-accuracy={accuracy}>{t('report.accuracy', { m: accuracy })}</p>}
        {fieldError('location')}
      </fieldset>
      {spec?.details.filter((d) => d !== 'unit').map(detailInput)}
      {spec?.units.length ? (
        <div class="field">
          <label for="detail-unit">{label('field.unit', 'unit')}</label>
          <select id="detail-unit" value={details.unit ?? ''} onChange={(e) => setDetails({ ...details, unit: (e.target as HTMLSelectElement).value })} {...described('details.unit')}>
            <option value="">—</option>
            {spec.units.map((u) => <option key={u} value={u}>{label(`enum.unit.${u}`, u)}</option>)}
          </select>
          {fieldError('details.unit')}
        </div>
      ) : null}
      {fieldError('details')}
      {spec?.persons && (
        // Persons are optional; once a count or a nationality is given, both are required.
        <fieldset class="pair">
          <legend>{label('field.persons', 'persons')} <span class="muted small">({t('persons_hint')})</span></legend>
          <div class="field">
            <label for="report-persons">{label('field.count')}{personsGiven ? <Req /> : null}</label>
            <input id="report-persons" type="number" min="1" value={persons} onInput={(e) => setPersons((e.target as HTMLInputElement).value)} {...described('persons.count', personsGiven)} />
            {fieldError('persons.count')}
          </div>
          <div class="field">
            <label for="report-nationality">{label('field.nationality')}{personsGiven ? <Req /> : null}</label>
            <input id="report-nationality" maxLength={2} size={3} value={nationality} autoCapitalize="characters"
              onInput={(e) => setNationality((e.target as HTMLInputElement).value)} {...described('persons.nationality', personsGiven)} />
            {fieldError('persons.nationality')}
          </div>
        </fieldset>
      )}
      <div class="pair">
        <div class="field">
          <label for="report-impact">{label('field.impact_level')}</label>
          <select id="report-impact" value={impact} onChange={(e) => setImpact((e.target as HTMLSelectElement).value)} {...described('impact_level')}>
            {taxonomy.enums.impact_level.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
          </select>
          {fieldError('impact_level')}
        </div>
        <div class="field">
          <label for="report-handling">{label('field.handling')}</label>
          <select id="report-handling" value={handling} onChange={(e) => setHandling((e.target as HTMLSelectElement).value)} {...described('handling')}>
            {taxonomy.enums.handling.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
          </select>
          {fieldError('handling')}
        </div>
      </div>
      <div class="pair">
        <div class="field">
          <label for="report-reliability">{label('field.source_reliability', 'source')}</label>
          <select id="report-reliability" value={reliability} onChange={(e) => setReliability((e.target as HTMLSelectElement).value)} {...described('confidence.source_reliability')}>
            {taxonomy.enums.source_reliability.map((o) => <option key={o.id} value={o.id}>{o.id} — {o.label}</option>)}
          </select>
          {fieldError('confidence.source_reliability')}
        </div>
        <div class="field">
          <label for="report-credibility">{label('field.information_credibility')}</label>
          <select id="report-credibility" value={credibility} onChange={(e) => setCredibility((e.target as HTMLSelectElement).value)} {...described('confidence.information_credibility')}>
            {[1, 2, 3, 4, 5, 6].map((g) => <option key={g} value={String(g)}>{g} — {label(`enum.information_credibility.${g}`, String(g))}</option>)}
          </select>
          {fieldError('confidence.information_credibility')}
        </div>
      </div>
      <div class="field photo-field">
        <input id="report-photo" class="sr-only" type="file" accept="image/*" capture="environment" disabled={photoBusy}
          onChange={(e) => void takePhoto(e.target as HTMLInputElement)} />
        <label for="report-photo" class="photo-button">{photo ? t('report.photo_again') : t('report.take_photo')}</label>
        {photoBusy && <span class="muted small">{t('loading')}</span>}
        {photoUrl && (
          <span class="photo-preview">
            <img src={photoUrl} alt={t('report.photo')} data-bytes={photo?.size} />
            <button type="button" onClick={() => { setPhoto(null); setPhotoUrl(null); }}>{t('report.photo_remove')}</button>
          </span>
        )}
      </div>
      <div class="field">
        <label for="report-description">{label('field.description')}</label>
        <textarea id="report-description" rows={2} value={description} onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} {...described('description')} />
        {fieldError('description')}
      </div>
      {(() => {
        // Errors no field of this form shows (e.g. a detail the chosen type has no input for).
        const other = Object.entries(errors).filter(([k]) => !placed.has(k));
        const text = [general, ...other.map(([k, v]) => `${k}: ${message(v)}`)].filter(Boolean).join('; ');
        return text ? <p class="error" role="alert">{text}</p> : null;
      })()}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>{t('send_report')}</button>
        <button type="button" onClick={onCancel}>{t('cancel')}</button>
      </div>
    </form>
  );
}
