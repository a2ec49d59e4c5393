"""A post's drug-seizure report, as the API's body and as typed into the console's form."""

from __future__ import annotations

from typing import Any


def seizure_report(occurred_at: str, /, **overrides: Any) -> dict[str, Any]:
    """A valid drug-seizure report (the API's body) on the Tajik-Afghan border near Nizhny
    Panj, at ``occurred_at`` (ISO 8601) unless ``overrides`` say otherwise."""
    body: dict[str, Any] = {
        "type": "drug_smuggling",
        "occurred_at": occurred_at,
        "location": {"lon": 68.60, "lat": 37.22, "precision_m": 50},
        "impact_level": "medium",
        "confidence": {"source_reliability": "B", "information_credibility": 2},
        "handling": "AMBER",
        "details": {"substance": "heroin", "quantity": 12.5, "unit": "kg", "direction": "entry"},
        "persons": [{"nationality": "AF", "sex": "male", "age_group": "adult", "count": 2}],
        "transport": "boat",
        "modus_operandi": ["river_crossing"],
        "reaction": ["apprehended", "seized"],
        "description": "Два курьера задержаны при переправе через Пяндж",
    }
    body.update(overrides)
    return body


def fill_report_form(page: Any) -> None:
    """Open the console's report form on ``page`` and fill it as a post reports a heroin
    seizure at the Panj, ready to send."""
    page.click(".report-button")
    page.select_option("#report-type", "drug_smuggling")
    page.fill("#report-lon", "68.6")
    page.fill("#report-lat", "37.22")
    page.select_option("#detail-substance", "heroin")
    page.fill("#detail-quantity", "4.5")
    page.select_option("#detail-unit", "kg")
    page.fill("#report-description", "Two couriers stopped at the river crossing")
