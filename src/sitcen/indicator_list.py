"""The common indicator list of the Central Asian risk analysis network (docs/network.md).

Each member sends, per month, the same short list of indicators; this module
is that list, versioned: an indicator's id, its unit, the breakdowns it takes
and, where the node's own single-event reports can give it, how it is counted
from them. Labels live in the translation catalogues (``indicator.<id>`` and
``indicator_unit.<unit>``). A change that alters what a number means is a new
:data:`LIST_VERSION`; records keep the version they were made under.
No database, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: The version of the list below; stored in every monthly indicator record.
LIST_VERSION = 1


class IndicatorUnit(StrEnum):
    """What one indicator value counts."""

    persons = "persons"
    cases = "cases"
    kg = "kg"
    tablets = "tablets"
    items = "items"
    documents = "documents"


class Breakdown(StrEnum):
    """What a value may be broken down by, beyond the month and the country.

    ``place`` is a border section id (``KG-TJ-3``) or a crossing point id: the
    place where the persons or goods were detected; values derived from events
    use the event's border section.
    """

    place = "place"
    nationality = "nationality"
    document_kind = "document_kind"
    substance = "substance"


class Counted(StrEnum):
    """What of a matching event adds to the indicator."""

    persons = "persons"  # the persons it names (their counts), by nationality
    events = "events"  # one per event
    quantity = "quantity"  # the quantity seized, in the indicator's unit


@dataclass(frozen=True)
class Derivation:
    """How an indicator is counted from single-event reports.

    An event matches when its type is one of ``event_types`` and each detail in
    ``details`` has one of the values listed (an absent detail never matches a
    condition). ``units`` maps the event's unit to a factor into the
    indicator's unit; an event in another unit is left out (and said so).
    """

    event_types: tuple[str, ...]
    counted: Counted
    details: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    units: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Indicator:
    """One indicator of the common list."""

    id: str
    unit: IndicatorUnit
    breakdowns: tuple[Breakdown, ...]
    derivation: Derivation | None
    #: The nearest indicator of the EU agency's risk analysis networks (docs/network.md).
    eu_counterpart: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the API lists."""
        derived = self.derivation
        return {
            "id": self.id, "unit": self.unit.value,
            "breakdowns": [b.value for b in self.breakdowns],
            "derived_from": None if derived is None else {
                "event_types": list(derived.event_types), "counted": derived.counted.value,
                "details": {k: list(v) for k, v in derived.details.items()},
                "units": dict(derived.units)},
            "eu_counterpart": self.eu_counterpart,
        }


_P, _N = Breakdown.place, Breakdown.nationality
_D, _S = Breakdown.document_kind, Breakdown.substance
_MASS = {"kg": 1.0, "g": 0.001}
_DRUGS = ("heroin", "opium", "hashish", "cannabis", "methamphetamine", "amphetamine", "cocaine",
          "synthetic_other", "psychotropic_medicine", "other")

INDICATORS: dict[str, Indicator] = {
    i.id: i
    for i in (
        Indicator("illegal_crossing_between_bcps", IndicatorUnit.persons, (_P, _N),
                  Derivation(("green_border_crossing", "river_crossing"), Counted.persons),
                  "FRAN indicator 1A: illegal border-crossing between BCPs"),
        Indicator("illegal_crossing_at_bcps", IndicatorUnit.persons, (_P, _N),
                  Derivation(("clandestine_at_bcp",), Counted.persons),
                  "FRAN indicator 1B: clandestine entries at BCPs"),
        Indicator("facilitators", IndicatorUnit.persons, (_P, _N), None,
                  "FRAN indicator 2: facilitators"),
        Indicator("illegal_stay_at_exit", IndicatorUnit.persons, (_P, _N),
                  Derivation(("illegal_stay",), Counted.persons,
                             {"detection": ("bcp_check",)}),
                  "FRAN indicator 3: illegal stay, detected on exit"),
        Indicator("illegal_stay_inland", IndicatorUnit.persons, (_N,),
                  Derivation(("illegal_stay",), Counted.persons, {"detection": ("inland",)}),
                  "FRAN indicator 3: illegal stay, detected inland"),
        Indicator("refusals_of_entry", IndicatorUnit.persons, (_P, _N),
                  Derivation(("refusal_of_entry",), Counted.persons),
                  "FRAN indicator 4: refusals of entry"),
        Indicator("asylum_applications_at_border", IndicatorUnit.persons, (_P, _N),
                  Derivation(("asylum_at_border",), Counted.persons),
                  "FRAN indicator 5: asylum applications (those made at the border)"),
        Indicator("fraudulent_documents", IndicatorUnit.documents, (_P, _N, _D),
                  Derivation(("document_fraud",), Counted.events),
                  "FRAN indicator 6 (now EDF-RAN): persons using fraudulent documents"),
        Indicator("drug_seizures_kg", IndicatorUnit.kg, (_P, _S),
                  Derivation(("drug_smuggling",), Counted.quantity, {"substance": _DRUGS},
                             _MASS),
                  "none in FRAN; CARICC and UNODC seizure statistics"),
        Indicator("drug_seizures_tablets", IndicatorUnit.tablets, (_P, _S),
                  Derivation(("drug_smuggling",), Counted.quantity, {"substance": _DRUGS},
                             {"tablets": 1.0}),
                  "none in FRAN; CARICC and UNODC seizure statistics"),
        Indicator("precursor_seizures_kg", IndicatorUnit.kg, (_P,),
                  Derivation(("drug_smuggling",), Counted.quantity,
                             {"substance": ("precursor",)}, _MASS),
                  "none in FRAN; INCB precursor seizure reporting"),
        Indicator("firearms_seized", IndicatorUnit.items, (_P,),
                  Derivation(("weapons_smuggling",), Counted.quantity,
                             {"weapon_kind": ("firearm",)}, {"pieces": 1.0}),
                  "cross-border crime: weapons (Frontex/EUROSUR events layer)"),
        Indicator("ammunition_seized", IndicatorUnit.items, (_P,),
                  Derivation(("weapons_smuggling",), Counted.quantity,
                             {"weapon_kind": ("ammunition",)},
                             {"rounds": 1.0, "pieces": 1.0}),
                  "cross-border crime: weapons (Frontex/EUROSUR events layer)"),
        Indicator("excise_goods_cases", IndicatorUnit.cases, (_P,),
                  Derivation(("excise_goods_smuggling",), Counted.events),
                  "cross-border crime: excise goods (Frontex/EUROSUR events layer)"),
    )
}


def indicator(indicator_id: str) -> Indicator:
    """The indicator of that id; KeyError when the list has none."""
    return INDICATORS[indicator_id]


def catalogue_keys() -> list[str]:
    """The catalogue keys the list's labels need (names and units)."""
    return ([f"indicator.{i}" for i in INDICATORS]
            + [f"indicator_unit.{u.value}" for u in IndicatorUnit])
