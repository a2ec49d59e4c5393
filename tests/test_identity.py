"""Node identity: key pairs on disk, public key text, fingerprints, signatures."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitcen.exchange.identity import (
    KEY_FILE,
    NODE_ID_FILE,
    PUBLIC_KEY_FILE,
    IdentityError,
    IdentityExistsError,
    NodeIdentity,
    b64url,
    b64url_decode,
    init_identity,
    parse_public_key,
    verify,
)


def test_save_load_round_trip(tmp_path: Path) -> None:
    identity = NodeIdentity.generate("kg-osh-post")
    identity.save(tmp_path / "identity")
    loaded = NodeIdentity.load(tmp_path / "identity")
    assert loaded.node_id == "kg-osh-post"
    assert loaded.public_key_text == identity.public_key_text
    signature = loaded.sign(b"report")
    assert verify(identity.public_key, b"report", signature)


def test_files_on_disk(tmp_path: Path) -> None:
    identity = init_identity(tmp_path, "tj-khujand-rc")
    key_mode = stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode)
    assert key_mode == 0o600
    assert (tmp_path / KEY_FILE).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    public_text = (tmp_path / PUBLIC_KEY_FILE).read_text().strip()
    assert public_text == identity.public_key_text
    assert len(b64url_decode(public_text.removeprefix("ed25519:"))) == 32
    assert (tmp_path / NODE_ID_FILE).read_text().strip() == "tj-khujand-rc"
    assert not list(tmp_path.glob("*.tmp"))


def test_key_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        init_identity(tmp_path, "kz-almaty-nc")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o602])
def test_load_refuses_a_key_others_can_reach(tmp_path: Path, mode: int) -> None:
    init_identity(tmp_path, "uz-termez-post")
    (tmp_path / KEY_FILE).chmod(mode)
    with pytest.raises(IdentityError, match="chmod 600"):
        NodeIdentity.load(tmp_path)


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    first = init_identity(tmp_path, "tm-ashgabat-nc")
    with pytest.raises(IdentityExistsError, match="refusing to replace"):
        init_identity(tmp_path, "tm-ashgabat-nc")
    assert NodeIdentity.load(tmp_path).public_key_text == first.public_key_text
    second = init_identity(tmp_path, "tm-ashgabat-nc", overwrite=True)
    assert second.public_key_text != first.public_key_text
    assert NodeIdentity.load(tmp_path).public_key_text == second.public_key_text


def test_load_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="sitcen init"):
        NodeIdentity.load(tmp_path)
    init_identity(tmp_path, "kg-bishkek-nc")
    other = NodeIdentity.generate("kg-bishkek-nc")
    (tmp_path / PUBLIC_KEY_FILE).write_text(other.public_key_text + "\n")
    with pytest.raises(IdentityError, match="does not match"):
        NodeIdentity.load(tmp_path)
    (tmp_path / KEY_FILE).write_bytes(b"not a key")
    with pytest.raises(IdentityError, match="PEM"):
        NodeIdentity.load(tmp_path)


def test_node_id_is_checked() -> None:
    with pytest.raises(IdentityError, match="node id"):
        NodeIdentity.generate("Bad Node!")


def test_public_key_text_round_trip() -> None:
    identity = NodeIdentity.generate("kg-osh-post")
    text = identity.public_key_text
    assert text.startswith("ed25519:") and len(text) == len("ed25519:") + 43
    parsed = parse_public_key(f"  {text}\n")
    assert parsed.public_bytes_raw() == identity.public_key.public_bytes_raw()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must start with"),
        ("rsa:AAAA", "must start with"),
        ("ed25519:", "43 base64url"),
        ("ed25519:" + "A" * 42, "43 base64url"),
        ("ed25519:" + "A" * 44, "43 base64url"),
        ("ed25519:" + "+" * 43, "43 base64url"),
        ("ed25519:" + "Ж" * 43, "43 base64url"),
    ],
)
def test_parse_public_key_errors(text: str, message: str) -> None:
    with pytest.raises(IdentityError, match=message):
        parse_public_key(text)


def test_fingerprint_reads_aloud() -> None:
    identity = NodeIdentity.generate("kg-osh-post")
    groups = identity.fingerprint.split(" ")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    assert all(c in "0123456789abcdef" for g in groups for c in g)
    assert NodeIdentity.generate("kg-osh-post").fingerprint != identity.fingerprint


def test_verify() -> None:
    identity = NodeIdentity.generate("kg-osh-post")
    other = NodeIdentity.generate("kg-osh-post")
    signature = identity.sign(b"data")
    assert verify(identity.public_key, b"data", signature)
    assert not verify(identity.public_key, b"datA", signature)
    assert not verify(other.public_key, b"data", signature)
    assert not verify(identity.public_key, b"data", signature[:-1])
    assert not verify(identity.public_key, b"data", b"")


@given(st.binary(max_size=64))
def test_base64url_round_trips(data: bytes) -> None:
    assert b64url_decode(b64url(data)) == data


@pytest.mark.parametrize("text", [
    "QUJD=",      # padding
    "QUI=",
    "QU+C",       # the standard alphabet's characters
    "QU/C",
    "QUJ",        # QUI is the canonical form of b"AB": J sets an unused bit
    "QR",         # QQ is b"A": R sets an unused bit
    "Q",          # no whole byte
    "QUJD\n",    # stray characters
    "QU JD",
    "QUJé",
])
def test_base64url_reads_only_the_canonical_form(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)
