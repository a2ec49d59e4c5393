"""Signed batches: round trip, and refusal of every forged, tampered, replayed, stale,
misaddressed, oversized or garbage envelope, always as an EnvelopeError with a reason."""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitcen.exchange.envelope import (
    SIGNING_CONTEXT,
    Batch,
    BatchHeader,
    EnvelopeError,
    EnvelopeTooLarge,
    ReplayGuard,
    encode_payload,
    open_envelope,
    read_limited,
    seal,
)
from sitcen.exchange.identity import NodeIdentity, b64url, b64url_decode

NOW = datetime(2026, 11, 29, 7, 0, 0, 123456, tzinfo=UTC)
POST = NodeIdentity.generate("kg-osh-post")
CENTRE = NodeIdentity.generate("kg-osh-rc")
PARTNER = NodeIdentity.generate("tj-khujand-rc")  # trusted by the centre too
STRANGER = NodeIdentity.generate("xx-stranger")  # trusted by nobody
TRUSTED: Mapping[str, Ed25519PublicKey] = {
    POST.node_id: POST.public_key,
    PARTNER.node_id: PARTNER.public_key,
}
REASONS = {
    "too_large", "malformed", "unknown_sender", "bad_signature", "wrong_receiver", "replayed",
    "stale", "unsupported_version", "record_invalid",
}


def record(
    origin: str = "kg-osh-post",
    provenance: list[str] | None = None,
    body: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kind": "event",
        "origin": origin,
        "id": str(uuid.uuid4()),
        "version": 1,
        "body": body if body is not None else {"category": "crossing", "persons": 3},
        "provenance": provenance if provenance is not None else [origin],
        **extra,
    }


def batch(records: list[dict[str, Any]] | None = None, **header: Any) -> Batch:
    fields: dict[str, Any] = {
        "sender": POST.node_id, "receiver": CENTRE.node_id, "first_seq": 1, "last_seq": 10,
        "created_at": NOW,
    }
    fields.update(header)
    records = [record(), record()] if records is None else records
    fields.setdefault("record_count", len(records))
    return Batch(BatchHeader(**fields), records)


def open_(data: bytes, guard: ReplayGuard | None = None, **kwargs: Any) -> Batch:
    options: dict[str, Any] = {
        "expected_receiver": CENTRE.node_id, "trusted_keys": TRUSTED, "now": NOW,
    }
    options.update(kwargs)
    return open_envelope(data, seen=guard if guard is not None else ReplayGuard(), **options)


def refused(data: bytes, guard: ReplayGuard | None = None, **kwargs: Any) -> EnvelopeError:
    with pytest.raises(EnvelopeError) as info:
        open_(data, guard, **kwargs)
    assert info.value.reason in REASONS
    return info.value


def signed(signer: NodeIdentity, payload: bytes, **outer: Any) -> bytes:
    """An envelope around any payload bytes, validly signed by ``signer`` (bypasses seal's
    checks, as a buggy or hostile peer would)."""
    fields: dict[str, Any] = {
        "protocol": 1, "sender": signer.node_id, "key": signer.public_key_text,
        "payload": b64url(payload), "signature": b64url(signer.sign(SIGNING_CONTEXT + payload)),
    }
    fields.update(outer)
    return orjson.dumps(fields)


# --- accepted --------------------------------------------------------------------------------


def test_round_trip() -> None:
    sent = batch()
    received = open_(seal(sent, POST))
    assert received == sent
    assert received.header.record_count == 2


def test_cyrillic_and_other_scripts_survive() -> None:
    body = {"summary": "Задержаны трое у Кызыл-Кии; саҳни ҳодиса — ўзбек тилида ҳам", "n": 3}
    sent = batch([record(body=body)])
    envelope = seal(sent, POST)
    assert open_(envelope).records[0]["body"] == body
    payload = b64url_decode(orjson.loads(envelope)["payload"])
    assert "Задержаны".encode() in payload  # UTF-8 in the payload, not \u escapes


def test_sealing_is_canonical() -> None:
    sent = batch()
    assert seal(sent, POST) == seal(sent, POST)
    payload = encode_payload(sent)
    assert payload == orjson.dumps(orjson.loads(payload), option=orjson.OPT_SORT_KEYS)


def test_empty_batch_moves_the_cursor() -> None:
    sent = batch([], first_seq=11, last_seq=500)
    assert open_(seal(sent, POST)).header.last_seq == 500


def test_relayed_record_is_accepted() -> None:
    relayed = record(origin="uz-termez-post", provenance=["uz-termez-post", "kg-osh-post"])
    assert open_(seal(batch([relayed]), POST)).records == [relayed]


def test_extra_record_fields_travel() -> None:
    sent = batch([record(handling="TLP:AMBER", onward_sharing=False)])
    assert open_(seal(sent, POST)).records[0]["handling"] == "TLP:AMBER"


# --- forged, tampered, wrong key --------------------------------------------------------------


def test_tampering_any_payload_byte_is_bad_signature() -> None:
    envelope = orjson.loads(seal(batch([record(body={"note": "Ош"})]), POST))
    payload = b64url_decode(envelope["payload"])
    for position in range(len(payload)):
        tampered = bytearray(payload)
        tampered[position] ^= 0x01
        envelope["payload"] = b64url(bytes(tampered))
        error = refused(orjson.dumps(envelope))
        assert error.reason == "bad_signature", position


def test_tampering_any_envelope_byte_is_refused() -> None:
    data = seal(batch([record()]), POST)
    for position in range(len(data)):
        tampered = bytearray(data)
        tampered[position] ^= 0x01
        refused(bytes(tampered))


def test_signature_of_another_key_is_bad_signature() -> None:
    impostor = NodeIdentity(POST.node_id, STRANGER.private_key)
    # The impostor's own key in the envelope: not the key agreed with kg-osh-post.
    assert refused(seal(batch(), impostor)).reason == "bad_signature"
    # The genuine key copied into the envelope, but the impostor's signature.
    forged = orjson.loads(seal(batch(), impostor))
    forged["key"] = POST.public_key_text
    error = refused(orjson.dumps(forged))
    assert error.reason == "bad_signature" and "does not verify" in error.message


def test_unknown_sender() -> None:
    own = [record(origin=STRANGER.node_id)]
    error = refused(seal(batch(own, sender=STRANGER.node_id), STRANGER))
    assert error.reason == "unknown_sender"


def test_forged_sender_id_inside_the_payload() -> None:
    # A trusted partner signs a batch that claims to come from the post.
    payload = encode_payload(batch())
    assert refused(signed(PARTNER, payload)).reason == "bad_signature"
    # ... or also claims the post's name outside, keeping its own key.
    assert refused(signed(PARTNER, payload, sender=POST.node_id)).reason == "bad_signature"


def test_signature_is_bound_to_the_batch_context() -> None:
    payload = encode_payload(batch())
    data = orjson.loads(signed(POST, payload))
    data["signature"] = b64url(POST.sign(payload))  # signed without the context prefix
    assert refused(orjson.dumps(data)).reason == "bad_signature"


# --- addressing, freshness, replay ------------------------------------------------------------


def test_wrong_receiver() -> None:
    error = refused(seal(batch(receiver="kz-almaty-nc"), POST))
    assert error.reason == "wrong_receiver"


def test_replay_is_refused() -> None:
    guard = ReplayGuard()
    data = seal(batch(), POST)
    open_(data, guard)
    assert refused(data, guard).reason == "replayed"
    # Later, once the window has passed, the same envelope is stale.
    assert refused(data, guard, now=NOW + timedelta(minutes=11)).reason == "stale"


def test_refused_batch_does_not_burn_its_id() -> None:
    guard = ReplayGuard()
    data = seal(batch(), POST)
    refused(data, guard, expected_receiver="kz-almaty-nc")
    open_(data, guard)


@pytest.mark.parametrize("offset", [timedelta(minutes=-11), timedelta(minutes=11)])
def test_stale_or_future_timestamp(offset: timedelta) -> None:
    data = seal(batch(created_at=NOW + offset), POST)
    assert refused(data).reason == "stale"
    open_(data, ReplayGuard(window=timedelta(minutes=15)))


def test_unsupported_version() -> None:
    data = orjson.loads(seal(batch(), POST))
    data["protocol"] = 2
    assert refused(orjson.dumps(data)).reason == "unsupported_version"


def test_replay_guard_persists_through_rows() -> None:
    guard = ReplayGuard()
    data = seal(batch(), POST)
    open_(data, guard)
    restored = ReplayGuard.from_rows(guard.to_rows())
    assert refused(data, restored).reason == "replayed"


def test_replay_guard_is_bounded() -> None:
    guard = ReplayGuard(max_per_sender=3)
    envelopes = [
        seal(batch(created_at=NOW - timedelta(seconds=10 - i)), POST) for i in range(5)
    ]
    for data in envelopes:
        open_(data, guard)
    assert len(guard) == 3
    for data in envelopes:  # forgotten or not, none can be replayed
        assert refused(data, guard).reason in {"replayed", "stale"}
    restored = ReplayGuard.from_rows(guard.to_rows(), max_per_sender=3)
    for data in envelopes:
        assert refused(data, restored).reason in {"replayed", "stale"}
    open_(seal(batch(), POST), guard)  # newer batches still pass


def test_replay_guard_forgets_what_can_no_longer_be_replayed() -> None:
    guard = ReplayGuard()
    open_(seal(batch(), POST), guard)
    guard.prune(NOW + timedelta(minutes=5))
    assert len(guard) == 1
    guard.prune(NOW + timedelta(minutes=11))
    assert len(guard) == 0


# --- the relay rule and record shape ----------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (record(origin="uz-termez-post"), "may relay only"),  # not received through the post
        (record(origin="uz-termez-post", provenance=["uz-termez-post", "kz-almaty-nc"]),
         "may relay only"),
        (record(origin="uz-termez-post", provenance=["kz-almaty-nc", "kg-osh-post"]),
         "not with the origin"),
        (record(provenance=["kg-osh-post", "tj-khujand-rc", "kg-osh-post"]), "twice"),
        (record(provenance=[]), "provenance"),
        (record(provenance="kg-osh-post"), "provenance"),  # type: ignore[arg-type]
        (record(version="1"), "version"),
        (record(version=0), "version"),
        (record(body=[1]), "body"),  # type: ignore[arg-type]
        (record(id=7), "'id'"),
        ({"kind": "event"}, "missing"),
        ("event", "must be an object"),
    ],
)
def test_record_rules(bad: Any, message: str) -> None:
    invalid = batch([record(), bad])
    error = refused(signed(POST, encode_payload(invalid)))
    assert error.reason == "record_invalid"
    assert "record 1" in error.message and message in error.message
    with pytest.raises(ValueError, match="record_invalid"):
        seal(invalid, POST)  # nor will a node send it


def test_seal_refuses_a_batch_of_another_sender() -> None:
    with pytest.raises(ValueError, match="not this node"):
        seal(batch(), PARTNER)


# --- garbage ------------------------------------------------------------------------------------


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


GOOD = orjson.loads(seal(batch(), POST))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b"[1, 2]",
        b"null",
        b"123",
        b'"text"',
        b"{}",
        orjson.dumps({**GOOD, "extra": 1}),
        orjson.dumps({k: v for k, v in GOOD.items() if k != "signature"}),
        orjson.dumps({**GOOD, "payload": 12}),
        orjson.dumps({**GOOD, "protocol": "1"}),
        orjson.dumps({**GOOD, "protocol": True}),
        orjson.dumps({**GOOD, "payload": "!!not base64!!"}),
        orjson.dumps({**GOOD, "signature": GOOD["signature"] + "A"}),
        orjson.dumps({**GOOD, "key": "ed25519:short"}),
        b'{"protocol": 1, "sender": 1' + b"9" * 5000 + b"}",
        b'{"protocol": 1e999}',
        _deep(100_000),
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
    ],
    ids=lambda data: f"{len(data)}-bytes",  # stable: some hold keys made at import
)
def test_garbage_envelope_is_malformed(data: bytes) -> None:
    assert refused(data).reason == "malformed"


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"[]",
        b'{"header": {}, "records": []}',
        _deep(5000),
        orjson.dumps({"header": {**orjson.loads(encode_payload(batch()))["header"],
                                 "record_count": 99}, "records": []}),
        encode_payload(batch(first_seq=10, last_seq=1)),
        encode_payload(batch(first_seq=-1)),
        encode_payload(batch(last_seq=2**64 - 1)),
        encode_payload(batch(receiver="Not An Id")),
        encode_payload(batch()).replace(b'"records":[', b'"records":{"x":[') + b"}",
    ],
    ids=lambda payload: f"{len(payload)}-bytes",  # stable: some hold ids made at import
)
def test_signed_garbage_payload_is_malformed(payload: bytes) -> None:
    assert refused(signed(POST, payload)).reason == "malformed"


def test_signed_payload_with_bad_header_values_is_malformed() -> None:
    header = orjson.loads(encode_payload(batch()))["header"]
    for name, value in [
        ("batch_id", "not-a-uuid"), ("batch_id", str(uuid.uuid4()).upper()), ("batch_id", 5),
        ("created_at", "2026-11-29 07:00:00"), ("created_at", "2026-02-30T07:00:00Z"),
        ("created_at", "2026-11-29T07:00:00+05:00"), ("first_seq", 1.5), ("first_seq", True),
        ("sender", None), ("protocol", "1"),
    ]:
        payload = orjson.dumps({"header": {**header, name: value}, "records": []})
        error = refused(signed(POST, payload))
        assert error.reason in {"malformed", "bad_signature"}, (name, value)


# --- size ---------------------------------------------------------------------------------------


def test_100_mb_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parsing(_: bytes) -> Any:
        raise AssertionError("an oversized envelope must not be parsed")

    monkeypatch.setattr(orjson, "loads", no_parsing)
    huge = b"{" * (100 * 1024 * 1024)
    error = refused(huge)
    assert error.reason == "too_large"
    del huge


class _Endless(io.RawIOBase):
    """A stream that would send 100 MB, handing out what is asked for."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        self.largest_read = max(self.largest_read, size)
        size = min(size, self.left)
        self.left -= size
        return b"x" * size


def test_read_limited_stops_early() -> None:
    stream = _Endless(100 * 1024 * 1024)
    with pytest.raises(EnvelopeTooLarge):
        read_limited(stream, max_bytes=4 * 1024 * 1024)
    assert stream.left >= 95 * 1024 * 1024  # stopped after about 4 MB
    assert 0 < stream.largest_read <= 1024 * 1024


def test_read_limited_reads_a_whole_envelope() -> None:
    data = seal(batch(), POST)
    assert read_limited(io.BytesIO(data), max_bytes=len(data)) == data
    with pytest.raises(EnvelopeTooLarge):
        read_limited(io.BytesIO(data), max_bytes=len(data) - 1)


def test_custom_limit() -> None:
    data = seal(batch(), POST)
    assert refused(data, max_bytes=len(data) - 1).reason == "too_large"
    open_(data, max_bytes=len(data))


# --- fuzzing: only EnvelopeError, ever ----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
header_names = st.sampled_from(sorted(
    ["protocol", "sender", "receiver", "first_seq", "last_seq", "batch_id", "created_at",
     "record_count", "other"]
))
node_ids = st.sampled_from(["kg-osh-post", "tj-khujand-rc", "kg-osh-rc", "x", "Z z"])
field_values = json_values | node_ids | st.just(str(uuid.uuid4())) | st.just(
    "2026-11-29T07:00:00Z"
)
records_strategy = st.lists(
    st.dictionaries(
        st.sampled_from(["kind", "origin", "id", "version", "body", "provenance", "x"]),
        field_values | st.lists(node_ids, max_size=3),
        max_size=7,
    )
    | json_values,
    max_size=3,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _accepted_or_refused(data: bytes) -> None:
    try:
        open_(data)
    except EnvelopeError as exc:
        assert exc.reason in REASONS


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _accepted_or_refused(data)


@FUZZ
@given(json_values)
def test_random_json(value: Any) -> None:
    _accepted_or_refused(orjson.dumps(value))


@FUZZ
@given(st.dictionaries(st.sampled_from([*sorted(GOOD), "x"]), field_values | st.sampled_from(
    list(GOOD.values())), max_size=6))
def test_random_envelope_fields(fields: dict[str, Any]) -> None:
    _accepted_or_refused(orjson.dumps(fields))


@FUZZ
@given(st.dictionaries(header_names, field_values, max_size=9), records_strategy)
def test_random_signed_payloads(header: dict[str, Any], records: Any) -> None:
    payload = orjson.dumps({"header": header, "records": records})
    _accepted_or_refused(signed(POST, payload))


VALID_HEADER = orjson.loads(encode_payload(batch()))["header"]


def _mutated(base: dict[str, Any], names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with at most one field replaced by an odd value and at most one removed."""
    return st.tuples(
        st.dictionaries(st.sampled_from(names), field_values | st.lists(node_ids, max_size=3),
                        max_size=1),
        st.none() | st.sampled_from(names),
    ).map(lambda change: {k: v for k, v in {**base, **change[0]}.items() if k != change[1]})


@FUZZ
@given(
    _mutated(VALID_HEADER, sorted(VALID_HEADER)),
    st.lists(_mutated(record(), ["kind", "origin", "id", "version", "body", "provenance"]),
             max_size=3),
    st.booleans(),
)
def test_nearly_valid_signed_payloads(
    header: dict[str, Any], records: list[dict[str, Any]], count_right: bool
) -> None:
    if count_right:
        header["record_count"] = len(records)
    _accepted_or_refused(signed(POST, orjson.dumps({"header": header, "records": records})))
