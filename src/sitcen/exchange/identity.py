"""A node's identity: its id and its Ed25519 key pair.

Nodes trust each other by exchanging public keys out of band (a phone call,
a signed letter, a meeting) and reading the :attr:`NodeIdentity.fingerprint`
aloud to confirm the key arrived intact. Batches between nodes are signed with
the sender's private key (see :mod:`sitcen.exchange.envelope`).

On disk an identity is a directory holding three files:

``node.key``  the private key, PEM (PKCS #8, unencrypted), mode 0600
``node.pub``  the public key as text, ``ed25519:<base64url of the 32 raw bytes>``
``node.id``   the node id
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sitcen.settings import NODE_ID_PATTERN

KEY_FILE = "node.key"
PUBLIC_KEY_FILE = "node.pub"
NODE_ID_FILE = "node.id"
KEY_PREFIX = "ed25519:"

_RAW_KEY_B64 = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url without padding


class IdentityError(ValueError):
    """An identity cannot be created, stored or loaded, or a key parsed; the message says why."""


class IdentityExistsError(IdentityError):
    """A key is already stored where a new one would be written."""


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 4648 §5), the text form of keys and signatures."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url`: only the one canonical encoding of some bytes is read
    (no padding, no stray characters, unused bits zero), so encoded text cannot be altered
    without altering the bytes."""
    # Checked without a regex and a re-encoding of the whole text: a catch-up batch's
    # payload is megabytes long, and those two passes cost more than the decoding.
    if len(text) % 4 == 1 or not text.isascii():
        raise ValueError("not base64url text")
    raw = text.encode("ascii")
    if b"+" in raw or b"/" in raw or b"=" in raw:
        raise ValueError("not base64url text")
    try:
        data = binascii.a2b_base64(raw.translate(_TO_STANDARD) + b"=" * (-len(raw) % 4),
                                   strict_mode=True)
    except binascii.Error as exc:
        raise ValueError("not base64url text") from exc
    if text and _B64URL.index(text[-1]) & _UNUSED_BITS[len(text) % 4]:
        raise ValueError("not canonical base64url text")
    return data


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
# The bits of the last character that carry no data, by the text's length modulo 4.
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """``ed25519:<base64url of the 32 raw bytes>``."""
    return KEY_PREFIX + b64url(public_key.public_bytes_raw())


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """The first 128 bits of SHA-256 of the raw key, hex in groups of four, to read aloud."""
    digest = hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def parse_public_key(text: str) -> Ed25519PublicKey:
    """Read a key written as ``ed25519:<base64url>``; :class:`IdentityError` names the fault."""
    if not isinstance(text, str):
        raise IdentityError("a public key must be text like 'ed25519:<base64url>'")
    text = text.strip()
    if not text.startswith(KEY_PREFIX):
        raise IdentityError(
            f"public key must start with {KEY_PREFIX!r} (only Ed25519 keys are used), "
            f"got {text[:16]!r}"
        )
    encoded = text[len(KEY_PREFIX) :]
    if not _RAW_KEY_B64.fullmatch(encoded):
        raise IdentityError(
            "public key must be 43 base64url characters (32 bytes) after 'ed25519:', "
            f"got {len(encoded)} characters"
        )
    try:
        raw = b64url_decode(encoded)
    except ValueError as exc:
        raise IdentityError(f"public key text is not canonical base64url: {exc}") from None
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - any 32 bytes are accepted by cryptography
        raise IdentityError(f"not an Ed25519 public key: {exc}") from exc


def verify(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of exactly ``data``."""
    try:
        public_key.verify(signature, data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def check_node_id(node_id: str) -> str:
    """Return ``node_id`` if it has the shape of a node id, else raise :class:`IdentityError`."""
    if not isinstance(node_id, str) or not NODE_ID_PATTERN.fullmatch(node_id):
        raise IdentityError(
            f"node id must be 2-63 lowercase letters, digits or '-', got {node_id!r}"
        )
    return node_id


@dataclass(frozen=True)
class NodeIdentity:
    """This node's id and key pair. Keep the private key on the node; give out the public text."""

    node_id: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, node_id: str) -> NodeIdentity:
        """A fresh key pair for ``node_id``."""
        return cls(check_node_id(node_id), Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_key_text(self) -> str:
        """``ed25519:<base64url>``, what a peer enters with ``sitcen peer add``."""
        return public_key_text(self.public_key)

    @property
    def fingerprint(self) -> str:
        """Short hash of the public key, read aloud when keys are exchanged out of band."""
        return fingerprint(self.public_key)

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature (64 bytes) of exactly ``data``."""
        return self.private_key.sign(data)

    def save(self, directory: Path | str, *, overwrite: bool = False) -> None:
        """Write the identity files into ``directory`` (created 0700 if missing).

        The private key is written to a temporary file created with mode 0600 and
        renamed into place, so it is never readable by others, not even briefly.
        An existing key is kept unless ``overwrite`` is true.
        """
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_path = directory / KEY_FILE
        if key_path.exists() and not overwrite:
            raise IdentityExistsError(
                f"{key_path} already holds a node key; refusing to replace it "
                "(peers trust that key: replacing it breaks every link)"
            )
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_file(key_path, pem, mode=0o600)
        _write_file(directory / PUBLIC_KEY_FILE, (self.public_key_text + "\n").encode(), mode=0o644)
        _write_file(directory / NODE_ID_FILE, (self.node_id + "\n").encode(), mode=0o644)

    @classmethod
    def load(cls, directory: Path | str) -> NodeIdentity:
        """Read the identity saved in ``directory``.

        Refuses a key file that group or others may read or write, and a public
        key file that does not match the private key.
        """
        directory = Path(directory)
        key_path = directory / KEY_FILE
        try:
            mode = key_path.stat().st_mode
        except FileNotFoundError:
            raise IdentityError(f"no node key at {key_path}; run 'sitcen init' first") from None
        if os.name == "posix" and mode & 0o077:
            raise IdentityError(
                f"{key_path} is accessible by group or others "
                f"(mode {stat.S_IMODE(mode):04o}); run 'chmod 600 {key_path}' and check "
                "whether the key may have been copied"
            )
        try:
            private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise IdentityError(f"{key_path} is not an unencrypted PEM private key") from exc
        if not isinstance(private_key, Ed25519PrivateKey):
            raise IdentityError(f"{key_path} holds a key that is not Ed25519")
        try:
            node_id = (directory / NODE_ID_FILE).read_text(encoding="utf-8").strip()
            stored_public = (directory / PUBLIC_KEY_FILE).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise IdentityError(
                f"identity in {directory} is incomplete: {exc.filename} missing"
            ) from None
        identity = cls(check_node_id(node_id), private_key)
        if parse_public_key(stored_public).public_bytes_raw() != (
            identity.public_key.public_bytes_raw()
        ):
            raise IdentityError(
                f"{directory / PUBLIC_KEY_FILE} does not match the private key in {key_path}"
            )
        return identity


def init_identity(directory: Path | str, node_id: str, *, overwrite: bool = False) -> NodeIdentity:
    """Generate and save this node's identity (``sitcen init``); an existing key is kept
    (:class:`IdentityExistsError`) unless ``overwrite`` is true."""
    identity = NodeIdentity.generate(node_id)
    identity.save(directory, overwrite=overwrite)
    return identity


def _write_file(path: Path, content: bytes, *, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # the umask may have removed bits we want, never added any
        file.write(content)
        file.flush()
        os.fsync(fd)
    os.replace(tmp, path)
