"""Instants, one way: checking, parsing, formatting and storing times (sitcen.times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitcen.times import (
    as_utc,
    from_micros,
    iso,
    moment_or_none,
    parse_moment,
    read_moment,
    to_micros,
    to_utc,
)

DUSHANBE = timezone(timedelta(hours=5))


def test_as_utc_gives_the_same_instant_in_utc() -> None:
    moment = datetime(2026, 5, 1, 15, 0, tzinfo=DUSHANBE)
    utc = as_utc(moment)
    assert utc == moment and utc.tzinfo is UTC and utc.hour == 10


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (datetime(2026, 5, 1, 10, 0), "time zone"),
        (datetime(1999, 12, 31, 23, 0, tzinfo=UTC), "between the years 2000 and 2100"),
        (datetime(2101, 1, 1, tzinfo=UTC), "between the years 2000 and 2100"),
        # The offset takes these outside Python's calendar: refused, not an OverflowError.
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), "between the years"),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
         "between the years"),
    ],
)
def test_as_utc_refuses_naive_and_out_of_range_moments(moment: datetime, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        as_utc(moment)


def test_to_utc_takes_any_instant_the_calendar_holds_but_refuses_overflow() -> None:
    assert to_utc(datetime(1990, 1, 1, 5, tzinfo=DUSHANBE)) == datetime(1990, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="outside the calendar"):
        to_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
    with pytest.raises(ValueError, match="time zone"):
        to_utc(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T10:00:00Z", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01T15:00:00+05:00", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01 15:00+05:00", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("  2026-05-01T10:00:00.250Z ", datetime(2026, 5, 1, 10, 0, 0, 250_000, tzinfo=UTC)),
    ],
)
def test_parse_moment_reads_iso_8601_with_a_zone(text: str, expected: datetime) -> None:
    assert parse_moment(text) == expected


def test_parse_moment_takes_a_naive_moment_in_the_zone_given_or_refuses_it() -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        parse_moment("2026-05-01T10:00")
    assert parse_moment("2026-05-01T15:00", naive_zone=DUSHANBE) == datetime(
        2026, 5, 1, 10, tzinfo=UTC)
    assert parse_moment("2026-05-01", naive_zone=UTC) == datetime(2026, 5, 1, tzinfo=UTC)


def test_parse_moment_checks_recorded_instants_and_lets_query_bounds_reach_further() -> None:
    with pytest.raises(ValueError, match="between the years"):
        parse_moment("1990-01-01T00:00:00Z")
    assert parse_moment("1990-01-01T00:00:00Z", bound=True).year == 1990
    for text in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        with pytest.raises(ValueError, match="between the years"):
            parse_moment(text)
        with pytest.raises(ValueError, match="outside the calendar"):
            parse_moment(text, bound=True)


def test_read_moment_tries_the_given_formats_after_iso_8601() -> None:
    formats = ("%d.%m.%Y %H:%M",)
    assert read_moment("01.05.2026 14:30", formats) == datetime(2026, 5, 1, 14, 30)
    assert read_moment("2026-05-01T14:30", formats) == datetime(2026, 5, 1, 14, 30)
    with pytest.raises(ValueError, match="not a date and time"):
        read_moment("01.05.2026 14:30")
    with pytest.raises(ValueError, match="not a date and time"):
        read_moment("yesterday", formats)


def test_iso_writes_utc_with_z_and_the_precision_a_standard_asks_for() -> None:
    moment = datetime(2026, 5, 1, 15, 0, 7, 123_456, tzinfo=DUSHANBE)
    assert iso(moment) == "2026-05-01T10:00:07.123456Z"
    assert iso(moment.replace(microsecond=0)) == "2026-05-01T10:00:07Z"
    assert iso(moment, "seconds") == "2026-05-01T10:00:07Z"
    assert iso(moment, "milliseconds") == "2026-05-01T10:00:07.123Z"
    assert iso(moment.replace(microsecond=0), "microseconds") == "2026-05-01T10:00:07.000000Z"


def test_iso_reads_back_as_the_same_instant_as_pydantic_writes_it() -> None:
    from pydantic import BaseModel

    class Stamp(BaseModel):
        at: datetime

    for moment in (datetime(2026, 5, 1, 10, tzinfo=UTC),
                   datetime(2026, 5, 1, 10, 0, 0, 5, tzinfo=UTC)):
        assert Stamp(at=moment).model_dump(mode="json")["at"] == iso(moment)
        assert parse_moment(iso(moment)) == moment


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31),
                    timezones=st.just(UTC)))
def test_micros_round_trip(moment: datetime) -> None:
    assert from_micros(to_micros(moment)) == moment
    assert to_micros(moment) == round((moment - datetime(1970, 1, 1, tzinfo=UTC))
                                      / timedelta(microseconds=1))


def test_moment_or_none_reads_aware_moments_only() -> None:
    aware = datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert moment_or_none("2026-05-01T10:00:00Z") == aware
    assert moment_or_none(aware) == aware
    for value in (None, "", "2026-05-01T10:00:00", "soon", 1_777_000_000, datetime(2026, 5, 1)):
        assert moment_or_none(value) is None
