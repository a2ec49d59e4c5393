// The reports library: issued reports (own and received) and drafts; generate a product from
// the node's data, add commentary to its parts, preview it as it will print, issue it (signed
// for the officer) and download it as PDF or DOCX.
import { useEffect, useState } from 'preact/hooks';
import { API, ApiError, get, may, post, request, type User } from './api';
import { LANGUAGES, currentLanguage, formatShort, t } from './i18n';
import type { View } from './view';

interface Summary {
  id: string; origin: string; version: number; recorded_at: string; product: string; status: string;
  title: string; language: string; period: { label: string }; issued_by?: string | null;
  signature_valid?: boolean | null; withheld?: string[]; edited_by?: string;
}
interface Block { kind: string; part: string; heading: string; text?: string; commentary: string }
interface Draft extends Summary { content: { blocks: Block[] } }

const PRODUCTS = ['daily', 'weekly', 'monthly', 'tactical', 'annual', 'annex_quarterly', 'annex_annual'];

function yesterday(): string {
  const d = new Date(Date.now() - 86400e3);
  return d.toISOString().slice(0, 10);
}

function DraftEditor({ id, user, onIssued }: { id: string; user: User; onIssued(reportId: string): void }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(0);
  useEffect(() => {
    get<Draft>(`report-drafts/${id}`).then((d) => {
      setDraft(d);
      setNotes(Object.fromEntries(d.content.blocks.map((b, i) => [i, b.commentary])));
    }).catch((e) => setError(String(e.message)));
  }, [id, saved]);
  if (!draft) return <p class="muted">{error ?? t('loading')}</p>;
  const fail = (err: unknown) => setError(err instanceof ApiError && err.items.length
    ? err.items.map((i) => i.msg).join('; ') : String((err as Error).message));
  const save = async () => {
    setError(null);
    const changed = Object.fromEntries(Object.entries(notes).filter(([i, v]) => draft.content.blocks[Number(i)].commentary !== v));
    try {
      await request('PATCH', `report-drafts/${id}`, { commentary: changed, base_version: draft.version });
      setSaved((n) => n + 1);
    } catch (err) { fail(err); }
  };
  const issue = async () => {
    setError(null);
    try {
      const issued = await post<Summary>(`report-drafts/${id}/issue`, { base_version: draft.version });
      onIssued(issued.id);
    } catch (err) { fail(err); }
  };
  const dirty = draft.content.blocks.some((b, i) => (notes[i] ?? '') !== b.commentary);
  return (
    <div class="draft-editor">
      <h2>{draft.title} · {draft.period.label} <span class="muted small">{t('draft_version', { n: draft.version })}</span></h2>
      <div class="draft-columns">
        <form class="commentary-form" onSubmit={(e) => { e.preventDefault(); save(); }} aria-label={t('commentary')}>
          {draft.content.blocks.map((b, i) => (
            <div key={i} class="commentary-item">
              <label for={`commentary-${i}`}>{b.heading}</label>
              {b.kind === 'text' && <p class="small muted">{b.text}</p>}
              <textarea id={`commentary-${i}`} rows={2} value={notes[i] ?? ''} placeholder={t('commentary_placeholder')}
                onInput={(e) => setNotes({ ...notes, [i]: (e.target as HTMLTextAreaElement).value })} />
            </div>
          ))}
          {error && <p class="error" role="alert">{error}</p>}
          <div class="actions">
            <button type="submit" disabled={!dirty}>{t('save_commentary')}</button>
            {may(user, 'issue_reports') && (
              <button type="button" class="primary" id="issue-report" disabled={dirty} onClick={issue} title={dirty ? t('save_first') : ''}>{t('issue_report')}</button>
            )}
            <a href={`${API}/report-drafts/${id}/document.pdf`} download>{t('download_pdf')}</a>
            <a href={`${API}/report-drafts/${id}/document.docx`} download>{t('download_docx')}</a>
          </div>
        </form>
        <iframe class="report-preview" title={t('preview')} src={`${API}/report-drafts/${id}/document.html?v=${draft.version}`} sandbox="" />
      </div>
    </div>
  );
}

export function ReportsPage({ user, view, setView, version }: { user: User; view: View; setView(v: View): void; version: number }) {
  const [reports, setReports] = useState<Summary[]>([]);
  const [drafts, setDrafts] = useState<Summary[]>([]);
  const [product, setProduct] = useState('daily');
  const [day, setDay] = useState(yesterday());
  const [language, setLanguage] = useState(currentLanguage());
  const [area, setArea] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  const canIssue = may(user, 'issue_reports');
  useEffect(() => {
    get<{ reports: Summary[] }>('reports').then((r) => setReports(r.reports)).catch(() => setReports([]));
    if (canIssue) get<{ drafts: Summary[] }>('report-drafts').then((d) => setDrafts(d.drafts.filter((x) => x.status === 'draft'))).catch(() => setDrafts([]));
  }, [version, refresh]);
  const generate = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const made = await post<Summary>('report-drafts', {
        product, day, language,
        ...(product === 'tactical' && area ? { area: area.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
      });
      setView({ ...view, card: `draft:${made.id}` });
      setRefresh((n) => n + 1);
    } catch (err) {
      setError(err instanceof ApiError && err.items.length ? err.items.map((i) => i.msg).join('; ') : String((err as Error).message));
    } finally { setBusy(false); }
  };
  const openDraft = view.card?.startsWith('draft:') ? view.card.slice(6) : null;
  return (
    <div class="reports-page">
      <aside class="reports-side">
        {canIssue && (
          <form class="generate" onSubmit={generate} aria-labelledby="generate-title">
            <h2 id="generate-title">{t('generate_report')}</h2>
            <label for="report-product">{t('product')}</label>
            <select id="report-product" value={product} onChange={(e) => setProduct((e.target as HTMLSelectElement).value)}>
              {PRODUCTS.map((p) => <option key={p} value={p}>{t(`product.${p}`)}</option>)}
            </select>
            <label for="report-day">{product === 'tactical' ? t('first_day') : t('day_in_period')}</label>
            <input id="report-day" type="date" value={day} onInput={(e) => setDay((e.target as HTMLInputElement).value)} />
            <label for="report-language">{t('language')}</label>
            <select id="report-language" value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value)}>
              {LANGUAGES.map(([code, name]) => <option key={code} value={code}>{name}</option>)}
            </select>
            {product === 'tactical' && (<>
              <label for="report-area">{t('area_sections')}</label>
              <input id="report-area" value={area} placeholder="AF-TJ-*" onInput={(e) => setArea((e.target as HTMLInputElement).value)} />
            </>)}
            {error && <p class="error" role="alert">{error}</p>}
            <button type="submit" class="primary" disabled={busy}>{busy ? t('generating') : t('generate')}</button>
          </form>
        )}
        {canIssue && drafts.length > 0 && (
          <section>
            <h2>{t('drafts')}</h2>
            <ul class="report-list">{drafts.map((d) => (
              <li key={d.id}><button class={`link${openDraft === d.id ? ' active' : ''}`} onClick={() => setView({ ...view, card: `draft:${d.id}` })}>
                {d.title} · {d.period.label} · {d.language}</button></li>
            ))}</ul>
          </section>
        )}
      </aside>
      <main class="reports-main">
        {openDraft ? (
          <DraftEditor id={openDraft} user={user} onIssued={() => { setView({ ...view, card: null }); setRefresh((n) => n + 1); }} />
        ) : (
          <section aria-labelledby="library-title">
            <h2 id="library-title">{t('reports_library')}</h2>
            {reports.length === 0 ? <p class="muted">{t('no_reports')}</p> : (
              <table class="library">
                <thead><tr><th>{t('report')}</th><th>{t('period')}</th><th>{t('language')}</th><th>{t('issued_by')}</th><th>{t('origin')}</th><th>{t('status')}</th><th>{t('signature')}</th><th>{t('download')}</th></tr></thead>
                <tbody>{reports.map((r) => (
                  <tr key={r.id} data-report={r.id}>
                    <td><a href={`${API}/reports/${r.id}/document.html`} target="_blank" rel="noopener">{r.title}</a> <span class="muted small">v{r.version}</span></td>
                    <td>{r.period.label}</td><td>{r.language}</td><td>{r.issued_by ?? '—'}</td><td>{r.origin}</td>
                    <td>{t(`report_status.${r.status}`)}{r.withheld && r.withheld.length ? <span class="muted small"> · {t('withheld')}</span> : null}</td>
                    <td>{r.signature_valid === true ? t('signature_valid') : r.signature_valid === false ? <strong class="error">{t('signature_invalid')}</strong> : t('signature_unknown')}</td>
                    <td><a href={`${API}/reports/${r.id}/document.pdf`} download>PDF</a> · <a href={`${API}/reports/${r.id}/document.docx`} download>DOCX</a></td>
                  </tr>
                ))}</tbody>
              </table>
            )}
            <p class="muted small">{t('reports_updated', { at: formatShort(Date.now()) })}</p>
          </section>
        )}
      </main>
    </div>
  );
}
