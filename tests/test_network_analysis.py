"""The hub's joint analysis and what an agreement lets a member see of another's indicators."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitcen.analysis.network import joint_analysis, joint_annex, monthly_alert, yoy_dispersion
from sitcen.exchange.agreements import AgreementError, load_agreement
from sitcen.exchange.sharing import SharedRecord, indicator_view, share

COUNTRIES = ("KZ", "KG", "TJ", "TM", "UZ")
NATIONALITIES = ("AF", "PK", "IN")
CROSSING = "illegal_crossing_between_bcps"


def _series(seed: int = 7, peak: float = 4.0) -> pd.DataFrame:
    """Seven years of monthly crossings per country and nationality, with a summer peak
    ``peak`` times the usual month every year (the same size each year)."""
    rng = np.random.default_rng(seed)
    rows = []
    for country in COUNTRIES:
        for month in pd.period_range("2019-01", "2025-12", freq="M"):
            season = 1 + peak * (month.month == 7) + peak / 2 * (month.month in (6, 8))
            rows += [(country, str(month), CROSSING, f"{country}-S1", nationality,
                      float(rng.poisson(30 * season))) for nationality in NATIONALITIES]
    return pd.DataFrame(rows, columns=["country", "month", "indicator", "place",
                                       "nationality", "value"])


def _totals(cells: pd.DataFrame) -> pd.DataFrame:
    return (cells.groupby(["country", "month", "indicator"])["value"].sum().reset_index()
            .rename(columns={"value": "total"}))


def test_the_alert_fires_on_a_planted_route_surge() -> None:
    cells = _series()
    planted = (cells["country"] == "TJ") & (cells["month"] == "2025-11") & (
        cells["nationality"] == "AF")
    cells.loc[planted, "value"] += 90
    alert = monthly_alert(_totals(cells), cells, "2025-11")
    assert alert["fired"]
    (route,) = alert["routes"]
    assert (route["nationality"], route["place"], route["country"], route["direction"]) == (
        "AF", "TJ-S1", "TJ", "up")
    assert route["q"] < 0.05
    tj = [a for a in alert["indicators"] if a["country"] == "TJ"]
    assert tj and tj[0]["observed"] > tj[0]["upper"]


@pytest.mark.parametrize("month", ["2025-06", "2025-07", "2025-08"])
def test_the_alert_is_silent_on_a_seasonal_peak_the_size_of_last_years(month: str) -> None:
    cells = _series()
    alert = monthly_alert(_totals(cells), cells, month)
    assert not alert["fired"], alert


def test_the_same_peak_out_of_season_fires() -> None:
    # The July peak moved to November: the same size, but not in last year's place.
    cells = _series()
    november = (cells["month"] == "2025-11") & (cells["country"] == "KG")
    cells.loc[november, "value"] *= 5
    alert = monthly_alert(_totals(cells), cells, "2025-11")
    assert any(a["country"] == "KG" for a in alert["indicators"])


def test_dispersion_from_last_years_months_cancels_the_season() -> None:
    matrix = pd.DataFrame([[10.0, 50.0] * 12 + [10.0]] * 3,
                          columns=pd.period_range("2024-01", "2026-01", freq="M"))
    assert yoy_dispersion(matrix, pd.Period("2026-01", freq="M")) == 0.0


def test_joint_analysis_and_annex() -> None:
    cells = _series()
    totals = _totals(cells)
    result = joint_analysis(totals, cells, "2025-12")
    expected = float(totals[totals["month"] == "2025-12"]["total"].sum())
    assert result["regional_totals"] == {CROSSING: expected}
    assert result["countries_reporting"] == 5
    (ahead, *_rest) = result["forecasts"][CROSSING]
    assert ahead["month"] == "2026-01" and ahead["lower_95"] <= ahead["forecast"] <= ahead[
        "upper_95"]
    annex = joint_annex(totals[totals["month"] != "2025-03"].assign(
        total=lambda t: t["total"]), "2025Q1")
    region = annex["region"][CROSSING]
    assert region["complete"] is False  # March missing
    year = joint_annex(totals, "2025")
    kz = next(r for r in year["countries"] if r["country"] == "KZ")
    assert kz["total"] == float(totals[(totals["country"] == "KZ")
                                       & totals["month"].str.startswith("2025")]["total"].sum())
    assert kz["complete"] and kz["months_sent"] == 12


# ----------------------------------------------------------------------------- agreements


RECORD: dict[str, Any] = {
    "key": "TJ|2026-03|refusals_of_entry", "country": "TJ", "month": "2026-03",
    "indicator": "refusals_of_entry", "total": 7, "handling": "AMBER",
    "values": [{"value": 7, "source": "entered"},
               {"place": "TJ-UZ-OYBEK", "nationality": "AF", "value": 4, "source": "imported"},
               {"place": "TJ-UZ-OYBEK", "nationality": "PK", "value": 1, "source": "derived"},
               {"place": "TJ-AF-PANJ", "nationality": "AF", "value": 2, "source": "imported"}],
}
AGREEMENT = """\
id: hub-to-kg
from_node: hub
to_node: kg-ncc
direction: peer
kinds: [indicator_record]
handling_ceiling: AMBER
"""


def _shared(breakdowns: str) -> dict[str, Any]:
    agreement = load_agreement(AGREEMENT + f"indicator_breakdowns: {breakdowns}\n")
    record = SharedRecord("indicator_record", "tj-ncc", "r1", 1, RECORD)
    out = share(record, agreement, now=datetime(2026, 4, 1, tzinfo=UTC))
    assert out is not None
    return out.body


def test_an_agreement_without_breakdowns_shares_the_totals_only() -> None:
    body = _shared("[]")
    assert body["values"] == [{"value": 7, "source": "entered"}]
    assert body["withheld_breakdowns"] == ["nationality", "place"]
    assert body["total"] == 7


def test_an_agreement_by_nationality_sums_over_places() -> None:
    body = _shared("[nationality]")
    assert body["values"] == [{"value": 7, "source": "entered"},
                              {"nationality": "AF", "value": 6, "source": "imported"},
                              {"nationality": "PK", "value": 1, "source": "derived"}]
    assert body["withheld_breakdowns"] == ["place"]
    assert RECORD["values"][1]["place"] == "TJ-UZ-OYBEK"  # the input is not changed


def test_an_agreement_naming_a_breakdown_twice_is_refused() -> None:
    with pytest.raises(AgreementError, match="twice"):
        load_agreement(AGREEMENT + "indicator_breakdowns: [place, place]\n")
    with pytest.raises(AgreementError, match="indicator_breakdowns"):
        load_agreement(AGREEMENT + "indicator_breakdowns: [section]\n")


_cell = st.fixed_dictionaries({"place": st.sampled_from(["P1", "P2", "P3"]),
                               "nationality": st.sampled_from(["AF", "PK", "XX"]),
                               "value": st.integers(0, 1000)})


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(_cell, min_size=1, max_size=12,
                      unique_by=lambda c: (c["place"], c["nationality"])),
       granted=st.sets(st.sampled_from(["place", "nationality", "document_kind", "substance"])))
def test_the_view_keeps_every_sum_and_shows_nothing_not_granted(
        cells: list[dict[str, Any]], granted: set[str]) -> None:
    total = sum(c["value"] for c in cells)
    body = {"total": total, "values": [{"value": total, "source": "entered"},
                                       *({**c, "source": "entered"} for c in cells)]}
    view = indicator_view(body, granted)
    shapes: dict[tuple[str, ...], int] = {}
    for value in view["values"]:
        shape = tuple(sorted(k for k in value if k not in ("value", "source")))
        assert set(shape) <= granted  # nothing finer than granted leaves
        shapes[shape] = shapes.get(shape, 0) + value["value"]
    assert shapes[()] == total
    assert all(summed == total for summed in shapes.values())  # every breakdown adds up
    expected = tuple(sorted({"place", "nationality"} & granted))
    assert expected in shapes
    # Granting more never shows less: the view of the view is the same.
    assert indicator_view(view, granted)["values"] == view["values"]
