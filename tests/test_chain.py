"""The validation chain's rules, pure: where a report waits, since when, and how it left."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sitcen.operations.chain import Act, Chain, Report, Stay, intervals, is_late, waiting_at

M = 60 * 1_000_000  # a minute in µs
H = 60 * M
T0 = 1_780_000_000 * 1_000_000  # some instant in 2026

LEVELS = ("regional", "national")
REGIONAL = Chain(LEVELS, "regional", "kg-osh-rc")
NATIONAL = Chain(LEVELS, "national", "kg-ncc")
POST = Chain(LEVELS, None, "kg-osh-post")


def report(**changes: Any) -> Report:
    base = Report(id="e1", origin="kg-osh-post", version=1, type="drug_smuggling",
                  impact_level="medium", killed=0, status="reported", occurred_at=T0 - H,
                  reported_at=T0, first_recorded_at=T0, status_at=T0, from_child=True,
                  direct_from_origin=True, version_times={1: T0})
    return replace(base, **changes)


def act(action: str, level: str | None, at: int, by: str = "duty", origin: str = "kg-osh-rc",
        **more: Any) -> Act:
    return Act(id=f"{action}-{level}-{at}", origin=origin, action=action, level=level, at=at,
               by=by, **more)


def shape(stays: list[Stay]) -> list[tuple[Any, ...]]:
    return [(s.level, s.round, s.entered_at - T0, None if s.left_at is None else s.left_at - T0,
             s.outcome) for s in stays]


def test_a_report_waits_at_the_first_level_then_the_next() -> None:
    validated = act("validate", "regional", T0 + 20 * M)
    assert shape(intervals(report(), [], REGIONAL)) == [("regional", 0, 0, None, None)]
    stays = intervals(report(), [validated], REGIONAL)
    assert shape(stays) == [("regional", 0, 0, 20 * M, "validated"),
                            ("national", 0, 20 * M, None, None)]
    assert (stays[0].by, stays[0].node) == ("duty", "kg-osh-rc")
    # At the national centre the post's report came through the regional one: same story.
    at_national = intervals(report(direct_from_origin=False), [validated], NATIONAL)
    assert waiting_at(at_national, "national") is not None
    assert waiting_at(intervals(report(direct_from_origin=False), [], NATIONAL),
                      "national") is None
    done = intervals(report(), [validated, act("validate", "national", T0 + 50 * M,
                                                 origin="kg-ncc")], NATIONAL)
    assert shape(done)[-1] == ("national", 0, 20 * M, 50 * M, "validated")


def test_a_report_of_the_node_itself_starts_at_its_own_level() -> None:
    own = report(origin="kg-osh-rc", from_child=False)
    assert shape(intervals(own, [], REGIONAL)) == [("regional", 0, 0, None, None)]
    national_own = report(origin="kg-ncc", from_child=False)
    assert shape(intervals(national_own, [], NATIONAL)) == [("national", 0, 0, None, None)]


def test_reports_outside_the_chain_enter_no_queue() -> None:
    from_a_peer = report(from_child=False, origin="tj-blo-isfara")
    assert intervals(from_a_peer, [], REGIONAL) == []
    history = report(reported_at=T0 - 30 * 24 * H, occurred_at=T0 - 31 * 24 * H)
    assert intervals(history, [], REGIONAL) == []  # imported or seeded long after


def test_a_serious_incident_waits_at_every_level_at_once() -> None:
    armed = report(type="armed_incident")
    stays = intervals(armed, [], NATIONAL)
    assert shape(stays) == [("regional", 0, 0, None, None), ("national", 0, 0, None, None)]
    assert all(s.serious for s in stays)
    # Each level leaves it by its own action; the national one does not wait for the regional.
    national_first = act("validate", "national", T0 + 5 * M, origin="kg-ncc")
    stays = intervals(armed, [national_first], NATIONAL)
    assert shape(stays) == [("regional", 0, 0, None, None),
                            ("national", 0, 0, 5 * M, "validated")]
    for serious in (report(killed=2), report(impact_level="very_high")):
        assert len(intervals(serious, [], NATIONAL)) == 2
    custom = Chain(LEVELS, "national", "kg-ncc", serious_types=frozenset({"human_trafficking"}))
    assert len(intervals(report(type="human_trafficking"), [], custom)) == 2


def test_return_for_correction_and_back_to_the_level_that_returned_it() -> None:
    returned = act("return_for_correction", "regional", T0 + 10 * M, event_version=1,
                   text="nationality missing")
    stays = intervals(report(), [returned], POST)
    assert shape(stays) == [("regional", 0, 0, 10 * M, "returned")]
    assert stays[0].awaiting_correction and stays[0].act_text == "nationality missing"
    corrected = report(version=2, status_at=T0 + 40 * M, version_times={1: T0, 2: T0 + 40 * M})
    stays = intervals(corrected, [returned], REGIONAL)
    assert shape(stays) == [("regional", 0, 0, 10 * M, "returned"),
                            ("regional", 1, 40 * M, None, None)]
    assert not stays[0].awaiting_correction
    validated = act("validate", "regional", T0 + 45 * M)
    assert shape(intervals(corrected, [returned, validated], REGIONAL))[-2:] == [
        ("regional", 1, 40 * M, 45 * M, "validated"), ("national", 0, 45 * M, None, None)]


def test_a_correction_arriving_before_the_return_is_seen_still_follows_it() -> None:
    # The origin's clock lags: its correction says 9 min, the return 10 min.
    returned = act("return_for_correction", "regional", T0 + 10 * M, event_version=1)
    corrected = report(version=2, status_at=T0 + 9 * M, version_times={1: T0, 2: T0 + 9 * M})
    assert shape(intervals(corrected, [returned], REGIONAL))[-1] == (
        "regional", 1, 10 * M, None, None)


def test_rejection_and_closure_end_every_stay() -> None:
    armed = report(type="armed_incident")
    rejected = act("reject", "regional", T0 + 3 * M, text="duplicate of an earlier report")
    assert shape(intervals(armed, [rejected], NATIONAL)) == [
        ("regional", 0, 0, 3 * M, "rejected"), ("national", 0, 0, 3 * M, "rejected")]
    closed = report(status="closed", status_at=T0 + 7 * M)
    assert shape(intervals(closed, [], REGIONAL)) == [("regional", 0, 0, 7 * M, "closed")]
    later = act("validate", "regional", T0 + 9 * M)  # after the end: no effect
    assert shape(intervals(closed, [later], REGIONAL)) == [("regional", 0, 0, 7 * M, "closed")]


def test_a_higher_level_acting_first_overtakes_the_lower_one() -> None:
    jumped = act("validate", "national", T0 + 4 * M, origin="kg-ncc")
    assert shape(intervals(report(), [jumped], NATIONAL)) == [
        ("regional", 0, 0, 4 * M, "superseded")]


def test_a_second_validation_moves_nothing() -> None:
    first = act("validate", "regional", T0 + 4 * M)
    second = act("validate", "regional", T0 + 6 * M, by="duty-2")
    national = act("validate", "national", T0 + 9 * M, origin="kg-ncc")
    stays = intervals(report(), [first, national, second], NATIONAL)
    assert shape(stays) == [("regional", 0, 0, 4 * M, "validated"),
                            ("national", 0, 4 * M, 9 * M, "validated")]


def test_a_child_that_validates_by_status_hands_over_to_the_next_level() -> None:
    three = ("post", "regional", "national")
    regional = Chain(three, "regional", "kg-osh-rc")
    validated_at_post = report(status="validated", status_at=T0 + 2 * M)
    assert shape(intervals(validated_at_post, [], regional)) == [
        ("post", 0, 0, 2 * M, "validated"), ("regional", 0, 2 * M, None, None)]
    own = Chain(LEVELS, "regional", "kg-osh-rc")
    validated_here = report(origin="kg-osh-rc", from_child=False, status="validated",
                            status_at=T0)
    assert shape(intervals(validated_here, [], own)) == [
        ("regional", 0, 0, 0, "validated"), ("national", 0, 0, None, None)]


@pytest.mark.parametrize("hours, late", [(1, False), (24, False), (25, True)])
def test_late_reports(hours: int, late: bool) -> None:
    assert is_late(report(occurred_at=T0 - hours * H)) is late
    assert intervals(report(occurred_at=T0 - hours * H), [], REGIONAL)[0].late is late
