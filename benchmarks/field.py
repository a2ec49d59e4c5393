#!/usr/bin/env python3
"""A post on a poor link: bytes per report and per minute of the live picture, and the time
to a usable map and to a delivered report over a throttled link (issue 16).

1. A fresh SQLite node seeded with ``--events`` scenario events (default 2,000: a busy
   border region's week) in the console's default window (the last 7 days,
   benchmarks/ui.py's seeding), served by ``sitcen serve``.
2. **Live picture**: three readers of ``GET /api/v1/stream`` at once, without compression,
   with gzip, and with gzip and the console's low-bandwidth kinds (no asset positions),
   while reports arrive as a live feed (``--rate`` a minute, one request each, the way posts
   send them) and ``--patrols`` patrols send a position every 30 s, for ``--minutes``. Bytes
   on the wire are counted per reader; what brotli and zstd would have sent is computed
   from the uncompressed reader's chunks, each flushed as the node flushes gzip's.
3. **Browser** (Debian's Chromium through Playwright), one fresh context per mode: no
   compression (the context sends ``Accept-Encoding: identity``), gzip, and gzip with the
   low-bandwidth mode on. Each logs in on an open link, so the console's scripts are in the
   browser's cache as on any day after the first, then throttles its page with Chromium's
   network emulation (``--down-kbit``, ``--up-kbit``, ``--latency-ms``: 100, 50, 600 ms) and
   measures the **usable map** (navigation until ``window.sitcenReady``: the 7-day window's
   events loaded and drawn, border sections shown) with the bytes it took, and a **delivered
   report** (the report form's Send until the console says "Report sent") with the bytes of
   the report as the console sent it and of the node's answer. With ``--cold``, also the
   very first visit on the throttled link (nothing cached: the console's scripts come too).

Goals: a report ≤ 1 KB before compression, a usable map ≤ 10 s and a delivered report
≤ 3 s on the poor link with compression. Progress goes to stderr; the last stdout line is
one JSON object.

    python benchmarks/field.py [--events 2000] [--minutes 2] [--rate 30] [--patrols 20]
"""

from __future__ import annotations

import argparse
import gzip
import threading
import time
import zlib
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
from _common import emit, log, parse_args
from ui import PASSWORD, USERNAME, VIEWPORT, seeded_console

from sitcen.testing import (
    Link,
    chromium,
    emulate_link,
    fill_report_form,
    wait_until,
)

WAIT_MS = 300_000
#: The console has drawn its window (frontend: window.sitcenReady).
READY = "() => window.sitcenReady && window.sitcenReady.revision > 0"
#: The console's low-bandwidth stream (frontend/src/bandwidth.ts).
LOW_KINDS = ("event,event_action,alert,section_assessment,report,recommendation,"
             "request_for_information,request_response,attachment,thread_message,"
             "joint_operation,operation_report,organisation,contact_point,task,task_response,"
             "duty_log_entry,handover,notification,notification_read")
MODES = {  # name: (extra request headers, low-bandwidth mode)
    "plain": ({"Accept-Encoding": "identity"}, False),
    "gzip": ({}, False),
    "low": ({}, True),
}


# --------------------------------------------------------------------------- compression


def other_codings(chunks: list[bytes]) -> dict[str, int | None]:
    """Bytes brotli and zstd would have sent for these stream chunks, each flushed."""
    out: dict[str, int | None] = {"br": None, "zstd": None}
    try:
        import brotli
        compressor = brotli.Compressor(quality=5)
        out["br"] = sum(len(compressor.process(c)) + len(compressor.flush()) for c in chunks)
    except ImportError:
        log("brotli is not installed: its figure is left out")
    try:
        import zstandard
        zc = zstandard.ZstdCompressor(level=3).compressobj()
        out["zstd"] = sum(len(zc.compress(c)) + len(zc.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
                          for c in chunks)
    except ImportError:
        log("zstandard is not installed: its figure is left out")
    return out


def sizes(body: bytes) -> dict[str, int | None]:
    """One body's bytes as it is, under gzip (the node's level) and, for comparison, brotli
    and zstd."""
    found: dict[str, int | None] = {"plain": len(body), "gzip": len(gzip.compress(body, 6))}
    found.update(other_codings([body]))
    return found


# --------------------------------------------------------------------------- live picture


class StreamReader(threading.Thread):
    """Counts the bytes one stream connection brings, and what they decode to."""

    def __init__(self, url: str, token: str, encoding: str, kinds: str | None) -> None:
        super().__init__(daemon=True)
        self.url = url + "/api/v1/stream" + (f"?kinds={kinds}" if kinds else "")
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": encoding}
        self.wire = 0
        self.text = bytearray()
        self.chunks: list[bytes] = []
        self.opened = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(timeout=None) as client, client.stream(
                    "GET", self.url, headers=self.headers) as response:
                packed = response.headers.get("content-encoding") == "gzip"
                decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.opened.set()
                for chunk in response.iter_raw():
                    self.wire += len(chunk)
                    self.chunks.append(chunk)
                    self.text += decoder.decompress(chunk) if packed else chunk
                    if self.stop.is_set():
                        return
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            self.opened.set()


def post_reports(url: str, token: str, rate: float, until: float, seed_: int,
                 sent: list[str]) -> None:
    from sitcen.demo.scenario import live_events

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=60) as client:
        for payload in live_events(rate, seed=seed_):  # sleeps between reports
            if time.monotonic() >= until:
                return
            answer = client.post(url + "/api/v1/events", json=payload, headers=headers)
            answer.raise_for_status()
            sent.append(answer.json()["id"])


def post_positions(url: str, token: str, patrols: int, until: float) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    count = 0
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < until:
            t0 = time.monotonic()
            for i in range(patrols):
                position = {"asset_id": f"patrol-{i}", "kind": "patrol", "name": f"Patrol {i}",
                            "location": {"lon": 68.3 + i * 0.05, "lat": 37.1 + (count % 7) / 100},
                            "at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
                client.post(url + "/api/v1/assets/positions", json=position,
                            headers=headers).raise_for_status()
                count += 1
            time.sleep(max(0.0, min(t0 + 30, until) - time.monotonic()))
    return count


def live_picture(url: str, token: str, minutes: float, rate: float, patrols: int,
                 seed_: int) -> dict[str, Any]:
    readers = {"plain": StreamReader(url, token, "identity", None),
               "gzip": StreamReader(url, token, "gzip", None),
               "low": StreamReader(url, token, "gzip", LOW_KINDS)}
    for reader in readers.values():
        reader.start()
        reader.opened.wait(60)
        if reader.error is not None:
            raise reader.error
    until = time.monotonic() + minutes * 60
    sent: list[str] = []
    writer = threading.Thread(target=post_reports, args=(url, token, rate, until, seed_, sent),
                              daemon=True)
    writer.start()
    positions = post_positions(url, token, patrols, until)
    writer.join()
    if sent:  # every reader has had the last report
        last = sent[-1].encode()
        wait_until(lambda: all(last in r.text for r in readers.values()), timeout_s=60,
                   what="the last report on every stream")
    for reader in readers.values():
        reader.stop.set()
    per_minute: dict[str, int | None] = {name: round(r.wire / minutes)
                                         for name, r in readers.items()}
    other = other_codings(readers["plain"].chunks)
    per_minute.update({k: round(v / minutes) if v is not None else None
                       for k, v in other.items()})
    frames = Counter(line[7:].decode() for line in bytes(readers["plain"].text).split(b"\n")
                     if line.startswith(b"event: "))
    log(f"live picture: {len(sent)} reports and {positions} positions in {minutes:g} min "
        f"(frames {dict(frames)}); bytes a minute {per_minute}")
    return {"reports": len(sent), "positions": positions, "bytes_per_min": per_minute}


# --------------------------------------------------------------------------- browser


def _log_in(page: Any, url: str) -> None:
    """Open the console at ``url``, log in through its form and wait for the usable map."""
    page.goto(url + "/")
    page.fill("#login-username", USERNAME)
    page.fill("#login-password", PASSWORD)
    page.click(".login button[type=submit]")
    page.wait_for_function(READY, timeout=WAIT_MS)


def _send_report(page: Any, requests: list[Any]) -> float:
    """Fill the report form as a post would and send it; seconds until "Report sent"."""
    fill_report_form(page)
    t0 = time.perf_counter()
    page.click("text=Send report")
    page.locator(".toast", has_text="Report sent").wait_for(timeout=WAIT_MS)
    seconds = time.perf_counter() - t0
    assert requests, "the report's request was not seen"
    return seconds


def browser_round(browser: Any, url: str, mode: str, link: Link) -> dict[str, Any]:
    headers, low = MODES[mode]
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB",
                                  timezone_id="Asia/Dushanbe", extra_http_headers=headers)
    context.add_init_script(f"localStorage.setItem('sitcen.lowBandwidth', '{int(low)}');")
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()  # on an open link: the console's scripts into the cache
        _log_in(page, url)
        page.close()

        page = context.new_page()
        emulate_link(page, link)
        posts: list[Any] = []
        page.on("request", lambda r: posts.append(r) if r.method == "POST"
                and r.url.endswith("/api/v1/events") else None)
        answers: list[Any] = []
        page.on("response", lambda r: answers.append(r) if r.request.method == "POST"
                and r.url.endswith("/api/v1/events") else None)
        page.goto(url + "/#/map?w=7d")
        page.wait_for_function(READY, timeout=WAIT_MS)
        ready = page.evaluate("""() => ({
          at: window.sitcenReady.at, events: window.sitcenReady.events,
          columns: performance.getEntriesByType('resource')
            .filter((e) => e.name.includes('/api/v1/events/columns'))
            .reduce((n, e) => n + (e.transferSize || 0), 0),
          bytes: performance.getEntriesByType('resource')
            .concat(performance.getEntriesByType('navigation'))
            .filter((e) => e.startTime <= window.sitcenReady.at)
            .reduce((n, e) => n + (e.transferSize || 0), 0)})""")
        heaviest = page.evaluate("""() => performance.getEntriesByType('resource')
          .filter((e) => e.startTime <= window.sitcenReady.at && e.transferSize > 2000)
          .map((e) => [e.name.split('/').slice(3).join('/').slice(0, 60), e.transferSize,
                       Math.round(e.startTime), Math.round(e.responseEnd)])""")
        log(f"{mode}: before the map was usable: " + ", ".join(
            f"{n} {b:,} B ({s}-{e} ms)" for n, b, s, e in heaviest))
        delivered = _send_report(page, posts)
        body = posts[0].post_data_buffer or b""
        answer = answers[0] if answers else None
        answer_wire = int(answer.headers.get("content-length", "0")) if answer else None
        out = {"usable_map_s": round(ready["at"] / 1000, 3), "map_events": ready["events"],
               "map_bytes": int(ready["bytes"]), "events_bytes": int(ready["columns"]),
               "delivered_report_s": round(delivered, 3),
               "report_body": body, "report_answer_wire_bytes": answer_wire,
               "answer_encoding": answer.headers.get("content-encoding") if answer else None}
        log(f"{mode}: usable map {out['usable_map_s']} s ({out['map_events']} events, "
            f"{out['map_bytes']:,} bytes), report delivered in {out['delivered_report_s']} s "
            f"({len(body)} bytes sent, answer {answer_wire} bytes {out['answer_encoding']})")
        return out
    finally:
        context.close()


def cold_round(browser: Any, url: str, link: Link) -> float:
    """The first visit on the poor link with nothing cached: page, scripts, login, map."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Asia/Dushanbe")
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        emulate_link(page, link)
        t0 = time.perf_counter()
        _log_in(page, url)
        seconds = time.perf_counter() - t0
        log(f"first visit with nothing cached: {seconds:.1f} s to the usable map")
        return round(seconds, 3)
    finally:
        context.close()


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000, help="events in the 7-day window")
    parser.add_argument("--minutes", type=float, default=2.0, help="of live picture")
    parser.add_argument("--rate", type=float, default=30.0, help="reports a minute")
    parser.add_argument("--patrols", type=int, default=20, help="positions every 30 s each")
    parser.add_argument("--down-kbit", type=float, default=100.0)
    parser.add_argument("--up-kbit", type=float, default=50.0)
    parser.add_argument("--latency-ms", type=float, default=600.0)
    parser.add_argument("--cold", type=int, default=1, help="1: measure the first visit too")
    parser.add_argument("--seed", type=int, default=16)
    # At smoke size the link is fast: the script runs in seconds, and measures nothing.
    args = parse_args(parser, argv, smoke={
        "events": 300, "minutes": 0.1, "rate": 60, "patrols": 2, "down_kbit": 20_000,
        "up_kbit": 10_000, "latency_ms": 20, "cold": 0})
    link = Link(args.down_kbit, args.up_kbit, args.latency_ms)

    with seeded_console("field", args.events, args.seed) as (url, token, _):
        live = live_picture(url, token, args.minutes, args.rate, args.patrols, args.seed)
        rounds: dict[str, dict[str, Any]] = {}
        cold = None
        with chromium() as browser:
            for mode in MODES:
                rounds[mode] = browser_round(browser, url, mode, link)
            if args.cold:
                cold = cold_round(browser, url, link)
        body = rounds["gzip"]["report_body"]
        # The node's answer to a report, as it is and compressed.
        answer = httpx.post(url + "/api/v1/events", content=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json",
            "Accept-Encoding": "identity"})
        answer.raise_for_status()

    report = sizes(body)
    answer_sizes = sizes(answer.content)
    log(f"a report: {report} bytes sent; the node's answer {answer_sizes}")
    emit({
        "events": args.events,
        "link": {"down_kbit_s": link.down_kbit_s, "up_kbit_s": link.up_kbit_s,
                 "latency_ms": link.latency_ms},
        "report_bytes": report["plain"],
        "report_bytes_compressed": report,
        "report_answer_bytes": answer_sizes,
        "live_bytes_per_min": live["bytes_per_min"]["gzip"],
        "live_bytes_per_min_plain": live["bytes_per_min"]["plain"],
        "live_bytes_per_min_low": live["bytes_per_min"]["low"],
        "live_bytes_per_min_other": {k: live["bytes_per_min"][k] for k in ("br", "zstd")},
        "live_reports": live["reports"],
        "live_positions": live["positions"],
        "live_minutes": args.minutes,
        "usable_map_s": rounds["gzip"]["usable_map_s"],
        "usable_map_s_plain": rounds["plain"]["usable_map_s"],
        "usable_map_s_low": rounds["low"]["usable_map_s"],
        "map_bytes": {m: r["map_bytes"] for m, r in rounds.items()},
        "map_events": {m: r["map_events"] for m, r in rounds.items()},
        # The window's events as the console loads them (GET /events/columns), on the wire.
        "events_bytes": {m: r["events_bytes"] for m, r in rounds.items()},
        "delivered_report_s": rounds["gzip"]["delivered_report_s"],
        "delivered_report_s_plain": rounds["plain"]["delivered_report_s"],
        "delivered_report_s_low": rounds["low"]["delivered_report_s"],
        "first_visit_s": cold,
    })


if __name__ == "__main__":
    main()
