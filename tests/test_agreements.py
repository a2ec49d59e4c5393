"""Sharing agreements: loading YAML and JSON, errors that name lines, schema, defaults."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from sitcen.exchange.agreements import (
    COOPERATION_KINDS,
    MANDATORY_FIELDS,
    SHARED_KINDS,
    Agreement,
    AgreementError,
    DelayMinutes,
    Direction,
    PersonalData,
    Precision,
    agreement_schema,
    default_agreement,
    load_agreement,
)
from sitcen.store.journal import RecordKind
from sitcen.taxonomy import Category, Handling

BLO_YAML = """\
id: blo-batken-isfara
version: 2
from_node: kg-blo-batken
to_node: tj-blo-isfara
direction: peer
purpose: crossings near the common border, real time
kinds: [event]
events:
  categories: [unauthorised_crossing]
  types: [drug_smuggling]
  sections: [KG-TJ-*]
fields: [occurred_at, location, section_id, status, persons, details.direction]
location_precision: section
personal_data: counts_only
handling_ceiling: AMBER
delay: none
onward_sharing: false
valid_from: 2026-01-01T00:00:00Z
"""


def test_yaml_loads() -> None:
    agreement = load_agreement(BLO_YAML)
    assert agreement.id == "blo-batken-isfara"
    assert agreement.version == 2
    assert agreement.direction == Direction.peer
    assert agreement.kinds == [RecordKind.event]
    assert agreement.events.sections == ["KG-TJ-*"]
    assert agreement.location_precision == Precision.section
    assert agreement.personal_data == PersonalData.counts_only
    assert agreement.handling_ceiling == Handling.amber
    assert agreement.delay == "none"
    assert agreement.onward_sharing is False
    assert agreement.valid_from is not None and agreement.valid_from.year == 2026
    assert set(MANDATORY_FIELDS) <= agreement.allowed_fields
    assert "details.direction" in agreement.allowed_fields
    assert "description" not in agreement.allowed_fields


def test_json_loads_the_same() -> None:
    import yaml

    data = yaml.safe_load(BLO_YAML)
    data["valid_from"] = "2026-01-01T00:00:00Z"
    data["delay"] = {"minutes": 30}
    agreement = load_agreement(json.dumps(data, indent=2))
    assert agreement.delay == DelayMinutes(minutes=30)
    assert agreement.delay_minutes == 30
    assert agreement.model_dump(exclude={"delay"}) == load_agreement(BLO_YAML).model_dump(
        exclude={"delay"})


def test_json_on_one_line_loads() -> None:
    text = json.dumps({"id": "a", "from_node": "a", "to_node": "b", "direction": "up"})
    assert load_agreement(text).kinds == []


def test_unknown_field_names_its_line() -> None:
    lines = BLO_YAML.splitlines()
    lines.insert(6, "colour: red")  # becomes line 7
    with pytest.raises(AgreementError) as info:
        load_agreement("\n".join(lines), source="blo.yaml")
    message = str(info.value)
    assert "blo.yaml: line 7, column 1: colour: unknown field" in message
    assert info.value.errors[0]["line"] == 7


def test_nested_errors_name_their_lines() -> None:
    text = BLO_YAML.replace("  sections: [KG-TJ-*]", "  sections: [KG-TJ-*, KG-TJ]\n  colour: x")
    text = text.replace("handling_ceiling: AMBER", "handling_ceiling: PURPLE")
    with pytest.raises(AgreementError) as info:
        load_agreement(text)
    message = str(info.value)
    assert "line 11, column 23: events.sections[1]" in message
    assert "line 12, column 3: events.colour: unknown field" in message
    assert "line 16" in message and "handling_ceiling" in message


def test_unknown_kind_type_and_field_are_refused() -> None:
    text = (BLO_YAML.replace("kinds: [event]", "kinds: [event, gossip]")
            .replace("types: [drug_smuggling]", "types: [tea_smuggling]")
            .replace("fields: [occurred_at", "fields: [shoe_size, occurred_at"))
    with pytest.raises(AgreementError) as info:
        load_agreement(text)
    message = str(info.value)
    assert "line 7" in message and "kinds[1]" in message
    assert "line 10" in message and "events.types[0]" in message
    assert "line 12" in message and "fields[0]" in message


def test_json_errors_name_lines_too() -> None:
    text = json.dumps({"id": "a", "from_node": "a", "to_node": "b", "direction": "sideways"},
                      indent=2)
    with pytest.raises(AgreementError, match=r"line 5, column 3: direction"):
        load_agreement(text)


def test_syntax_error_and_duplicate_key_name_lines() -> None:
    with pytest.raises(AgreementError, match=r"line 3"):
        load_agreement("id: a\nfrom_node: a\nkinds: [event\n")
    twice = r"line 3, column 1: id: given twice \(first on line 1"
    with pytest.raises(AgreementError, match=twice):
        load_agreement("id: a\nfrom_node: a\nid: b\n")
    with pytest.raises(AgreementError, match="mapping"):
        load_agreement("- a\n- b\n")


@pytest.mark.parametrize("change, words", [
    ({"to_node": "a"}, "must differ"),
    ({"valid_from": "2026-02-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"}, "after"),
    ({"kinds": ["event"]}, "no category or type"),
    ({"valid_from": "2026-02-01"}, "time zone"),
    ({"delay": {"minutes": 0}}, "greater than or equal to 1"),
    ({"delay": "weekly"}, "daily_aggregates"),
    ({"events": {"bbox": [80, 40, 70, 45]}}, "bbox"),
    ({"events": {"countries": ["QQ"]}}, "unknown country"),
])
def test_coherence_rules(change: dict[str, Any], words: str) -> None:
    data = {"id": "x", "from_node": "a", "to_node": "b", "direction": "peer", **change}
    with pytest.raises(AgreementError, match=words):
        load_agreement(json.dumps(data))


def test_schema_is_json_schema() -> None:
    schema = agreement_schema()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert {"id", "from_node", "to_node", "direction"} <= set(schema["required"])
    assert "handling_ceiling" in schema["properties"]
    json.dumps(schema)
    valid = json.loads(json.dumps(load_agreement(BLO_YAML).model_dump(mode="json")))
    invalid = {**valid, "colour": "red"}
    if importlib.util.find_spec("jsonschema") is not None:
        jsonschema = importlib.import_module("jsonschema")
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        assert validator.is_valid(valid)
        assert not validator.is_valid(invalid)
    elif importlib.util.find_spec("jsonschema_rs") is not None:
        jsonschema_rs = importlib.import_module("jsonschema_rs")
        rs_validator = jsonschema_rs.validator_for(schema)
        assert rs_validator.is_valid(valid)
        assert not rs_validator.is_valid(invalid)


def test_examples_in_the_docs_load() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "sharing.md").read_text(encoding="utf-8")
    blocks = doc.split("```yaml\n")[1:]
    assert len(blocks) >= 2
    for block in blocks:
        load_agreement(block.split("```")[0], source="docs/sharing.md")


def test_default_up_is_everything() -> None:
    agreement = default_agreement("kg-osh", "kg-ncc", "up")
    # Everything but the operations room's own notes (the duty log and handovers).
    assert set(agreement.kinds) == set(SHARED_KINDS) - {RecordKind.duty_log_entry,
                                                      RecordKind.handover}
    assert set(agreement.events.categories) == set(Category)
    assert not agreement.events.has_area
    assert agreement.location_precision == Precision.exact
    assert agreement.personal_data == PersonalData.full
    assert agreement.handling_ceiling == Handling.red
    assert agreement.delay == "none"
    assert agreement.onward_sharing is True
    assert {"description", "persons", "location", "details"} <= agreement.allowed_fields


def test_default_peer_is_nothing() -> None:
    agreement = default_agreement("kg-ncc", "tj-ncc", Direction.peer)
    assert agreement.kinds == []
    assert agreement.onward_sharing is False
    assert agreement.personal_data == PersonalData.none


def test_default_down_is_the_childs_area() -> None:
    agreement = default_agreement("kg-ncc", "kg-batken", "down", sections=["KG-TJ-*"],
                                  countries=["KG"])
    assert set(agreement.kinds) == {RecordKind.event, RecordKind.event_action, RecordKind.alert,
                                    RecordKind.section_assessment, RecordKind.report,
                                    RecordKind.task, *COOPERATION_KINDS}
    assert agreement.events.sections == ["KG-TJ-*"]
    assert agreement.events.countries == ["KG"]
    assert agreement.handling_ceiling == Handling.amber
    assert agreement.personal_data == PersonalData.none
    assert agreement.onward_sharing is False
    with pytest.raises(AgreementError, match="area"):
        default_agreement("kg-ncc", "kg-batken", "down")


def test_agreement_round_trips_through_json() -> None:
    agreement = load_agreement(BLO_YAML)
    again = Agreement.model_validate_json(agreement.model_dump_json())
    assert again == agreement
