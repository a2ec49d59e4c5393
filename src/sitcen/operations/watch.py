"""What in cooperation needs someone's attention: mentions in threads, requests past due.

:class:`CooperationWatch` runs in one app process of a node at a time (a lease),
like the notification follower beside it, and tells people through
:func:`sitcen.operations.notifications.notify_users`, so every notice obeys the
same rule (only a user who may read the record) and is written once:

- it follows the journal from its own cursor (``cooperation``) for thread
  messages, written here or received from a linked node, and tells the users of
  this node they mention (:func:`sitcen.operations.threads.notify_mentions`);
- every ``deadline_every_s`` it looks for requests past their deadline in the
  inbox and the outbox and tells this node's side of each
  (:func:`sitcen.operations.requests.notify_overdue`), and, on a member of the
  risk analysis network (``indicators``), reminds the people who record the
  monthly indicators of a month due or overdue
  (:func:`sitcen.operations.indicator_submissions.remind`).

Time comes from ``clock``, so a test moves it instead of waiting. Knows no HTTP.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

import sqlalchemy as sa

from sitcen.operations.audience import Audience
from sitcen.operations.indicator_submissions import Reminders, remind
from sitcen.operations.notifications import JournalFollower
from sitcen.operations.requests import notify_overdue
from sitcen.operations.threads import notify_mentions
from sitcen.store.cursors import FollowerCursor, journal_head
from sitcen.store.journal import (
    RecordKind,
    follow_kinds,
)
from sitcen.store.records import get_record

log = logging.getLogger("sitcen.cooperation")

#: The watch's cursor and lease names.
CURSOR = "cooperation"
LEASE = "cooperation"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CooperationWatch(JournalFollower):
    """Tells people of mentions in threads and of overdue requests; see the module."""

    LEASE: ClassVar[str] = LEASE
    CURSOR: ClassVar[str] = CURSOR
    engine: sa.Engine
    node_id: str
    partner_users: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = _utc_now
    indicators: Reminders | None = None
    deadline_every_s: float = 60.0
    page: int = 500
    poll_s: float = 0.5
    holder: str = field(default_factory=lambda: f"cooperation:{uuid.uuid4()}")
    _audience: Audience | None = field(default=None, repr=False)
    _checked: float = field(default=float("-inf"), repr=False)  # deadlines, monotonic s
    _cursor: FollowerCursor | None = field(default=None, repr=False)

    def own_node(self) -> str:
        return self.node_id

    def follow_once(self) -> int:
        """Tell the mentions of one page of thread messages after the cursor; users told.

        The first run starts at the journal's head: nobody is told about old messages.
        """
        cursor = self.cursor.read()
        if cursor is None:
            self.cursor.move(journal_head(self.engine), save=True)
            return 0
        with self.engine.connect() as conn:
            entries, position = follow_kinds(conn, cursor, [RecordKind.thread_message],
                                             self.page)
        messages = [m for m in (get_record(self.engine, e.record_id) for e in entries)
                    if m is not None and m.kind == RecordKind.thread_message]
        told = notify_mentions(self.engine, self.node_id, messages, audience=self.audience)
        self.cursor.move(position, save=bool(entries))
        return sum(len(users) for users in told.values())

    def check_deadlines(self, now: datetime | None = None) -> int:
        """Tell this node's people of every request overdue now (or at ``now``); users told.

        The users are read again first: who handles requests may have changed since
        the last look, a minute ago.
        """
        self.audience.refresh()
        moment = now or self.clock()
        told = notify_overdue(self.engine, self.node_id, moment, audience=self.audience)
        if self.indicators is not None:
            told.update(remind(self.engine, self.node_id, self.indicators, moment,
                               audience=self.audience))
        return sum(len(users) for users in told.values())

    def work(self, moment: float) -> bool:
        """The background loop's pass: the mentions, and the deadlines once a minute."""
        self.follow_once()
        if moment - self._checked >= self.deadline_every_s:
            self.check_deadlines()
            self._checked = moment
        return False


__all__ = ["CURSOR", "LEASE", "CooperationWatch"]
