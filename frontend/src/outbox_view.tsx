// The outbox in the top bar: a badge counting what waits and what failed, and a panel
// listing each change with its state; a failed one shows the node's reason and can be
// removed, waiting ones can be sent at once.
import { useEffect, useState } from 'preact/hooks';
import { formatShort, t } from './i18n';
import { outboxItems, removeItem, sendNow, watchOutbox, type OutboxItem } from './outbox';

export function useOutbox(): OutboxItem[] {
  const [items, setItems] = useState<OutboxItem[]>([]);
  useEffect(() => {
    const read = () => { outboxItems().then(setItems).catch(() => {}); };
    read();
    return watchOutbox(read);
  }, []);
  return items;
}

export function OutboxBadge() {
  const items = useOutbox();
  const [open, setOpen] = useState(false);
  const waiting = items.filter((i) => i.state === 'waiting');
  const failed = items.filter((i) => i.state === 'failed');
  const delivered = items.filter((i) => i.state === 'delivered');
  if (!items.length) return null;
  return (
    <div class="outbox">
      <button id="outbox-button" class={`outbox-badge ${failed.length ? 'failed' : waiting.length ? 'waiting' : ''}`}
        aria-expanded={open} aria-controls="outbox-panel" onClick={() => setOpen(!open)}
        data-waiting={waiting.length} data-failed={failed.length} data-delivered={delivered.length}>
        {t('outbox.title')}{' '}
        {waiting.length > 0 && <span class="nav-count" title={t('outbox.waiting')}>{waiting.length}</span>}
        {failed.length > 0 && <span class="nav-count warn" title={t('outbox.failed')}>{failed.length}</span>}
      </button>
      {open && (
        <section id="outbox-panel" class="outbox-panel" aria-label={t('outbox.title')}>
          <header>
            <strong>{t('outbox.title')}</strong>
            <span class="muted small">{t('outbox.summary', { waiting: waiting.length, failed: failed.length, delivered: delivered.length })}</span>
            {waiting.length > 0 && <button id="outbox-send" onClick={() => void sendNow()}>{t('outbox.send_now')}</button>}
            <button class="close" onClick={() => setOpen(false)} aria-label={t('close')}>×</button>
          </header>
          <ol>
            {[...items].reverse().map((item) => (
              <li key={item.seq} class={`outbox-item ${item.state}`} data-state={item.state} data-kind={item.kind}>
                <span class="outbox-title">{item.title}</span>
                <span class="muted small">
                  {t(`outbox.${item.state}`)} · {formatShort(item.delivered ?? item.made)}
                  {item.state === 'waiting' && item.tries > 0 && ` · ${t('outbox.tries', { n: item.tries })}`}
                </span>
                {item.state === 'failed' && <span class="error small" role="alert">{item.error}</span>}
                {item.state !== 'waiting' && (
                  <button class="link" onClick={() => void removeItem(item.seq!)}>{t('outbox.remove')}</button>)}
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
}
