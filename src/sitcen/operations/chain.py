"""The validation chain as pure rules: which level a report waits at, since when, and why.

A node declares the levels a report passes through, lowest first (for example
``regional → national``; a post that only reports declares none for itself),
and the level it validates at. Which queue a report is in follows from the
report and the actions held at the node, nothing else:

- a report enters the first level (or, reported at a node with a level, that
  node's level) when it was reported;
- an officer at that level validates it (it moves to the next level, at the
  time of the validation), returns it for correction (it leaves every queue
  until its origin writes a corrected version, then comes back to the level
  that returned it), or rejects it (it leaves the chain);
- a serious incident is in the queue of every level at once, from the time it
  was reported, until each level has acted on it;
- a report closed or rejected by anyone leaves every queue.

:func:`intervals` replays that story and returns every stay of the report in a
level's queue (entered, left, how, by whom, on which node): the queue is the
open stays, the time-in-queue statistics are the closed ones. No clock, no
database: times are integer microseconds since the epoch, as the store keeps
them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sitcen.taxonomy import Status

#: A report entered this long after the event is late (EUROSUR: the first single-event
#: report within 24 h of becoming aware of the event).
LATE_AFTER_US = 24 * 3600 * 1_000_000

#: Actions that decide a report's stay at a level.
CHAIN_ACTIONS = frozenset({"validate", "return_for_correction", "reject"})


@dataclass(frozen=True)
class Chain:
    """A node's place in the validation chain, and its rules for serious and stale reports."""

    levels: tuple[str, ...]
    level: str | None  # the level this node validates at; None: it validates nothing
    node_id: str
    serious_types: frozenset[str] = frozenset({"armed_incident"})
    overdue_us: int = 30 * 60 * 1_000_000
    horizon_us: int = 7 * 24 * 3600 * 1_000_000

    @property
    def index(self) -> int | None:
        """This node's level as a position in :attr:`levels` (None when it has none)."""
        return None if self.level is None else self.levels.index(self.level)

    def position(self, level: str | None) -> int | None:
        """A level's position, or None for a level this chain does not have."""
        return self.levels.index(level) if level in self.levels else None


@dataclass(frozen=True)
class Report:
    """What the chain needs to know of an event, as this node holds it."""

    id: str
    origin: str
    version: int
    type: str
    impact_level: str | None
    killed: int
    status: str | None
    occurred_at: int
    reported_at: int
    first_recorded_at: int  # the origin's time of the earliest version held
    status_at: int  # the origin's time of the current version
    from_child: bool  # it came to this node through a link to a child
    direct_from_origin: bool = False  # ... straight from the node that reported it
    version_times: dict[int, int] = field(default_factory=dict)  # origin times of versions


@dataclass(frozen=True)
class Act:
    """An action on the report (a record of the acting node)."""

    id: str
    origin: str
    action: str
    level: str | None
    at: int
    by: str
    event_version: int | None = None
    text: str = ""


@dataclass
class Stay:
    """One stay of a report in a level's queue."""

    event_id: str
    origin: str
    level: str
    round: int
    entered_at: int
    serious: bool
    late: bool
    left_at: int | None = None
    outcome: str | None = None  # validated, returned, rejected, closed, superseded, interrupted
    by: str | None = None
    node: str | None = None
    act_id: str | None = None  # the action that ended the stay (none: the origin's own doing)
    act_text: str = ""  # its reason, for a return or a rejection
    awaiting_correction: bool = False

    @property
    def open(self) -> bool:
        """Whether the report still waits here."""
        return self.left_at is None


def is_serious(report: Report, chain: Chain) -> bool:
    """A serious incident: a type the node names serious, deaths, or a very high impact."""
    return (report.type in chain.serious_types or report.killed > 0
            or report.impact_level == "very_high")


def is_late(report: Report) -> bool:
    """Entered more than 24 h after the event."""
    return report.reported_at - report.occurred_at > LATE_AFTER_US


def in_chain(report: Report, chain: Chain) -> bool:
    """Whether this node's chain validates the report: its own, or come up from a child."""
    return report.origin == chain.node_id or report.from_child


def _correction_at(report: Report, returned_version: int, returned_at: int) -> int | None:
    """When the origin wrote a version after the one returned (None: not yet)."""
    if report.version <= returned_version:
        return None
    later = [t for v, t in report.version_times.items() if v > returned_version]
    at = min(later) if later else report.status_at
    return max(at, returned_at)  # another node's clock may lag the returning node's


def intervals(report: Report, acts: Iterable[Act], chain: Chain) -> list[Stay]:
    """Every stay of ``report`` in the queues of ``chain``, in the order they began.

    Empty when the chain does not validate the report, or when the report reached
    this node long after it was made (history imported or seeded: older than
    ``chain.horizon_us`` on arrival).
    """
    if not in_chain(report, chain):
        return []
    if report.first_recorded_at - report.reported_at > chain.horizon_us:
        return []
    levels = chain.levels
    own = report.origin == chain.node_id
    start = chain.index if own and chain.index is not None else 0
    serious = is_serious(report, chain)
    late = is_late(report)
    stays: list[Stay] = []
    waiting: dict[int, Stay] = {}
    rounds: Counter[int] = Counter()
    validated: set[int] = set()

    def enter(k: int, at: int) -> None:
        if k in waiting or not start <= k < len(levels):
            return
        stay = Stay(report.id, report.origin, levels[k], rounds[k], at, serious, late)
        rounds[k] += 1
        waiting[k] = stay
        stays.append(stay)

    def leave(k: int, at: int, outcome: str, act: Act) -> Stay:
        stay = waiting.pop(k)
        stay.left_at, stay.outcome = max(at, stay.entered_at), outcome
        stay.by, stay.node, stay.act_id = act.by, act.origin, act.id or None
        stay.act_text = act.text
        return stay

    # The story, in time order: actions, the origin's own decisions and its corrections.
    story: list[tuple[int, int, Act]] = []
    for act in acts:
        story.append((act.at, 1, act))
    if (report.status == Status.validated and not own and report.direct_from_origin
            and chain.index is not None and chain.index > 0):
        # A child that validates by its report's status: its level is the one below ours.
        story.append((report.status_at, 0, Act("", report.origin, "validate",
                                               levels[(chain.index or 1) - 1], report.status_at,
                                               report.origin)))
    elif report.status == Status.validated and own and chain.index is not None:
        story.append((report.status_at, 0, Act("", report.origin, "validate", chain.level,
                                               report.status_at, report.origin)))
    if report.status in (Status.closed, Status.rejected):
        story.append((report.status_at, 2, Act("", report.origin, str(report.status), None,
                                               report.status_at, report.origin)))
    story.sort(key=lambda item: (item[0], item[1], item[2].id))

    if serious:
        for k in range(start, len(levels)):
            enter(k, report.reported_at)
    else:
        enter(start, report.reported_at)
    returned: tuple[int, int, Stay | None] | None = None  # (level, version, stay)
    correction: int | None = None

    def corrected(at: int) -> None:
        nonlocal returned, correction
        assert returned is not None
        level, _version, stay = returned
        if stay is not None:
            stay.awaiting_correction = False
        returned, correction = None, None
        for j in (range(start, len(levels)) if serious else (level,)):
            if j not in validated or j == level:
                enter(j, at)

    final = False
    for at, _, act in story:
        if correction is not None and correction <= at:
            corrected(correction)
        pos = chain.position(act.level)
        if act.action == "validate" and pos is not None and returned is None:
            if pos in waiting:
                leave(pos, at, "validated", act)
            again = pos in validated  # a second validation (a race between nodes) moves nothing
            validated.add(pos)
            if not serious and not again:
                for j in [j for j in waiting if j < pos]:
                    leave(j, at, "superseded", act)
                enter(pos + 1, at)
        elif act.action == "return_for_correction" and pos is not None and returned is None:
            mine = None
            for j in list(waiting):
                stay = leave(j, at, "returned" if j == pos else "interrupted", act)
                if j == pos:
                    mine = stay
            if mine is not None:
                mine.awaiting_correction = True
            validated.discard(pos)
            returned = (pos, act.event_version or report.version, mine)
            correction = _correction_at(report, returned[1], at)
        elif act.action in ("reject", "close", Status.closed, Status.rejected):
            outcome = "rejected" if act.action in ("reject", Status.rejected) else "closed"
            for j in list(waiting):
                leave(j, at, outcome, act)
            if returned is not None and returned[2] is not None:
                returned[2].awaiting_correction = False
            final = True
            break
    if not final and correction is not None:
        corrected(correction)
    return stays


def waiting_at(stays: Sequence[Stay], level: str) -> Stay | None:
    """The open stay at ``level``, if the report waits there."""
    for stay in stays:
        if stay.level == level and stay.open:
            return stay
    return None


def last_at(stays: Sequence[Stay], level: str) -> Stay | None:
    """The latest stay at ``level`` (open or not)."""
    found = [s for s in stays if s.level == level]
    return found[-1] if found else None
