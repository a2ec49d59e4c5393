"""Instants, one way: how a moment is checked, parsed from text, stored and written out.

The store keeps time as integer microseconds since the epoch in UTC
(:func:`to_micros`, :func:`from_micros`); the API and every file we write speak
ISO 8601 in UTC with a ``Z`` (:func:`iso`); a moment given as text is read by
:func:`parse_moment` (or :func:`read_moment` when the caller decides about a
missing zone itself). Every instant a user or a partner reports passes
:func:`as_utc`, which refuses naive timestamps and years outside 2000-2100;
the bounds of a query pass :func:`to_utc`. Both refuse a zone offset that
takes an instant outside Python's calendar with :class:`ValueError`, so it
becomes an answer naming the field, never a crash. No database, no HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TimeSpec = Literal["auto", "seconds", "milliseconds", "microseconds"]


def _in_utc(value: datetime) -> datetime | None:
    """The instant in UTC; None when its offset moves it outside Python's calendar."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a time zone, e.g. 2026-05-01T10:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00, 9999-12-31T23:59:59-14:00
        return None


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC, for any instant Python's calendar holds in UTC.

    The bound of a query window passes this; an instant to record passes
    :func:`as_utc`. Raises :class:`ValueError` for a naive timestamp and for
    one whose offset takes it outside the calendar.
    """
    utc = _in_utc(value)
    if utc is None:
        raise ValueError("timestamp lies outside the calendar (years 1 to 9999) in UTC")
    return utc


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; refuses naive timestamps and years outside 2000-2100.

    Every instant a user or partner reports passes this. Raises
    :class:`ValueError` (which pydantic and the routes turn into a 422 naming
    the field), also for an offset that moves a moment at the edge of
    Python's calendar out of it, where ``astimezone`` alone would overflow.
    """
    utc = _in_utc(value)
    if utc is None or not EARLIEST_YEAR <= utc.year <= LATEST_YEAR:
        raise ValueError(f"timestamp must lie between the years {EARLIEST_YEAR} and "
                         f"{LATEST_YEAR}")
    return utc


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def plausible_day(value: date) -> date:
    """A day of the node's work (a deadline, an assessment, a window's start): years
    2000-2100, as :func:`as_utc` holds instants. Raises :class:`ValueError`."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"date must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def birth_day(value: date) -> date:
    """A person's date of birth: after 1900 and not in the future. Raises :class:`ValueError`."""
    if value.year < 1900 or value > datetime.now(UTC).date():
        raise ValueError("date of birth must lie between 1900 and today")
    return value


#: A day of the node's work (years 2000-2100).
WorkDay = Annotated[date, AfterValidator(plausible_day)]
#: A date of birth (1900 to today).
BirthDay = Annotated[date, AfterValidator(birth_day)]


def to_micros(value: datetime) -> int:
    """UTC datetime → integer microseconds since the epoch (how the store keeps time)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """Integer microseconds since the epoch → UTC datetime."""
    return _EPOCH + timedelta(microseconds=value)


def iso(value: datetime, timespec: TimeSpec = "auto") -> str:
    """An aware datetime as ISO 8601 in UTC with ``Z``: the one form sitcen writes.

    ``auto`` (the canonical form: the API, stored bodies, reports, exports)
    writes a fraction of a second only when there is one, as pydantic does,
    so a time written here and one serialised by a model read the same. The
    other precisions are for standards that ask for them: ``milliseconds``
    for Cursor-on-Target (TAK devices write and expect ``.SSSZ``),
    ``microseconds`` for STIX/TAXII timestamps and the federation envelope
    (a fixed width the receiver checks), ``seconds`` for Atom feeds. CAP 1.2
    forbids ``Z`` and writes ``+00:00`` instead; ``interop/cap.py`` says so
    where it writes one.
    """
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec=timespec).replace("+00:00", "Z")


def read_moment(text: str, formats: Sequence[str] = ()) -> datetime:
    """The date and time a text names, as written: aware if it gives a zone, naive if not.

    Reads ISO 8601 / RFC 3339 first (``2026-05-01T10:00:00Z``, ``+05:00``, a
    space for the ``T``, a date alone as its midnight), then each ``strptime``
    pattern of ``formats`` in turn (spreadsheets written by hand, e.g.
    ``%d.%m.%Y %H:%M``). Raises :class:`ValueError` saying what to write.
    """
    text = text.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in formats:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"{text[:40]!r} is not a date and time; write ISO 8601 such as "
                     "2026-05-01T10:00:00Z (Z or an offset like +05:00 for the zone)")


def parse_moment(text: str, *, naive_zone: tzinfo | None = None, formats: Sequence[str] = (),
                 bound: bool = False) -> datetime:
    """The instant a text names, in UTC: the one parser of a moment given as text.

    A moment written without a zone is taken in ``naive_zone``; without one
    it is refused. An instant to record is checked by :func:`as_utc` (years
    2000-2100); with ``bound`` the text is one end of a query window, which
    may lie anywhere the calendar reaches in UTC (:func:`to_utc`). Raises
    :class:`ValueError` with a message for the user.
    """
    value = read_moment(text, formats)
    if value.tzinfo is None or value.utcoffset() is None:
        if naive_zone is None:
            raise ValueError(f"{text.strip()[:40]!r} needs a time zone (Z or +05:00)")
        value = value.replace(tzinfo=naive_zone)
    return to_utc(value) if bound else as_utc(value)


def moment_or_none(value: Any) -> datetime | None:
    """A moment read back from a stored or received record body, or None.

    For fields we wrote ourselves or a partner sent through sharing: an aware
    datetime, or ISO 8601 text with a zone. Anything else (absent, naive,
    unreadable) is None, and the caller falls back to what it knows.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo is not None and parsed.utcoffset() is not None else None


def zone(name: str) -> ZoneInfo:
    """The IANA time zone of this name (``Asia/Dushanbe``); the one way sitcen reads one.

    Raises :class:`ValueError` with a message for the user for every name that
    is not a zone: unknown names, malformed ones, and names of the zone
    database's folders (``Asia``), which ``ZoneInfo`` answers with an OS error.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{name[:60]!r} is not an IANA time zone (e.g. Asia/Dushanbe)") \
            from exc


def zone_name(value: str) -> str:
    """The name of an IANA time zone, unchanged, for a model's field (see :func:`zone`)."""
    zone(value)
    return value


#: A field holding the name of an IANA time zone ("Asia/Dushanbe"), checked on input.
ZoneName = Annotated[str, AfterValidator(zone_name)]
