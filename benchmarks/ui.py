"""The operator console in a real browser: time to an interactive map, and live bursts.

1. A fresh SQLite node seeded in-process with ``--events`` scenario events (default
   50,000), all inside the console's default window (the last 7 days), then served
   by ``sitcen serve`` in a subprocess. The scheduled analysis is off so that it
   does not compete for the two cores; the risk table is computed once beforehand,
   as the schedule would have done.
2. Debian's Chromium, headless, driven by Playwright (the launch flags of
   sitcen.testing.chromium). Each round opens a fresh browser context, logs in
   through the console's form and waits for the map, closes that page, then
   (load rounds first, so that each sees exactly ``--events`` events, then the
   burst rounds):

   * **time to interactive**: navigates a new page to the map and reads
     ``window.sitcenReady``, which the console sets once every event of the
     window is loaded, handed to MapLibre, indexed by its worker and drawn
     (MapLibre ``idle``), and a frame has gone by with the event loop free. The
     figure is that moment on the page's clock, whose origin is the navigation.
   * **click to panel**: to check the page does answer input at that point, a
     click on an event point of the map (after jumping to it) until the event
     panel shows, timed inside the page.
   * **burst**: one API batch of ``--burst`` live reports (default 100) is written
     while a newly loaded page watches; the time from the start of the write until the list
     counter shows every one of them, and until the map has drawn them
     (``window.sitcenLive``). Meanwhile a PerformanceObserver records long tasks
     (main-thread work over 50 ms) and a requestAnimationFrame loop the longest
     gap between frames: a frozen page shows as one long task.

3. Baselines in the same browser and round: the console on an empty window (the
   page, the map and the base geometry, no events); a plain ``fetch`` +
   ``JSON.parse`` of the window's events in the compact form the console asks
   for; and the same events as GeoJSON through the paged public query
   (``GET /api/v1/events?format=geojson&limit=1000``, cursor after cursor).

The first round is a warm-up (``--warmups``, none at smoke size) and is not counted;
figures are medians of the others. On a shared two-core machine they are noisy.
Progress goes to stderr; the last stdout line is one JSON object.

    python benchmarks/ui.py [--events 50000] [--rounds 5] [--warmups 1] [--burst 100]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from _common import api_server, emit, log, median, parse_args, sqlite_url, temp_dir

from sitcen.testing import chromium, console_missing

VIEWPORT = {"width": 1400, "height": 860}
USERNAME = "bench-duty"
PASSWORD = "bench-password-1"
WINDOW = timedelta(days=7)  # the console's default window (view.ts)
WAIT_MS = 180_000
BURST_TAIL_MS = 1_500  # after the burst is drawn, long tasks are still collected this long
EMPTY_VIEW = "#/map?w=custom&since=2001-01-01T00:00:00.000Z&until=2001-01-02T00:00:00.000Z"

# Runs in every page before its own scripts: long tasks, as the browser reports them.
OBSERVE_LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
}).observe({type: 'longtask', buffered: true});
if (!localStorage.getItem('sitcen.lang')) localStorage.setItem('sitcen.lang', 'en');
if (!localStorage.getItem('sitcen.tz')) localStorage.setItem('sitcen.tz', 'Asia/Dushanbe');
"""

# Watches a burst: when the list counter reaches the target (wall clock, to compare
# with the writer's), and the longest gap between animation frames meanwhile.
WATCH_BURST = """target => {
  const w = window.__burst = {target, startedAt: performance.now(), doneAt: null,
                              donePerf: null, longestGap: 0, frames: 0, running: true};
  let last = performance.now();
  const frame = (now) => {
    w.longestGap = Math.max(w.longestGap, now - last);
    last = now;
    w.frames++;
    if (w.running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const count = () => Number(document.querySelector('.list-head .count')?.dataset.count ?? 0);
  const check = () => {
    if (w.doneAt === null && count() >= target) {
      w.doneAt = Date.now();
      w.donePerf = performance.now();
    }
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true,
    attributes: true, attributeFilter: ['data-count']});
}"""

FETCH_PARSE = """async url => {
  const t0 = performance.now();
  const text = await (await fetch(url, {credentials: 'same-origin'})).text();
  const data = JSON.parse(text);
  return {s: (performance.now() - t0) / 1000, bytes: text.length, ok: !!data};
}"""

GEOJSON_PAGES = """async query => {
  // A page whose fetch fails at the network level (the full run saw one "Failed to fetch"
  // among fifty) is asked again, at most twice; the retries and their errors are reported.
  const t0 = performance.now();
  let cursor = null, features = 0, bytes = 0, requests = 0;
  const errors = [];
  do {
    const url = `/api/v1/events?${query}&format=geojson&limit=1000`
      + (cursor ? `&cursor=${cursor}` : '');
    let text = null;
    for (let attempt = 0; text === null; attempt++) {
      try {
        const answer = await fetch(url, {credentials: 'same-origin'});
        if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
        text = await answer.text();
      } catch (err) {
        errors.push(`page ${requests + 1}: ${err}`);
        if (attempt >= 2) throw new Error(errors.join('; '));
      }
    }
    const page = JSON.parse(text);
    features += page.features.length;
    bytes += text.length;
    requests++;
    cursor = page.next_cursor;
  } while (cursor);
  return {s: (performance.now() - t0) / 1000, features, bytes, requests, errors};
}"""


# --------------------------------------------------------------------------- the node


def seed(database_url: str, data_dir: Path, count: int, seed_: int) -> tuple[str, list[float]]:
    """Write ``count`` scenario events inside the default window; a duty officer's token.

    Returns the token and the [lon, lat] of the newest located event (to click on).
    """
    from sitcen.demo.scenario import generate
    from sitcen.events import EventCreate
    from sitcen.node import Node
    from sitcen.settings import Settings
    from sitcen.store.events import report_events
    from sitcen.store.users import add_user, issue_token
    from sitcen.users import Role

    now = datetime.now(UTC)
    # A margin at both ends: the window moves on while the benchmark runs.
    since, until = now - WINDOW + timedelta(hours=2), now - timedelta(minutes=5)
    days = 9
    scale = 1.25 * count * 365.25 / (50_000 * (until - since).total_seconds() / 86400)
    scenario = generate(days / 365.25, seed=seed_, start=(now - timedelta(days=days - 1)).date(),
                        scale=scale).window(since, until)
    if len(scenario) < count:
        raise SystemExit(f"the scenario gave {len(scenario):,} events in the window, "
                         f"{count:,} wanted")
    step = len(scenario) / count  # spread over the whole window
    wanted = {int(i * step) for i in range(count)}
    payloads = [p for i, p in enumerate(scenario.payloads()) if i in wanted]
    settings = Settings(environment="test", database_url=database_url, data_dir=data_dir,
                        node_id="bench-node", node_country="TJ")
    node = Node.open(settings)
    try:
        t0 = time.perf_counter()
        for lo in range(0, len(payloads), 5000):
            items = [EventCreate.model_validate(p) for p in payloads[lo:lo + 5000]]
            for it in items:
                if it.reported_at is not None and it.reported_at > now:
                    it.reported_at = now
            report_events(node.engine, node.reporter, items, batch=True)
        log(f"seeded {len(payloads):,} events in {time.perf_counter() - t0:.1f} s "
            f"({since:%Y-%m-%d %H:%M} .. {until:%Y-%m-%d %H:%M} UTC)")
        add_user(node.engine, USERNAME, PASSWORD, Role.duty_officer, "Benchmark duty officer")
        token, _ = issue_token(node.engine, USERNAME, 12)
    finally:
        node.engine.dispose()
    newest = next(p for p in reversed(payloads) if p.get("location"))
    return token, [newest["location"]["lon"], newest["location"]["lat"]]


def burst_payloads(count: int, seed_: int) -> bytes:
    """A batch body of ``count`` live reports, reported within the last 90 seconds."""
    from sitcen.demo.scenario import live_events

    feed = live_events(60.0 * count, seed=seed_, now=datetime.now(UTC) - timedelta(seconds=90))
    return orjson.dumps({"events": [next(feed) for _ in range(count)]})


@contextlib.contextmanager
def seeded_console(name: str, events: int, seed_: int) -> Iterator[tuple[str, str, list[float]]]:
    """A fresh node in a temporary directory (``sitcen-bench-<name>-``), seeded by
    :func:`seed`, served by ``sitcen serve``: its URL, a duty officer's token and the [lon,
    lat] of the newest located event. Exits first if Chromium or the built console is
    missing."""
    missing = console_missing()
    if missing is not None:
        raise SystemExit(missing)
    with temp_dir(f"sitcen-bench-{name}-") as tmp:
        url_db = sqlite_url(tmp)
        token, lon_lat = seed(url_db, tmp, events, seed_)
        with api_server(url_db, tmp) as server:
            yield server.url, token, lon_lat


# --------------------------------------------------------------------------- the browser


def ready(page: Any, events: int) -> dict[str, Any]:
    """Wait for the console to say the map is interactive with ``events`` events."""
    try:
        page.wait_for_function("n => window.sitcenReady && window.sitcenReady.events === n",
                               arg=events, timeout=WAIT_MS)
    except Exception:
        log(f"the console did not get ready with {events:,} events; it shows: " + page.evaluate(
            "() => JSON.stringify([window.sitcenReady, document.body.innerText.slice(0, 300)])"))
        raise
    result: dict[str, Any] = page.evaluate("""() => {
      const r = window.sitcenReady;
      const tasks = window.__longTasks.filter(([start]) => start <= r.at);
      return {at: r.at, longest: Math.max(0, ...tasks.map(([, d]) => d)), tasks: tasks.length,
              resources: performance.getEntriesByType('resource')
                .filter((e) => e.name.includes('/api/v1/events'))
                .map((e) => ({name: e.name, ms: e.duration, bytes: e.encodedBodySize}))};
    }""")
    return result


def log_in(context: Any, url: str, events: int) -> None:
    """Log in through the form, wait for the map, and leave (the session stays)."""
    page = context.new_page()
    page.goto(url + "/")
    page.fill("#login-username", USERNAME)
    page.fill("#login-password", PASSWORD)
    page.click(".login button[type=submit]")
    ready(page, events)
    page.close()


def click_to_panel(page: Any, lon_lat: list[float]) -> float:
    """Milliseconds from a click on an event point of the map to its panel showing."""
    page.evaluate("""([lon, lat]) => new Promise((resolve) => {
      const map = window.sitcenMap;
      map.once('idle', () => resolve(null));  // not the event: it holds the whole map
      map.jumpTo({center: [lon, lat], zoom: 12});
    })""", lon_lat)
    point = page.evaluate("""() => {
      const map = window.sitcenMap;
      const f = map.queryRenderedFeatures({layers: ['event-points']})[0];
      if (!f) return null;
      const p = map.project(f.geometry.coordinates);
      const box = map.getCanvas().getBoundingClientRect();
      return [box.left + p.x, box.top + p.y];
    }""")
    if point is None:
        raise SystemExit("no event point drawn where the newest event lies")
    page.evaluate("""() => {
      window.__clickAt = null; window.__panelAt = null;
      document.addEventListener('click', () => { window.__clickAt = performance.now(); },
                                {capture: true, once: true});
      const seen = () => {
        if (window.__panelAt === null && document.querySelector('.panel h2')?.textContent) {
          window.__panelAt = performance.now();
        }
      };
      new MutationObserver(seen).observe(document.body, {subtree: true, childList: true,
                                                         characterData: true});
    }""")
    page.mouse.click(point[0], point[1])
    page.wait_for_function("() => window.__panelAt !== null && window.__clickAt !== null",
                           timeout=WAIT_MS)
    ms = float(page.evaluate("() => window.__panelAt - window.__clickAt"))
    page.click(".panel .close")
    page.wait_for_selector(".list-head .count", timeout=WAIT_MS)
    return ms


def burst(page: Any, url: str, token: str, body: bytes, size: int) -> dict[str, float]:
    """Write ``size`` live events in one batch; time until the page shows them all."""
    page.uncheck(".list-head input[type=checkbox]")  # count every event, not only those in view
    base = int(page.locator(".list-head .count").get_attribute("data-count"))
    page.evaluate(WATCH_BURST, base + size)
    live_before = page.evaluate("() => window.sitcenLive ? window.sitcenLive.at : null")
    t0 = time.time()
    answer = httpx.post(url + "/api/v1/events/batch", content=body, timeout=60,
                        headers={"Authorization": f"Bearer {token}",
                                 "Content-Type": "application/json"})
    write_s = time.time() - t0
    if answer.status_code != 201:
        raise SystemExit(f"burst refused: {answer.status_code} {answer.text[:500]}")
    page.wait_for_function("() => window.__burst.doneAt !== null", timeout=WAIT_MS)
    # window.sitcenLive: when the map last drew live changes, and how many events it had.
    page.wait_for_function("([before, n]) => window.sitcenLive && window.sitcenLive.at !== before"
                           " && window.sitcenLive.events >= n", arg=[live_before, base + size],
                           timeout=WAIT_MS)
    live: dict[str, Any] = page.evaluate("() => window.sitcenLive")
    page.wait_for_timeout(BURST_TAIL_MS)  # work the burst left queued still counts
    watched: dict[str, Any] = page.evaluate("""() => {
      const w = window.__burst;
      w.running = false;
      const tasks = window.__longTasks.filter(([start, d]) => start + d >= w.startedAt);
      return {doneAt: w.doneAt, longestGap: w.longestGap, frames: w.frames,
              longest: Math.max(0, ...tasks.map(([, d]) => d)), tasks: tasks.length,
              busy: tasks.reduce((sum, [, d]) => sum + d, 0)};
    }""")
    return {"absorb_s": float(watched["doneAt"]) / 1000 - t0, "write_s": write_s,
            "drawn_s": float(live["wall"]) / 1000 - t0, "flushes": float(live["flushes"]),
            "longest_task_ms": float(watched["longest"]),
            "long_tasks": float(watched["tasks"]), "long_task_total_ms": float(watched["busy"]),
            "longest_frame_gap_ms": float(watched["longestGap"])}


def new_context(browser: Any, url: str, events: int) -> Any:
    """A fresh browser context (own cache and storage), logged in through the form."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Asia/Dushanbe")
    context.add_init_script(OBSERVE_LONG_TASKS)
    log_in(context, url, events)
    return context


def load_round(browser: Any, url: str, events: int, lon_lat: list[float]) -> dict[str, Any]:
    """Time to interactive (with the baselines) and a click to the panel, in a new context."""
    context = new_context(browser, url, events)
    try:
        out: dict[str, Any] = {}
        page = context.new_page()
        page.goto(url + "/" + EMPTY_VIEW)
        out["empty_map_s"] = ready(page, 0)["at"] / 1000
        page.close()

        page = context.new_page()
        page.goto(url + "/#/map?w=7d")
        loaded = ready(page, events)
        out["time_to_interactive_s"] = loaded["at"] / 1000
        out["load_longest_task_ms"] = loaded["longest"]
        out["load_requests"] = loaded["resources"]
        out["click_to_panel_ms"] = click_to_panel(page, lon_lat)

        query = f"since={(datetime.now(UTC) - WINDOW).isoformat().replace('+00:00', 'Z')}"
        out["geojson_pages"] = page.evaluate(GEOJSON_PAGES, query)
        columns = page.evaluate(
            """() => performance.getEntriesByType('resource')
                 .map((e) => e.name).find((n) => n.includes('/api/v1/events/columns'))""")
        out["fetch_parse"] = page.evaluate(FETCH_PARSE, columns) if columns else None
        page.close()
        return out
    finally:
        context.close()


def burst_round(browser: Any, url: str, token: str, events: int, size: int,
                seed_: int) -> dict[str, Any]:
    """A burst of ``size`` live events into a console showing ``events``, in a new context."""
    body = burst_payloads(size, seed_)
    context = new_context(browser, url, events)
    try:
        page = context.new_page()
        page.goto(url + "/#/map?w=7d")
        ready(page, events)
        return burst(page, url, token, body, size)
    finally:
        context.close()


def show(value: float | None, unit: str = "s", digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds")
    parser.add_argument("--warmups", type=int, default=1,
                        help="rounds run first and not counted (Chromium's caches, the node's)")
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    args = parse_args(parser, argv, smoke={"events": 300, "rounds": 1, "warmups": 0,
                                                "burst": 5})

    with seeded_console("ui", args.events, args.seed) as (url, token, lon_lat):
        t0 = time.perf_counter()
        httpx.get(url + "/api/v1/risk", headers={"Authorization": f"Bearer {token}"},
                  timeout=600)
        log(f"risk table computed in {time.perf_counter() - t0:.1f} s (once, before measuring)")
        loads: list[dict[str, Any]] = []
        bursts: list[dict[str, Any]] = []
        with chromium() as browser:
            # Every load round sees exactly --events events; the bursts come after.
            for r in range(args.warmups + args.rounds):
                load = load_round(browser, url, args.events, lon_lat)
                fp = load["fetch_parse"]
                log(f"load {r}{' (warm-up)' if r < args.warmups else ''}: interactive "
                    f"{show(load['time_to_interactive_s'])} (longest task "
                    f"{show(load['load_longest_task_ms'], 'ms', 0)}), empty map "
                    f"{show(load['empty_map_s'])}, click to panel "
                    f"{show(load['click_to_panel_ms'], 'ms', 0)}; fetch+parse "
                    f"{show(fp and fp['s'])}, GeoJSON pages {show(load['geojson_pages']['s'])}")
                requests = load["load_requests"]
                log(f"    events came in {len(requests)} request(s), "
                    f"{sum(q['bytes'] for q in requests):,} bytes")
                for error in load["geojson_pages"]["errors"]:
                    log(f"    GeoJSON baseline asked a page again: {error}")
                if r >= args.warmups:
                    loads.append(load)
            events = args.events
            for r in range(args.warmups + args.rounds):
                b = burst_round(browser, url, token, events, args.burst, args.seed + r)
                events += args.burst
                warm = " (warm-up)" if r < args.warmups else ""
                log(f"burst {r}{warm} on {events - args.burst:,} events: shown "
                    f"{show(b['absorb_s'])} (write {show(b['write_s'])}, drawn "
                    f"{show(b['drawn_s'])}, {b['flushes']:.0f} updates in all), longest task "
                    f"{show(b['longest_task_ms'], 'ms', 0)}"
                    f" ({b['long_tasks']:.0f} long tasks, {b['long_task_total_ms']:.0f} ms),"
                    f" longest frame gap {show(b['longest_frame_gap_ms'], 'ms', 0)}")
                if r >= args.warmups:
                    bursts.append(b)

    def med(rounds: list[dict[str, Any]], key: str, sub: str | None = None) -> float | None:
        values = [x[key] if sub is None else (x[key] or {}).get(sub) for x in rounds]
        present = [float(v) for v in values if v is not None]
        return round(median(present), 3) if present else None

    emit({
        "events": args.events,
        "time_to_interactive_s": med(loads, "time_to_interactive_s"),
        "burst_absorb_s": med(bursts, "absorb_s"),
        "longest_task_ms": med(bursts, "longest_task_ms"),
        "baseline_fetch_parse_s": med(loads, "fetch_parse", "s"),
        "baseline_empty_map_s": med(loads, "empty_map_s"),
        "baseline_geojson_pages_s": med(loads, "geojson_pages", "s"),
        "click_to_panel_ms": med(loads, "click_to_panel_ms"),
        "baseline_geojson_retries": sum(len(x["geojson_pages"]["errors"]) for x in loads),
        "load_longest_task_ms": med(loads, "load_longest_task_ms"),
        "burst_events": args.burst,
        "burst_write_s": med(bursts, "write_s"),
        "burst_drawn_s": med(bursts, "drawn_s"),
        "burst_longest_frame_gap_ms": med(bursts, "longest_frame_gap_ms"),
        "burst_long_task_total_ms": med(bursts, "long_task_total_ms"),
        "rounds": args.rounds,
        "time_to_interactive_all_s": [round(x["time_to_interactive_s"], 3) for x in loads],
        "burst_absorb_all_s": [round(x["absorb_s"], 3) for x in bursts],
    })


if __name__ == "__main__":
    main()
