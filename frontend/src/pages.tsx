// Pages loaded when first shown (a dynamic import: their own file), so that the first visit
// on a poor link fetches the map and the report form only. The service worker precaches
// every file of the build, so a page loaded this way opens with no link too.
import type { ComponentType, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n';

/** A component whose code is fetched at its first render ("loading…" until then). */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): (props: P) => JSX.Element {
  let loaded: ComponentType<P> | null = null;
  let loading: Promise<ComponentType<P>> | null = null;
  return function LazyPage(props: P) {
    // Re-render once the code is here (a counter: a component kept in state would be
    // taken by useState for an initialiser and called).
    const [, setArrived] = useState(0);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      loading ??= load();
      loading.then((c) => { loaded = c; setArrived((n) => n + 1); }, () => { loading = null; setFailed(true); });
    }, []);
    if (loaded) {
      const Page = loaded;
      return <Page {...props} />;
    }
    return <div class="page-loading muted" role="status">{failed ? t('update.page_unavailable') : t('loading')}</div>;
  };
}
