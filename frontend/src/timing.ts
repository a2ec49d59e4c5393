// Rate limits for work the live stream triggers.

/**
 * A function that runs ``work`` at most once every ``ms`` milliseconds, however often it is
 * called: the first call schedules a run ``ms`` later, and calls until then join it.
 */
export function atMostEvery(ms: number, work: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    setTimeout(() => { queued = false; work(); }, ms);
  };
}

/**
 * A function that runs ``work`` at once when it has not run for ``ms`` milliseconds, and
 * otherwise once more when those ``ms`` are over (however many calls came meanwhile): the
 * first change shows at once, a burst costs one run a period.
 */
export function atOnceThenEvery(ms: number, work: () => void): () => void {
  let last = -Infinity;
  let pending = false;
  const run = () => { last = Date.now(); work(); };
  return () => {
    if (pending) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) { run(); return; }
    pending = true;
    setTimeout(() => { pending = false; run(); }, wait);
  };
}
