"""Importing historic events from CSV and XLSX: the report names every bad cell; all or nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import sitcen.interop.event_import
from sitcen.cli import main
from sitcen.interop.event_import import ColumnMapping, MappingError, import_events, load_mapping
from sitcen.interop.spreadsheets import MAX_FILE_BYTES, XLSX_MEDIA_TYPE
from sitcen.node import Node
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
IMPORTS = "/api/v1/imports/events"

# A post's register, as kept in Russian Excel: semicolons, decimal commas, DD.MM.YYYY.
REGISTER = """\
Вид события;Дата и время события;Долгота;Широта;Вещество;Количество;Единица измерения;\
Лица;Гражданство;Описание
Контрабанда наркотиков;01.03.2021 14:30;68,60;37,22;героин;12,5;кг;2;Афганистан;\
Задержаны два курьера у Нижнего Пянджа
drug_smuggling;2021-03-02T10:00:00+05:00;68.61;37.23;opium;1;kg;1 AF male adult, 2 TJ;;\
=HYPERLINK("http://example.org") — текст из журнала
Незаконное пересечение границы вне пунктов пропуска;03.03.2021;70,80;39,95;;;;;;Следы у реки
"""


def _post(client: TestClient, headers: dict[str, str], body: bytes, query: str = "",
          media: str = "text/csv") -> Any:
    return client.post(f"{IMPORTS}?{query}", content=body,
                       headers={**headers, "Content-Type": media})


def _events(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/events?limit=1000", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _problems(report: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(p["row"], p["column"], p["value"]) for p in report["problems"]]


def test_russian_register_is_recognised_and_needs_its_details(client: TestClient,
                                                              as_role: Headers) -> None:
    """Headers and values in Russian, decimal commas, DD.MM.YYYY: recognised without a mapping.

    The third row is a crossing without the stage and direction its type requires, so
    the whole file is refused and nothing is written.
    """
    headers = as_role(Role.operator)
    response = _post(client, headers, REGISTER.encode(), "timezone=Asia/Dushanbe")
    assert response.status_code == 422, response.text
    body = response.json()
    report = body["report"]
    assert body["detail"] == [{"loc": ["body"], "msg": report["summary"],
                               "type": "import_refused"}]
    assert report["columns"] == {
        "type": "Вид события", "occurred_at": "Дата и время события", "lon": "Долгота",
        "lat": "Широта", "substance": "Вещество", "quantity": "Количество",
        "unit": "Единица измерения", "persons": "Лица", "nationality": "Гражданство",
        "description": "Описание"}
    assert (report["rows"], report["valid"], report["imported"]) == (3, 2, 0)
    assert _problems(report) == [(4, "stage", ""), (4, "direction", "")]
    assert report["problems"][0]["reason"] == "is required for type green_border_crossing"
    assert "columns are separated by ';'" in report["notes"]
    assert _events(client, headers) == []


def test_import_writes_every_row_with_its_values(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.operator)
    mapping = json.dumps({"defaults": {"stage": "actual", "direction": "entry"},
                          "timezone": "Asia/Dushanbe"})
    response = client.post(IMPORTS, params={"mapping": mapping}, content=REGISTER.encode(),
                           headers={**headers, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows"], report["valid"], report["imported"], report["problems"]) == (
        3, 3, 3, [])
    assert "2 times without a time zone were read as Asia/Dushanbe" in report["notes"]
    events = {e["description"]: e for e in _events(client, headers)}
    first = events["Задержаны два курьера у Нижнего Пянджа"]
    assert first["type"] == "drug_smuggling"
    assert first["occurred_at"] == "2021-03-01T09:30:00Z"  # 14:30 in Dushanbe (UTC+5)
    assert first["location"] == {"lon": 68.6, "lat": 37.22, "precision_m": None}
    assert first["details"] == {"substance": "heroin", "quantity": 12.5, "unit": "kg",
                                "direction": "entry"}
    assert first["persons"] == [{"nationality": "AF", "sex": "unknown", "age_group": "unknown",
                                 "count": 2}]
    assert first["section_id"].startswith("AF-TJ-")
    second = events['=HYPERLINK("http://example.org") — текст из журнала']
    assert second["occurred_at"] == "2021-03-02T05:00:00Z"
    assert [(p["count"], p["nationality"], p["sex"]) for p in second["persons"]] == [
        (1, "AF", "male"), (2, "TJ", "unknown")]
    third = events["Следы у реки"]
    assert third["occurred_at"] == "2021-03-02T19:00:00Z"  # midnight in Dushanbe
    assert third["details"] == {"stage": "actual", "direction": "entry"}
    # Defaults fill only the details a type has: drug seizures take a direction, no stage.
    assert first["details"]["direction"] == "entry"
    assert "stage" not in first["details"]


BAD_ROWS = """\
type,occurred_at,lon,lat,impact_level,quantity,unit,substance,shots_fired,description
drug_smuggling,2021-03-01T10:00:00Z,68.6,37.22,low,1,kg,opium,,good
drug_smuggling,2021-03-01T10:00:00Z,долгота,37.22,low,1,kg,opium,,bad lon
drug_smuggling,31.02.2021,68.6,37.22,low,1,kg,opium,,bad date
drug_smuggling,2021-03-01T10:00:00Z,68.6,95,low,1,kg,opium,,lat out of range
drug_smuggling,2021-03-01T10:00:00Z,68.6,37.22,катастрофа,1,kg,opium,,bad impact
drug_smuggling,2099-01-01T10:00:00Z,68.6,37.22,low,1,kg,opium,,future
drug_smuggling,2021-03-01T10:00:00Z,68.6,37.22,low,много,kg,opium,,bad quantity
drug_smuggling,2021-03-01T10:00:00Z,68.6,37.22,low,1,kg,opium,может быть,not applicable
alien_landing,2021-03-01T10:00:00Z,68.6,37.22,low,,,,,bad type
,2021-03-01T10:00:00Z,68.6,37.22,low,1,kg,opium,,no type
,,,,,,,,,
drug_smuggling,2021-03-01T11:00:00Z,68.6,37.22,Высокий,2,кг,Героин,,good in Russian
"""


def test_every_bad_cell_is_named_and_nothing_is_written(client: TestClient,
                                                        as_role: Headers) -> None:
    headers = as_role(Role.operator)
    response = _post(client, headers, BAD_ROWS.encode())
    assert response.status_code == 422
    report = response.json()["report"]
    found = {(p["row"], p["column"]): (p["value"], p["reason"]) for p in report["problems"]}
    assert found == {
        (3, "lon"): ("долгота", "not a number"),
        (4, "occurred_at"): ("31.02.2021", found[(4, "occurred_at")][1]),
        (5, "lat"): ("95", "Input should be less than or equal to 90"),
        (6, "impact_level"): ("катастрофа", found[(6, "impact_level")][1]),
        (7, "occurred_at"): ("2099-01-01T10:00:00Z", found[(7, "occurred_at")][1]),
        (8, "quantity"): ("много", "not a number"),
        (9, "shots_fired"): ("может быть", "not yes or no (true/false, да/нет, 1/0)"),
        (10, "type"): ("alien_landing", found[(10, "type")][1]),
        (11, "type"): ("", "empty; every event needs it"),
    }
    assert found[(4, "occurred_at")][1].startswith("not a date and time; write ISO 8601")
    assert found[(6, "impact_level")][1].startswith("unknown value; use one of low, medium")
    assert found[(7, "occurred_at")][1].startswith("lies in the future")
    assert "unknown event type" in found[(10, "type")][1]
    assert (report["rows"], report["valid"]) == (11, 2)  # the blank row 12 is not a row
    assert _events(client, headers) == []
    # Asked for, the valid rows go in; the report still lists the others.
    response = _post(client, headers, BAD_ROWS.encode(), "valid_only=true")
    assert response.status_code == 201
    assert (response.json()["imported"], response.json()["problem_count"]) == (2, 9)
    events = _events(client, headers)
    assert sorted(e["description"] for e in events) == ["good", "good in Russian"]
    russian = next(e for e in events if e["description"] == "good in Russian")
    assert (russian["impact_level"], russian["details"]["substance"]) == ("high", "heroin")


def test_dry_run_checks_without_writing(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.operator)
    response = _post(client, headers, BAD_ROWS.encode(), "dry_run=true")
    assert response.status_code == 200
    assert response.json()["summary"] == ("11 rows read, 2 valid, 9 problems; "
                                          "dry run, nothing imported")
    assert _events(client, headers) == []


def test_windows_1251_is_recognised_and_other_encodings_refused(client: TestClient,
                                                                as_role: Headers) -> None:
    headers = as_role(Role.operator)
    text = REGISTER.replace("Следы у реки", "Следы у реки (ёлка)")
    response = _post(client, headers, text.encode("cp1251"),
                     "default=stage%3Dactual&default=direction%3Dentry&dry_run=true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["valid"] == 3
    assert any("Windows-1251" in note for note in report["notes"])
    latin = b"type,occurred_at,lon,lat,description\n" + "Müller ß".encode("latin-1")
    refused = _post(client, headers, latin)
    assert refused.status_code == 422
    (problem,) = refused.json()["detail"]
    assert problem["loc"] == ["body"]
    assert problem["msg"].startswith("the file is not UTF-8 (byte 0xfc at offset")
    assert "cp1251" in problem["msg"]
    utf16 = _post(client, headers, "type,lon\n".encode("utf-16-le"))
    assert "NUL characters" in utf16.json()["detail"][0]["msg"]


def test_empty_header_only_and_huge_files(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.operator)
    empty = _post(client, headers, b"")
    assert empty.status_code == 422
    assert _problems(empty.json()["report"]) == [(1, "", "")]
    assert empty.json()["report"]["problems"][0]["reason"] == "the file is empty: no header row"
    header_only = _post(client, headers, "Вид;Дата;Долгота;Широта\r\n".encode(), "dry_run=true")
    assert header_only.status_code == 200
    assert "no data rows under the header" in header_only.json()["notes"]
    missing = _post(client, headers, "Описание;Долгота\nтекст;68\n".encode())
    assert missing.status_code == 422
    reasons = {p["column"]: p["reason"] for p in missing.json()["report"]["problems"]}
    assert set(reasons) == {"type", "occurred_at", "lat"}
    assert "name it in the mapping" in reasons["lat"]
    huge = _post(client, headers, b"x" * (MAX_FILE_BYTES + 1))
    assert huge.status_code == 413
    assert huge.json()["detail"][0]["msg"] == (
        f"the file has {MAX_FILE_BYTES + 1:,} bytes; the limit is {MAX_FILE_BYTES:,} (split it "
        "into several files)")


def _workbook(rows: list[list[Any]], title: str = "Журнал") -> bytes:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = title
    workbook.create_sheet("Пусто")
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_typed_cells_and_a_mapping(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.duty_officer)
    data = _workbook([
        ["№", "Когда", "X", "Y", "Что", "Статус", "Комментарий", "Вычислено"],
        [1, datetime(2021, 5, 1, 8, 0), 68.6, 37.22, "Наркотики", "Подтверждено",
         "из журнала заставы", "=1+1"],
        [2, datetime(2021, 5, 2, 9, 30), 70.8, 39.95, "Угон", "reported", None, None],
    ])
    mapping = {"columns": {"occurred_at": "Когда", "type": "Что", "description": "Комментарий"},
               "values": {"type": {"Наркотики": "drug_smuggling", "Угон": "stolen_vehicle"}},
               "defaults": {"substance": "opium", "quantity": "3", "unit": "kg",
                            "handling": "GREEN"},
               "sheet": "Журнал", "timezone": "+05:00"}
    response = client.post(IMPORTS, params={"mapping": json.dumps(mapping), "dry_run": "true"},
                           content=data, headers={**headers, "Content-Type": XLSX_MEDIA_TYPE})
    assert response.status_code == 200, response.text
    report = response.json()
    # Row 3 is a stolen vehicle: the drug defaults are not its details, but it lacks its own.
    assert [(p["row"], p["column"], p["reason"]) for p in report["problems"]] == [
        (3, "vehicle_kind", "is required for type stolen_vehicle")]
    assert "columns not recognised and ignored: №, Вычислено" in report["notes"]
    assert "read sheet 'Журнал' of 2" in report["notes"]
    response = client.post(IMPORTS, params={"mapping": json.dumps(mapping), "valid_only": "1"},
                           content=data, headers={**headers, "Content-Type": XLSX_MEDIA_TYPE})
    assert response.status_code == 201
    (event,) = _events(client, headers)
    assert (event["occurred_at"], event["status"], event["handling"]) == (
        "2021-05-01T03:00:00Z", "validated", "GREEN")
    assert event["description"] == "из журнала заставы"


def test_only_a_duty_officer_imports_validated_events(client: TestClient,
                                                      as_role: Headers) -> None:
    csv = "type,occurred_at,lon,lat,substance,quantity,unit,status\n" \
          "drug_smuggling,2021-03-01T10:00:00Z,68.6,37.22,opium,1,kg,validated\n"
    refused = _post(client, as_role(Role.operator), csv.encode())
    assert refused.status_code == 422
    (problem,) = refused.json()["report"]["problems"]
    assert (problem["column"], problem["reason"]) == (
        "status", "only a duty officer may import events as validated")
    assert _post(client, as_role(Role.duty_officer), csv.encode()).status_code == 201
    assert _post(client, as_role(Role.analyst), csv.encode()).status_code == 403
    assert client.post(IMPORTS, content=csv.encode()).status_code == 401


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("column=colour%3DЦвет", "'colour' is not a field that can be imported"),
        ("column=lon", "is not field=value"),
        ("timezone=Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("mapping=columns:%20[1,2]", "columns"),
        ("mapping=%7Bnot%20yaml", "not YAML or JSON"),
    ],
)
def test_bad_mappings_are_named(client: TestClient, as_role: Headers, query: str,
                                message: str) -> None:
    response = _post(client, as_role(Role.operator), b"type\n", query)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", "mapping"]
    assert message in problem["msg"]


def test_an_export_imports_again_unchanged(client: TestClient, as_role: Headers) -> None:
    """CSV and XLSX exports read back: same values, formula-looking text intact."""
    headers = as_role(Role.duty_officer)
    source = (
        "type,occurred_at,lon,lat,substance,quantity,unit,persons,modus_operandi,description\n"
        'drug_smuggling,2021-03-01T10:00:00Z,68.6,37.22,opium,1,kg,2 AF male adult; 1 TJ,'
        '"river_crossing, concealment_in_vehicle","=cmd|\' /C calc\'!A0 — «проверка»"\n'
        "drug_smuggling,2021-03-02T10:00:00Z,-3.7,40.4,heroin,0.5,kg,,,-1 кг\n"
    )
    assert _post(client, headers, source.encode()).status_code == 201
    original = sorted(_events(client, headers), key=lambda e: e["occurred_at"])
    for fmt, media in (("csv", "text/csv"), ("xlsx", XLSX_MEDIA_TYPE)):
        exported = client.get(f"/api/v1/exports/events?format={fmt}", headers=headers)
        assert exported.status_code == 200
        again = _post(client, headers, exported.content, "dry_run=true", media)
        assert again.status_code == 200, again.text
        assert (again.json()["valid"], again.json()["problems"]) == (2, [])
    assert _post(client, headers, client.get("/api/v1/exports/events?format=csv",
                                             headers=headers).content).status_code == 201
    copies = sorted(_events(client, headers), key=lambda e: (e["occurred_at"], e["recorded_at"]))
    keys = ("type", "occurred_at", "location", "details", "persons", "modus_operandi",
            "description", "impact_level", "confidence", "handling")
    for before, after in zip(original, copies[1::2], strict=True):
        assert {k: after[k] for k in keys} == {k: before[k] for k in keys}


def test_batches_report_progress(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sitcen.interop.event_import, "BATCH_SIZE", 2)
    lines = ["type,occurred_at,lon,lat,substance,quantity,unit"] + [
        f"drug_smuggling,2021-03-0{d}T10:00:00Z,68.6,37.22,opium,{d},kg" for d in range(1, 6)]
    seen: list[tuple[int, int]] = []
    report = import_events(node.engine, node.reporter, "\n".join(lines).encode(),
                           progress=lambda done, total: seen.append((done, total)))
    assert report.imported == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_mapping_documents() -> None:
    mapping = load_mapping("columns:\n  lon: Долгота\nsheet: 2019\ndefaults:\n"
                           "  information_credibility: 2\n")
    assert mapping == ColumnMapping(columns={"lon": "Долгота"}, sheet="2019",
                                    defaults={"information_credibility": "2"})
    with pytest.raises(MappingError, match="colums: Extra inputs are not permitted"):
        load_mapping('{"colums": {}}')
    with pytest.raises(MappingError, match="must be a mapping"):
        load_mapping("- a\n- b\n")


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"SITCEN_ENVIRONMENT": "test", "SITCEN_DATA_DIR": str(tmp_path),
            "SITCEN_DATABASE_URL": database_url, "SITCEN_NODE_ID": "tj-test-centre",
            "SITCEN_NODE_COUNTRY": "TJ"}


def test_cli_import_and_export(env: dict[str, str], tmp_path: Path) -> None:
    register = tmp_path / "журнал.csv"
    register.write_bytes(REGISTER.encode("cp1251"))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("defaults:\n  stage: actual\n  direction: entry\n"
                       "timezone: Asia/Dushanbe\n", encoding="utf-8")
    runner = CliRunner()
    dry = runner.invoke(main, ["import", "events", str(register), "--mapping", str(mapping),
                               "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "3 rows read, 3 valid, 0 problems; dry run, nothing imported" in dry.output
    assert "Windows-1251" in dry.output
    problems = tmp_path / "problems.csv"
    refused = runner.invoke(main, ["import", "events", str(register), "--report",
                                   str(problems)], env=env)
    assert refused.exit_code == 1
    assert "row 4, column 'stage': is required for type green_border_crossing" in refused.output
    assert problems.read_text(encoding="utf-8").splitlines()[:2] == [
        "row,column,value,reason", "4,stage,,is required for type green_border_crossing"]
    done = runner.invoke(main, ["import", "events", str(register), "--mapping", str(mapping)],
                         env=env)
    assert done.exit_code == 0, done.output
    assert "3 events imported" in done.output
    out = tmp_path / "events.geojson"
    exported = runner.invoke(main, ["export", "events", "--format", "geojson", "-o", str(out),
                                    "--type", "drug_smuggling", "--since", "2021-03-01"],
                             env=env)
    assert exported.exit_code == 0, exported.output
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["description"] for f in features} == {
        "Задержаны два курьера у Нижнего Пянджа",
        '=HYPERLINK("http://example.org") — текст из журнала'}
    bad = runner.invoke(main, ["export", "events", "-o", str(out), "--status", "lost"], env=env)
    assert bad.exit_code == 2
    assert "unknown value 'lost'" in bad.output
    since_now = datetime.now(UTC).isoformat()
    empty = runner.invoke(main, ["export", "events", "-o", "-", "--since", since_now], env=env)
    assert empty.exit_code == 0
    assert empty.stdout.startswith("id,origin,version,type")
