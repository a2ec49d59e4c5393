// The quick report form: click on the map or type coordinates; the fields follow the taxonomy;
// the API's 422 answers are shown beside the fields they name, in the user's language.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, post, type ApiErrorItem, type Taxonomy } from './api';
import { fromLocalInput, label, t, toLocalInput } from './i18n';

const NUMBER_DETAILS = new Set(['quantity', 'killed', 'injured', 'cases']);
const BOOLEAN_DETAILS = new Set(['shots_fired']);

interface Props {
  taxonomy: Taxonomy;
  picked: [number, number] | null;
  picking: boolean;
  onPickToggle(on: boolean): void;
  onDone(id: string): void;
  onCancel(): void;
}

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
  const firstType = taxonomy.categories[0]?.types[0]?.id ?? '';
  const [type, setType] = useState(firstType);
  const [when, setWhen] = useState(toLocalInput(new Date()));
  const [lon, setLon] = useState('');
  const [lat, setLat] = useState('');
  const [impact, setImpact] = useState('low');
  const [handling, setHandling] = useState('AMBER');
  const [reliability, setReliability] = useState('C');
  const [credibility, setCredibility] = useState('3');
  const [details, setDetails] = useState<Record<string, string>>({});
  const [persons, setPersons] = useState('');
  const [nationality, setNationality] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, ApiErrorItem>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLSelectElement>(null);

  useEffect(() => { first.current?.focus(); }, []);
  useEffect(() => {
    if (picked) { setLon(String(picked[0])); setLat(String(picked[1])); }
  }, [picked]);

  const spec = taxonomy.categories.flatMap((c) => c.types).find((x) => x.id === type);

  const fieldError = (path: string) => {
    const item = errors[path];
    return item ? <span class="field-error" id={`err-${path}`} role="alert" title={item.msg}>{message(item)}</span> : null;
  };
  const described = (path: string) => (errors[path] ? { 'aria-invalid': true, 'aria-describedby': `err-${path}` } : {});

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
    const body: Record<string, unknown> = {
      type,
      occurred_at: occurred ?? when,
      location: { lon: lon === '' ? null : Number(lon), lat: lat === '' ? null : Number(lat) },
      impact_level: impact,
      handling,
      confidence: { source_reliability: reliability, information_credibility: Number(credibility) },
      details: detailBody,
      description,
    };
    if (spec?.persons && persons) {
      body.persons = [{ count: Number(persons), ...(nationality ? { nationality: nationality.toUpperCase() } : {}) }];
    }
    try {
      const written = await post<{ id: string }>('events', body);
      onDone(written.id);
    } catch (e) {
      if (e instanceof ApiError && e.items.length) {
        const found: Record<string, ApiErrorItem> = {};
        for (const item of e.items) {
          const path = item.loc.filter((p) => p !== 'body').join('.');
          // persons.0.count → persons; details.x stays as it is.
          const key = path.startsWith('persons') ? 'persons' : path.startsWith('confidence') ? 'confidence' : path;
          found[key] = found[key] ?? item;
        }
        setErrors(found);
        const known = ['type', 'occurred_at', 'location.lon', 'location.lat', 'location', 'impact_level', 'handling', 'confidence', 'persons', 'description', ...(spec?.details.map((d) => `details.${d}`) ?? []), 'details.unit', 'details'];
        const other = Object.entries(found).filter(([k]) => !known.includes(k));
        if (other.length) setGeneral(other.map(([k, v]) => `${k}: ${message(v)}`).join('; '));
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
        <label for={id}>{label(`field.${name}`, name)}{required ? ' *' : ''}</label>
        {options ? (
          <select id={id} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)} {...described(`details.${name}`)}>
            <option value="">—</option>
            {options.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
          </select>
        ) : BOOLEAN_DETAILS.has(name) ? (
          <select id={id} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
            <option value="">—</option><option value="true">{t('yes')}</option><option value="false">{t('no')}</option>
          </select>
        ) : NUMBER_DETAILS.has(name) ? (
          <input id={id} type="number" step="any" value={value}
            onInput={(e) => set((e.target as HTMLInputElement).value)} {...described(`details.${name}`)} />
        ) : (
          <input id={id} value={value}
            onInput={(e) => set((e.target as HTMLInputElement).value)} {...described(`details.${name}`)} />
        )}
        {fieldError(`details.${name}`)}
      </div>
    );
  };

  return (
    <form class="report-form" onSubmit={submit} aria-label={t('new_report')}
      onKeyDown={(e) => { if (e.key === 'Escape') onCancel(); }}>
      <h2>{t('new_report')}</h2>
      <div class="field">
        <label for="report-type">{label('field.type', t('type'))} *</label>
        <select id="report-type" ref={first} value={type} onChange={(e) => { setType((e.target as HTMLSelectElement).value); setDetails({}); }} {...described('type')}>
          {taxonomy.categories.map((c) => (
            <optgroup key={c.id} label={c.label}>
              {c.types.map((x) => <option key={x.id} value={x.id}>{x.label}</option>)}
            </optgroup>
          ))}
        </select>
        {fieldError('type')}
      </div>
      <div class="field">
        <label for="report-when">{t('occurred_at')} *</label>
        <input id="report-when" type="datetime-local" value={when} onInput={(e) => setWhen((e.target as HTMLInputElement).value)} {...described('occurred_at')} />
        {fieldError('occurred_at')}
      </div>
      <fieldset class="coords">
        <legend>{label('field.location')} *</legend>
        <div class="field">
          <label for="report-lon">{label('field.lon')}</label>
          <input id="report-lon" inputMode="decimal" value={lon} onInput={(e) => setLon((e.target as HTMLInputElement).value)} {...described('location.lon')} />
          {fieldError('location.lon')}
        </div>
        <div class="field">
          <label for="report-lat">{label('field.lat')}</label>
          <input id="report-lat" inputMode="decimal" value={lat} onInput={(e) => setLat((e.target as HTMLInputElement).value)} {...described('location.lat')} />
          {fieldError('location.lat')}
        </div>
        <button type="button" class={picking ? 'active' : ''} aria-pressed={picking} onClick={() => onPickToggle(!picking)}>{picking ? t('picking') : t('pick_on_map')}</button>
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
        <div class="field two">
          <label for="report-persons">{label('field.count')}</label>
          <input id="report-persons" type="number" min="1" value={persons} onInput={(e) => setPersons((e.target as HTMLInputElement).value)} {...described('persons')} />
          <label for="report-nationality">{label('field.nationality')}</label>
          <input id="report-nationality" maxLength={2} size={3} value={nationality} onInput={(e) => setNationality((e.target as HTMLInputElement).value)} />
          {fieldError('persons')}
        </div>
      )}
      <div class="field two">
        <label for="report-impact">{label('field.impact_level')}</label>
        <select id="report-impact" value={impact} onChange={(e) => setImpact((e.target as HTMLSelectElement).value)}>
          {taxonomy.enums.impact_level.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
        </select>
        <label for="report-handling">{label('field.handling')}</label>
        <select id="report-handling" value={handling} onChange={(e) => setHandling((e.target as HTMLSelectElement).value)}>
          {taxonomy.enums.handling.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
        </select>
      </div>
      <div class="field two">
        <label for="report-reliability">{label('field.source_reliability', 'source')}</label>
        <select id="report-reliability" value={reliability} onChange={(e) => setReliability((e.target as HTMLSelectElement).value)}>
          {taxonomy.enums.source_reliability.map((o) => <option key={o.id} value={o.id}>{o.id} — {o.label}</option>)}
        </select>
        <label for="report-credibility">{label('field.information_credibility')}</label>
        <select id="report-credibility" value={credibility} onChange={(e) => setCredibility((e.target as HTMLSelectElement).value)}>
          {[1, 2, 3, 4, 5, 6].map((g) => <option key={g} value={String(g)}>{g} — {label(`enum.information_credibility.${g}`, String(g))}</option>)}
        </select>
        {fieldError('confidence')}
      </div>
      <div class="field">
        <label for="report-description">{label('field.description')}</label>
        <textarea id="report-description" rows={2} value={description} onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} {...described('description')} />
        {fieldError('description')}
      </div>
      {general && <p class="error" role="alert">{general}</p>}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>{t('send_report')}</button>
        <button type="button" onClick={onCancel}>{t('cancel')}</button>
      </div>
    </form>
  );
}
