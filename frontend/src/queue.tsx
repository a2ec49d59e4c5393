// The validation queue of this node's level: serious first, then oldest first, the time
// in queue coloured against the limit; validate, return for correction, reject (with a
// reason and a confirmation) from the keyboard; the levels below, the reports sent back,
// and time-in-queue statistics.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, may, post, type User } from './api';
import { currentTimeZone, enumLabel, formatShort, formatTime, t, typeLabel, zoneLabel } from './i18n';
import { duration, refusal, type DurationGroup, type QueueEntry, type QueuePage } from './ops';

type Tab = 'waiting' | 'below' | 'returned' | 'statistics';
type Pending = null | { action: 'return_for_correction' | 'reject'; confirm: boolean };

interface Stats { by_level: DurationGroup[]; by_level_node: DurationGroup[]; by_day: DurationGroup[] }

/** Green for a report fresh in the queue, amber past half the limit, red past it. */
export function waitClass(seconds: number, limit: number): string {
  if (seconds >= limit) return 'wait-over';
  return seconds >= limit / 2 ? 'wait-half' : 'wait-ok';
}

export function QueuePageView({ user, version, item, setItem }: {
  user: User; version: number; item: string | null; setItem(item: string | null): void;
}) {
  const tab: Tab = item === 'below' || item === 'returned' || item === 'statistics' ? item : 'waiting';
  const [page, setPage] = useState<QueuePage | null>(null);
  const [more, setMore] = useState<QueueEntry[]>([]);
  const [stats, setStats] = useState<Stats | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [tick, setTick] = useState(Date.now());
  const list = useRef<HTMLDivElement>(null);
  const reasonBox = useRef<HTMLTextAreaElement>(null);
  const canDecide = may(user, 'change_status');

  const load = async () => {
    if (tab === 'statistics') {
      const q = `tz=${encodeURIComponent(currentTimeZone())}`;
      setStats(await get<Stats>(`queue/statistics?${q}`));
      setPage(await get<QueuePage>('queue?limit=1'));
      return;
    }
    const answer = await get<QueuePage>(`queue?view=${tab}&limit=100`);
    setPage(answer);
    setMore([]);
    setTick(Date.now());
  };

  useEffect(() => { load().catch((e) => setMessage({ text: refusal(e), error: true })); }, [tab, version]);
  // Times in queue move on by themselves: look again every half minute.
  useEffect(() => {
    const timer = setInterval(() => load().catch(() => {}), 30_000);
    return () => clearInterval(timer);
  }, [tab]);

  const items = [...(page?.items ?? []), ...more];
  const current = items.find((i) => i.event_id === selected) ?? items[0] ?? null;
  useEffect(() => { if (current && current.event_id !== selected) setSelected(current.event_id); }, [current?.event_id]);
  useEffect(() => { if (pending) reasonBox.current?.focus(); }, [pending?.action]);

  const elapsed = (i: QueueEntry) => i.waiting_s + (i.left_at ? 0 : (Date.now() - tick) / 1000);
  const limit = page?.overdue_after_s ?? 1800;

  const act = async (action: string, text = '') => {
    if (!current) return;
    setBusy(true);
    setMessage(null);
    try {
      await post(`events/${current.event_id}/actions`, { action, text });
      setMessage({ text: t(`queue.done.${action}`), error: false });
      setPending(null);
      setReason('');
      const index = items.findIndex((i) => i.event_id === current.event_id);
      setSelected(items[index + 1]?.event_id ?? items[index - 1]?.event_id ?? null);
      await load();
      list.current?.focus();
    } catch (e) {
      setMessage({ text: refusal(e), error: true });
      await load().catch(() => {});
    } finally {
      setBusy(false);
    }
  };

  const loadMore = async () => {
    if (!page?.next_cursor) return;
    const answer = await get<QueuePage>(`queue?view=${tab}&limit=100&cursor=${encodeURIComponent(page.next_cursor)}`);
    setMore((m) => [...m, ...answer.items]);
    setPage({ ...page, next_cursor: answer.next_cursor });
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement) return;
    const index = items.findIndex((i) => i.event_id === current?.event_id);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = items[Math.min(items.length - 1, Math.max(0, index + (e.key === 'ArrowDown' ? 1 : -1)))];
      if (next) setSelected(next.event_id);
      return;
    }
    if (!canDecide || tab !== 'waiting' || !current || busy) return;
    const key = e.key.toLowerCase();
    if (key === 'v') { e.preventDefault(); act('validate'); }
    if (key === 'r') { e.preventDefault(); setPending({ action: 'return_for_correction', confirm: false }); }
    if (key === 'x') { e.preventDefault(); setPending({ action: 'reject', confirm: false }); }
  };

  const tabs: [Tab, string, number | null][] = [
    ['waiting', page?.level ? t('queue.tab.waiting', { level: page.level }) : t('queue.tab.none'), page?.counts.waiting ?? null],
    ['below', t('queue.tab.below'), page?.counts.below ?? null],
    ['returned', t('queue.tab.returned'), page?.counts.returned ?? null],
    ['statistics', t('queue.tab.statistics'), null],
  ];

  return (
    <div class="work-page queue-page" onKeyDown={onKey}>
      <div class="work-head">
        <h2>{t('queue.title')}</h2>
        {page && <span class="muted">{t('queue.chain')}: {page.levels.map((l) => l === page.level ? `[${l}]` : l).join(' → ')}</span>}
        {page && <span class="figures">
          <span><b>{page.counts.waiting}</b> {t('queue.waiting')}</span>
          <span class={page.counts.overdue ? 'warn' : ''}><b>{page.counts.overdue}</b> {t('queue.overdue', { limit: duration(limit) })}</span>
          <span class={page.counts.serious ? 'warn' : ''}><b>{page.counts.serious}</b> {t('queue.serious')}</span>
          <span><b>{page.counts.late}</b> {t('queue.late')}</span>
        </span>}
      </div>
      <div class="tabs" role="tablist">
        {tabs.map(([id, text, count]) => (
          <button key={id} role="tab" aria-selected={tab === id} class={tab === id ? 'active' : ''}
            onClick={() => setItem(id === 'waiting' ? null : id)}>
            {text}{count !== null ? ` (${count})` : ''}
          </button>
        ))}
      </div>
      {message && <p class={message.error ? 'error notice' : 'notice ok'} role={message.error ? 'alert' : 'status'}>{message.text}</p>}
      {tab === 'statistics' ? <QueueStats stats={stats} /> : (
        <div class="work-body">
          <div class="queue-list" tabIndex={0} ref={list} aria-label={t('queue.list')} aria-activedescendant={current ? `q-${current.event_id}` : undefined}>
            <table class="work-table">
              <thead><tr><th>{t('queue.waited')}</th><th>{t('queue.report')}</th><th>{t('queue.place')}</th><th>{t('queue.level')}</th><th>{t('origin')}</th></tr></thead>
              <tbody>
                {items.map((i) => (
                  <tr key={`${i.event_id}-${i.level}-${i.round}`} id={`q-${i.event_id}`} class={`${i.event_id === current?.event_id ? 'selected' : ''} ${i.serious ? 'serious' : ''}`}
                    onClick={() => setSelected(i.event_id)} aria-selected={i.event_id === current?.event_id}>
                    <td><span class={`wait ${waitClass(elapsed(i), limit)}`}>{duration(elapsed(i))}</span></td>
                    <td>
                      {i.serious && <span class="badge serious-badge">{t('queue.serious_badge')}</span>}
                      {i.late && <span class="badge late-badge">{t('queue.late_badge')}</span>}
                      {' '}<strong>{typeLabel(i.event.type ?? '')}</strong>
                      <div class="muted small">{enumLabel('impact_level', i.event.impact_level)} · {i.event.occurred_at ? formatShort(i.event.occurred_at) : ''}</div>
                    </td>
                    <td>{i.event.section_id ?? t('inland')}</td>
                    <td>{i.level}{i.round ? ` (${t('queue.round', { n: i.round + 1 })})` : ''}</td>
                    <td class="small">{i.origin}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {!items.length && <p class="empty">{tab === 'returned' ? t('queue.none_returned') : t('queue.empty')}</p>}
            {page?.next_cursor && <button class="more" onClick={loadMore}>{t('queue.more')}</button>}
            <p class="muted small keys">{t('queue.keys')} · {zoneLabel()}</p>
          </div>
          {current && (
            <section class="queue-detail" aria-label={t('queue.report')}>
              <h3>{typeLabel(current.event.type ?? '')}</h3>
              <table class="fields"><tbody>
                <tr><th>{t('occurred_at')}</th><td>{current.event.occurred_at ? formatTime(current.event.occurred_at) : '—'}</td></tr>
                <tr><th>{t('reported_at')}</th><td>{current.event.reported_at ? formatTime(current.event.reported_at) : '—'}{current.late ? ` · ${t('queue.late_note')}` : ''}</td></tr>
                <tr><th>{t('queue.entered')}</th><td>{formatTime(current.entered_at)} ({duration(elapsed(current))})</td></tr>
                <tr><th>{t('queue.place')}</th><td>{current.event.section_id ?? t('inland')}{current.event.location ? ` · ${current.event.location.lon.toFixed(4)}, ${current.event.location.lat.toFixed(4)}` : ''}</td></tr>
                <tr><th>{t('origin')}</th><td>{current.origin}</td></tr>
                <tr><th>{t('queue.impact')}</th><td>{enumLabel('impact_level', current.event.impact_level)}</td></tr>
                {current.event.description && <tr><th>{t('queue.description')}</th><td>{current.event.description}</td></tr>}
                {current.note && <tr><th>{t('queue.reason')}</th><td class="reason">{current.note} — {current.acted_by}@{current.acted_node}</td></tr>}
              </tbody></table>
              <div class="action-buttons">
                <a class="button" href={`#/map?event=${current.event_id}`}>{t('queue.on_map')}</a>
                {may(user, 'task_units') && <a class="button" href={`#/tasks?for=event:${current.event_id}`}>{t('queue.task')}</a>}
              </div>
              {canDecide && tab === 'waiting' && page?.level && (
                <div class="decide">
                  <div class="action-buttons">
                    <button class="primary" disabled={busy} onClick={() => act('validate')} title="V">{t('queue.validate')} <kbd>V</kbd></button>
                    <button disabled={busy} onClick={() => setPending({ action: 'return_for_correction', confirm: false })} title="R">{t('queue.return')} <kbd>R</kbd></button>
                    <button class="danger" disabled={busy} onClick={() => setPending({ action: 'reject', confirm: false })} title="X">{t('queue.reject')} <kbd>X</kbd></button>
                  </div>
                  {pending && (
                    <form class="reason-form" onSubmit={(e) => {
                      e.preventDefault();
                      if (!reason.trim()) return;
                      if (pending.action === 'reject' && !pending.confirm) { setPending({ ...pending, confirm: true }); return; }
                      act(pending.action, reason);
                    }}>
                      <label for="queue-reason">{pending.action === 'reject' ? t('queue.reject_reason') : t('queue.return_reason')} <span class="req">*</span></label>
                      <textarea id="queue-reason" ref={reasonBox} rows={3} required aria-required="true" value={reason}
                        onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
                        onKeyDown={(e) => { if (e.key === 'Escape') { setPending(null); list.current?.focus(); } }} />
                      {pending.confirm && <p class="error" role="alert">{t('queue.reject_confirm')}</p>}
                      <div class="buttons">
                        <button type="submit" class={pending.action === 'reject' ? 'danger' : 'primary'} disabled={busy || !reason.trim()}>
                          {pending.action === 'reject' ? (pending.confirm ? t('queue.reject_yes') : t('queue.reject')) : t('queue.return')}
                        </button>
                        <button type="button" onClick={() => { setPending(null); list.current?.focus(); }}>{t('cancel')}</button>
                      </div>
                    </form>
                  )}
                </div>
              )}
            </section>
          )}
        </div>
      )}
    </div>
  );
}

function QueueStats({ stats }: { stats: Stats | null }) {
  if (!stats) return <p class="empty">{t('loading')}</p>;
  const cell = (v: number | null) => (v === null ? '—' : duration(v));
  const rows = (groups: DurationGroup[], keys: string[]) => groups.map((g) => (
    <tr key={keys.map((k) => String(g[k])).join('|')}>
      {keys.map((k) => <td key={k}>{String(g[k] ?? '—')}</td>)}
      <td class="num">{g.count}</td><td class="num">{cell(g.median_s)}</td><td class="num">{cell(g.p90_s)}</td>
    </tr>
  ));
  const head = (keys: string[]) => (
    <thead><tr>{keys.map((k) => <th key={k}>{t(`queue.stat.${k}`)}</th>)}<th>{t('queue.stat.count')}</th><th>{t('queue.stat.median')}</th><th>{t('queue.stat.p90')}</th></tr></thead>
  );
  return (
    <div class="stats-grid">
      <section class="card"><h3>{t('queue.stat.by_level')}</h3>
        <table class="work-table">{head(['level'])}<tbody>{rows(stats.by_level, ['level'])}</tbody></table></section>
      <section class="card"><h3>{t('queue.stat.by_node')}</h3>
        <table class="work-table">{head(['level', 'node'])}<tbody>{rows(stats.by_level_node, ['level', 'node'])}</tbody></table></section>
      <section class="card wide"><h3>{t('queue.stat.by_day')} ({zoneLabel()})</h3>
        <table class="work-table">{head(['day', 'level', 'node'])}<tbody>{rows([...stats.by_day].reverse(), ['day', 'level', 'node'])}</tbody></table></section>
      {!stats.by_level.length && <p class="empty">{t('queue.stat.none')}</p>}
    </div>
  );
}
