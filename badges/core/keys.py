"""Ed25519 keys and their encodings: Multikey (multibase base58btc), did:key, raw bytes."""

import re
from dataclasses import dataclass

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from badges.core.errors import KeyFormatError

#: Multicodec prefix of an Ed25519 public key (varint 0xed), as used by Multikey and did:key.
ED25519_PUB_PREFIX = b"\xed\x01"
#: We only decode keys (47 characters) and signatures (88): base58 decoding is quadratic in
#: the input length, so an attacker's megabyte-long proofValue must be refused unread.
MAX_MULTIBASE_CHARS = 256
#: Strictly the base58btc alphabet: the ``base58`` package would also strip trailing white space.
_BASE58BTC = re.compile(r"z[1-9A-HJ-NP-Za-km-z]*")


def multibase_encode(data: bytes) -> str:
    """Encode bytes as multibase base58btc (``z`` + base58 Bitcoin alphabet)."""
    return "z" + base58.b58encode(data).decode("ascii")


def multibase_decode(value: str) -> bytes:
    """Decode a multibase base58btc string."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise KeyFormatError("expected a multibase base58btc value starting with 'z'")
    if len(value) > MAX_MULTIBASE_CHARS:
        raise KeyFormatError("the multibase value is too long for a key or a signature")
    if not _BASE58BTC.fullmatch(value):
        raise KeyFormatError("invalid base58btc: a character outside the alphabet")
    return base58.b58decode(value[1:])


def public_key_multibase(key: Ed25519PublicKey) -> str:
    """Return the Multikey ``publicKeyMultibase`` (z6Mk…) of an Ed25519 public key."""
    return multibase_encode(ED25519_PUB_PREFIX + key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Parse a ``z6Mk…`` Multikey value into an Ed25519 public key."""
    raw = multibase_decode(value)
    if len(raw) != 34 or not raw.startswith(ED25519_PUB_PREFIX):
        raise KeyFormatError("not an Ed25519 Multikey (expected 0xed01 prefix and 32 key bytes)")
    try:
        return Ed25519PublicKey.from_public_bytes(raw[2:])
    except ValueError:  # a backend may reject bytes that are not a curve point
        raise KeyFormatError("not a valid Ed25519 public key") from None


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Return the Ed25519 private key for a 32-byte seed."""
    if len(seed) != 32:
        raise KeyFormatError("an Ed25519 seed is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key_seed(key: Ed25519PrivateKey) -> bytes:
    """Return the 32-byte seed of an Ed25519 private key (to be encrypted before storage)."""
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def did_key(key: Ed25519PublicKey) -> str:
    """Return the ``did:key`` identifier of an Ed25519 public key."""
    return "did:key:" + public_key_multibase(key)


def did_key_verification_method(did: str) -> str:
    """Return the verification method id of a did:key (the DID with its key as fragment)."""
    return f"{did}#{did.removeprefix('did:key:')}"


def public_key_from_did_key(did: str) -> Ed25519PublicKey:
    """Resolve a ``did:key:z6Mk…`` (with or without fragment) to its public key, offline."""
    identifier = did.split("#", 1)[0] if isinstance(did, str) else ""
    if not identifier.startswith("did:key:z6Mk"):
        raise KeyFormatError("only Ed25519 did:key identifiers are supported")
    return public_key_from_multibase(identifier.removeprefix("did:key:"))


def verify_signature(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """Return True when ``signature`` is a valid Ed25519 signature of ``message``."""
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class VerificationMethod:
    """A public key as a controller document publishes it (a Multikey)."""

    id: str
    controller: str
    public_key: Ed25519PublicKey
    #: False for a key that was listed but is not under ``assertionMethod``.
    assertion: bool = True

    def to_json(self) -> dict[str, str]:
        """Return the Multikey JSON object for a DID document."""
        return {
            "id": self.id,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": public_key_multibase(self.public_key),
        }
