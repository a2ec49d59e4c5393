"""Tasks to TAK devices and the devices' answers.

A task given to an own asset reaches the asset's device as two CoT messages
addressed to its callsign (``<marti><dest callsign=…/>``): a waypoint at the
target (``b-m-p-w``, uid ``sitcen-task-<id>``, the instructions as remarks) and a
GeoChat message (``b-t-f``) from the node saying what to do and how to answer.
The device answers in the chat, as its user would by hand: a word first —
``ACK``/``ПРИНЯЛ``, ``EN ROUTE``/``ВЫДВИГАЮСЬ``, ``ON SCENE``/``НА МЕСТЕ``,
``DONE``/``ВЫПОЛНЕНО``, ``DECLINE``/``ОТКАЗ`` and a reason — and, when it has
several tasks, the task's short number. The answer becomes a new version of
the task (via ``tak``); the device gets a line back saying what was recorded.

Which device is which unit: the uid and callsign of the positions it sends
(an asset's id is its CoT uid, its name its callsign), or the sender named in
the chat. Only this node's tasks of its own assets go to devices; a post on
another node answers through its own node (``task_response``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from sitcen.i18n import label
from sitcen.interop.cot import CotEvent, addressed_to, chat_detail, event_xml, stream_frame
from sitcen.operations.tasks import TaskError, open_tasks_for, update_own_task
from sitcen.store import schema
from sitcen.store.journal import RecordKind, read_journal
from sitcen.store.records import StoredRecord
from sitcen.store.users import StoredUser
from sitcen.users import Permission, allows

if TYPE_CHECKING:
    from sitcen.interop.tak import Counters, NodeLike, TakClient

log = logging.getLogger("sitcen.tak")

#: CoT type of the target a unit is sent to, and of a chat message.
WAYPOINT = "b-m-p-w"
CHAT = "b-t-f"
#: How long a task's waypoint stays on a device's map.
TASK_STALE = timedelta(hours=24)
FOLLOW_S = 0.2

#: The words a device's answer may start with, and the status each means.
ANSWERS: tuple[tuple[str, str], ...] = (
    ("en route", "en_route"), ("enroute", "en_route"), ("en_route", "en_route"),
    ("выдвигаюсь", "en_route"), ("в пути", "en_route"), ("on my way", "en_route"),
    ("on scene", "on_scene"), ("onscene", "on_scene"), ("on_scene", "on_scene"),
    ("на месте", "on_scene"), ("прибыл", "on_scene"),
    ("ack", "acknowledged"), ("roger", "acknowledged"), ("wilco", "acknowledged"),
    ("ok", "acknowledged"), ("принял", "acknowledged"), ("принято", "acknowledged"),
    ("done", "done"), ("complete", "done"), ("выполнено", "done"), ("выполнил", "done"),
    ("decline", "declined"), ("declined", "declined"), ("unable", "declined"),
    ("отказ", "declined"), ("не могу", "declined"),
)
_SHORT_ID = re.compile(r"\b([0-9a-f]{8})\b")


def read_answer(text: str) -> tuple[str, str] | None:
    """The status a chat answer names and the rest of its text, or None."""
    words = text.strip().casefold()
    for word, status in sorted(ANSWERS, key=lambda a: -len(a[0])):
        if words.startswith(word) and (len(words) == len(word) or not words[len(word)].isalnum()):
            return status, text.strip()[len(word):].strip(" :,.-—")
    return None


def sender_uid(node_id: str) -> str:
    """The uid the node speaks under in chats."""
    return f"sitcen-{node_id}"


@dataclass(frozen=True)
class TaskLine:
    """What the node says to a device about one of its tasks."""

    task_id: str
    text: str


def task_text(task_id: str, body: dict[str, Any], language: str) -> str:
    """The chat line giving a task, in the device user's language."""
    target = body.get("target") or {}
    where = target.get("section_id") or label("ui.notify.inland", language)
    loc = body.get("location") or {}
    if "lat" in loc and "lon" in loc:
        where = f"{where} ({loc['lat']:.4f}, {loc['lon']:.4f})"
    return label("ui.tak.task", language).format(
        id=task_id[:8], priority=label(f"ui.priority.{body.get('priority')}", language),
        where=where, instructions=body.get("instructions") or "—")


class TaskRelay:
    """This node's tasks out to the devices of its units, their answers back in."""

    def __init__(self, node: NodeLike, counters: Counters, clients: set[TakClient],
                 language: str = "ru") -> None:
        self.node = node
        self.counters = counters
        self.clients = clients
        self.language = language

    # -- out

    async def follow(self) -> None:
        """Send new and cancelled tasks to the devices of their units, until cancelled."""
        engine = self.node.engine
        after = await asyncio.to_thread(_head, engine)
        while True:
            tasks, after = await asyncio.to_thread(self._changed, after)
            for task, body in tasks:
                self.send(task, body)
            await asyncio.sleep(FOLLOW_S)

    def _changed(self, after: int) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        with self.node.engine.connect() as conn:
            entries = read_journal(conn, after=after, limit=1000, kinds=[RecordKind.task])
            if not entries:
                return [], after
            ids = list({e.record_id for e in entries})
            rows = conn.execute(sa.select(schema.records.c.id, schema.records.c.origin,
                                          schema.records.c.body)
                                .where(schema.records.c.id.in_(ids))).all()
        own = self.node.settings.node_id
        out = []
        for row in rows:
            body = orjson.loads(row.body)
            if row.origin == own and (body.get("unit") or {}).get("kind") == "asset" and \
                    body.get("status") in ("assigned", "cancelled"):
                out.append((row.id, body))
        return out, entries[-1].seq

    def devices_of(self, body: dict[str, Any]) -> list[TakClient]:
        """The connected devices that are the task's unit."""
        unit = body.get("unit") or {}
        callsign = str(unit.get("callsign") or "").casefold()
        return [c for c in self.clients if c.user is not None
                and (unit.get("id") in c.devices or callsign in c.callsigns)]

    def send(self, task_id: str, body: dict[str, Any],
             clients: list[TakClient] | None = None) -> int:
        """Write a task to its unit's devices (all connected ones, or ``clients``)."""
        targets = self.devices_of(body) if clients is None else clients
        # The same version of a task is written to a device once.
        key = (task_id, hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
               .hexdigest())
        targets = [c for c in targets if key not in c.tasks_sent]
        if not targets:
            return 0
        messages = self.messages(task_id, body)
        for client in targets:
            if client.writer.transport.is_closing():
                continue
            client.tasks_sent.add(key)
            if client.protobuf:
                client.writer.write(b"".join(stream_frame(m) for m in messages))
            else:
                client.writer.write(b"".join(_xml(m) for m in messages))
            self.counters.tasks_sent += 1
        return len(targets)

    def messages(self, task_id: str, body: dict[str, Any]) -> list[CotEvent]:
        """The waypoint and the chat line of a task (a cancelled one: its waypoint goes)."""
        now = datetime.now(UTC)
        unit = body.get("unit") or {}
        callsign = str(unit.get("callsign") or unit.get("id"))
        loc = body.get("location") or {}
        lat, lon = float(loc.get("lat", 0.0)), float(loc.get("lon", 0.0))
        cancelled = body.get("status") == "cancelled"
        text = (label("ui.tak.cancelled", self.language).format(id=task_id[:8]) if cancelled
                else task_text(task_id, body, self.language))
        waypoint = CotEvent(
            uid=f"sitcen-task-{task_id}", type=WAYPOINT, how="h-g-i-g-o", time=now, start=now,
            stale=now if cancelled else now + TASK_STALE, lat=lat, lon=lon,
            callsign=f"{label('ui.tak.task_marker', self.language)} {task_id[:8]}",
            remarks=None if cancelled else str(body.get("instructions") or "")[:4000] or None,
            extra=(addressed_to(callsign),))
        return [waypoint, self.chat(str(unit.get("id")), callsign, text, lat, lon,
                                    f"{task_id}.{body.get('status')}", task_id)]

    def chat(self, to_uid: str, to_callsign: str, text: str, lat: float, lon: float,
             message_id: str, task_id: str | None = None) -> CotEvent:
        """A chat line from the node to one device."""
        now = datetime.now(UTC)
        me = sender_uid(self.node.settings.node_id)
        return CotEvent(
            uid=f"GeoChat.{me}.{to_uid}.{message_id}"[:128], type=CHAT, how="h-g-i-g-o",
            time=now, start=now, stale=now + TASK_STALE, lat=lat, lon=lon,
            extra=chat_detail(sender_uid=me, sender_callsign=f"sitcen {self.node.settings.node_id}",
                              to_uid=to_uid, to_callsign=to_callsign, text=text, at=now,
                              links=[f"sitcen-task-{task_id}"] if task_id else ()))

    async def deliver_open(self, client: TakClient) -> None:
        """Give a device that just made itself known the open tasks of its unit."""
        found = await asyncio.to_thread(open_tasks_for, self.node.engine,
                                        unit_ids=list(client.devices),
                                        callsigns=list(client.callsigns))
        for task, body in found:
            self.send(task.id, body, [client])

    # -- in

    async def answer(self, client: TakClient, message: CotEvent) -> None:
        """A chat line from a device: if it answers a task of its unit, move the task on."""
        user = client.user
        if user is None or not allows(user.role, Permission.report_events):
            self.counters.forbidden += 1
            client.warn("forbidden: this device may not answer tasks")
            return
        parsed = read_answer(message.remarks or "")
        if parsed is None:
            return  # a chat line that answers nothing: not ours
        status, note = parsed
        if message.chat_from:
            client.callsigns.add(message.chat_from.casefold())
        result = await asyncio.to_thread(self._apply, client, message, user, status, note)
        if result is not None:
            self.counters.task_answers += 1
            task_id, reply = result
            device = next((u for u in message.links if not u.startswith("sitcen-")),
                          next(iter(client.devices), "device"))
            callsign = message.chat_from or next(iter(client.callsigns), "device")
            line = self.chat(device, callsign, reply, message.lat, message.lon,
                             f"{task_id}.{status}.answer", task_id)
            client.writer.write(stream_frame(line) if client.protobuf else _xml(line))

    def _apply(self, client: TakClient, message: CotEvent, user: StoredUser, status: str,
               note: str) -> tuple[str, str] | None:
        devices = set(client.devices) | {u for u in message.links
                                          if not u.startswith("sitcen-")}
        found = open_tasks_for(self.node.engine, unit_ids=devices,
                               callsigns=set(client.callsigns))
        wanted = {u[len("sitcen-task-"):] for u in message.links
                  if u.startswith("sitcen-task-")}
        short = set(_SHORT_ID.findall((message.remarks or "").casefold()))
        chosen: list[tuple[StoredRecord, dict[str, Any]]] = [
            (t, b) for t, b in found if t.id in wanted or t.id[:8] in short] or found
        language = self.language
        if not chosen:
            return None
        task = chosen[0][0]  # the newest open task of the unit
        if len(chosen) > 1 and not (wanted or short):
            return task.id, label("ui.tak.which", language).format(
                ids=", ".join(t.id[:8] for t, _ in chosen))
        try:
            update_own_task(self.node.engine, self.node.settings.node_id, task.id, status,
                            by=user.username, via="tak", note=note)
        except TaskError as exc:
            return task.id, label("ui.tak.refused", language).format(id=task.id[:8],
                                                                    reason=str(exc))
        log.info("TAK %s: task %s %s", client.peer, task.id[:8], status)
        return task.id, label("ui.tak.recorded", language).format(
            id=task.id[:8], status=label(f"ui.task_status.{status}", language))


def _xml(message: CotEvent) -> bytes:
    return event_xml(message.uid, message.type, message.lat, message.lon, time=message.time,
                     stale=message.stale, how=message.how, callsign=message.callsign,
                     remarks=message.remarks, ce=message.ce, extra=message.extra) + b"\n"


def _head(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(schema.journal.c.seq),
                                                            0))).scalar_one())

