#!/usr/bin/env python3
"""Green-border surveillance: a field of sensors over a real Mosquitto broker.

``--sensors`` sensors are registered along the border sections, each
expecting a heartbeat every ``--interval`` seconds, and publish heartbeats at
that rate (spread over the interval) through Debian's Mosquitto to the node's
subscriber, in this process on SQLite. Meanwhile:

* **bursts**: ``--bursts`` times, three sensors of one section publish a
  detection each; the latency is from the publication of the third (the one
  that makes the incident) to the incident's event being written (p50, p99);
  every burst must make exactly one event;
* **silences**: ``--silenced`` sensors stop their heartbeats after a first
  round; the delay is from the node's receipt of a sensor's last message to
  its silence record, as a ratio of the expected interval (max over them).

Goals (issue 18): incident p99 < 1 s; silence flagged within 1.5 x the
interval. The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import sqlalchemy as sa
from _common import emit, log, parse_args, percentile, settings_for, sqlite_url, temp_dir
from paho.mqtt.enums import CallbackAPIVersion

from sitcen.geo import load_default_sections
from sitcen.interop.mqtt import DetectionSubscriber, SensorCreate, register_sensor
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records
from sitcen.testing import mosquitto, mosquitto_missing, wait_until

NODE_USER, NODE_PASSWORD = "sitcen-node", "bench-node-pass"
GATEWAY, GATEWAY_PASSWORD = "gateway", "bench-gateway-pass"


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def place_sensors(n: int) -> list[tuple[str, str, float, float]]:
    """``n`` sensors along the border sections in threes a few metres apart, the threes
    spread over the sections: (id, section, lon, lat)."""
    sections = load_default_sections()
    groups = -(-n // 3)
    per_section = -(-groups // len(sections))
    out = []
    for i in range(n):
        group, member = divmod(i, 3)
        section = sections[group % len(sections)]
        along = (group // len(sections) + 0.5) / per_section + 0.0005 * (member - 1)
        point = section.geometry.interpolate(min(1.0, max(0.0, along)), normalized=True)
        out.append((f"s{i:05d}", section.id, float(point.x), float(point.y)))
    return out


def _publisher(host: str, port: int) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{time.time_ns()}")
    client.username_pw_set(GATEWAY, GATEWAY_PASSWORD)
    client.max_queued_messages_set(0)
    client.connect(host, port)
    client.loop_start()
    return client


def _more_than(subscriber: DetectionSubscriber, before: int) -> Callable[[], bool]:
    return lambda: subscriber.counters.proposals > before


def run(args: argparse.Namespace) -> dict[str, Any]:
    missing = mosquitto_missing()
    if missing is not None:
        sys.exit(missing)
    with temp_dir() as tmp, mosquitto({NODE_USER: NODE_PASSWORD,
                                       GATEWAY: GATEWAY_PASSWORD}) as broker:
        settings = settings_for(sqlite_url(tmp), tmp)
        node = Node.open(settings)
        sensors = place_sensors(args.sensors)
        log(f"registering {len(sensors)} sensors (heartbeat every {args.interval:g} s)")
        for sid, _section, lon, lat in sensors:
            register_sensor(node.engine, node.reporter, SensorCreate(
                sensor_id=sid, type="seismic", name=sid, location={"lon": lon, "lat": lat},
                heartbeat_interval_s=args.interval))
        placed = {r.body["asset_id"]: r.body.get("section_id")
                  for r in list_records(node.engine, RecordKind.asset_position, limit=100_000)}
        subscriber = DetectionSubscriber(node, host=broker.host, port=broker.port,
                                         username=NODE_USER, password=NODE_PASSWORD,
                                         burst_count=3, burst_minutes=10)
        subscriber.start()
        wait_until(subscriber.connected.is_set, what="the subscriber to connect")
        silenced = {sid for sid, *_ in sensors[:args.silenced]}
        stop = threading.Event()
        round_s: list[float] = []  # how long each heartbeat round took to publish
        first_round = threading.Event()

        def heartbeats() -> None:
            client = _publisher(broker.host, broker.port)
            rounds = 0
            while not stop.is_set():
                start = time.monotonic()
                for k, (sid, *_rest) in enumerate(sensors):
                    if stop.is_set():
                        break
                    if rounds > 0 and sid in silenced:
                        continue
                    client.publish(f"sitcen/health/{sid}", orjson.dumps({
                        "sensor_id": sid, "type": "heartbeat",
                        "sent_at": _z(datetime.now(UTC))}), qos=1)
                    # Spread the round over 90 % of the interval.
                    due = start + args.interval * 0.9 * (k + 1) / len(sensors)
                    pause = due - time.monotonic()
                    if pause > 0:
                        stop.wait(pause)
                rounds += 1
                round_s.append(time.monotonic() - start)
                first_round.set()
                stop.wait(max(0.0, start + args.interval - time.monotonic()))
            client.loop_stop()
            client.disconnect()

        beater = threading.Thread(target=heartbeats, daemon=True)
        beater.start()
        first_round.wait()
        log("first heartbeat round published; bursts begin")
        trios = [[sid for sid, *_ in sensors[i:i + 3]] for i in range(0, len(sensors) - 2, 3)]
        trios = [t for t in trios if not set(t) & silenced and all(placed.get(x) for x in t)]
        if not trios:
            sys.exit("no three sensors on a section: give more --sensors")
        client = _publisher(broker.host, broker.port)
        latencies: list[float] = []
        missed = 0
        # Bursts lie 11 minutes apart in detection time, so none joins another.
        base = datetime.now(UTC) - timedelta(minutes=11 * (args.bursts + 1))
        for b in range(args.bursts):
            trio = trios[b % len(trios)]
            at = base + timedelta(minutes=11 * b)
            before = subscriber.counters.proposals
            for k, sid in enumerate(trio):
                sent = time.perf_counter()
                client.publish(f"sitcen/detections/{sid}", orjson.dumps({
                    "sensor_id": sid, "detected_at": _z(at + timedelta(seconds=10 * k)),
                    "kind": "person", "confidence": 0.8}), qos=1)
            try:
                wait_until(_more_than(subscriber, before), timeout_s=10, interval_s=0.001,
                           what=f"burst {b} proposed")
            except TimeoutError:
                missed += 1
                log(f"burst {b}: no incident within 10 s")
                continue
            latencies.append((time.perf_counter() - sent) * 1000)
        log(f"{args.bursts} bursts: p99 {percentile(latencies, 99):.0f} ms")
        wait_until(lambda: len([r for r in list_records(node.engine, RecordKind.sensor_fault,
                                                        limit=100_000)
                                if r.body["condition"] == "silent"
                                and r.body["sensor_id"] in silenced]) == len(silenced),
                   timeout_s=args.interval * 4 + 60, interval_s=0.2,
                   what="every silenced sensor flagged")
        cutoff = datetime.now(UTC)  # silences after this follow the end of the heartbeats
        stop.set()
        beater.join(timeout=60)
        client.loop_stop()
        client.disconnect()
        subscriber.stop()
        ratios = []
        others = 0
        for record in list_records(node.engine, RecordKind.sensor_fault, limit=100_000):
            fault = record.body
            if fault["condition"] != "silent":
                continue
            flagged = datetime.fromisoformat(fault["recorded_at"])
            if fault["sensor_id"] not in silenced:
                others += flagged < cutoff
                continue
            heard = datetime.fromisoformat(fault["last_heard_at"])
            ratios.append((flagged - heard).total_seconds() / fault["expected_interval_s"])
        with node.engine.connect() as conn:
            events = conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar()
        return {"sensors": len(sensors), "interval_s": args.interval,
                "heartbeats_per_s": round(len(sensors) / args.interval, 1),
                "bursts": args.bursts, "events": int(events or 0), "missed_bursts": missed,
                "incident_p50_ms": round(percentile(latencies, 50), 1),
                "incident_p99_ms": round(percentile(latencies, 99), 1),
                "silenced": len(silenced), "silence_delay_ratio": round(max(ratios), 3),
                "silence_delay_ratio_median": round(percentile(ratios, 50), 3),
                "false_silences": others,
                # Over the interval: the load generator itself fell behind, and sensors
                # were silent in fact (a loaded machine), not only to the node.
                "slowest_round_s": round(max(round_s), 2),
                "worst_heartbeat_lag_s": round(subscriber.surveillance.health.worst_lag_s, 2),
                "dropped": subscriber.counters.dropped}


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="[%(asctime)s] %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensors", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=10.0,
                        help="seconds between a sensor's heartbeats (its expected interval)")
    parser.add_argument("--bursts", type=int, default=300)
    parser.add_argument("--silenced", type=int, default=20)
    args = parse_args(parser, argv, {"sensors": 30, "interval": 2.0, "bursts": 3,
                                     "silenced": 2})
    emit(run(args))


if __name__ == "__main__":
    main()
