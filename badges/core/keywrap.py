"""Encrypt private key seeds at rest under a key-encryption key (AES-256-GCM)."""

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from badges.core.errors import KeyFormatError

NONCE_BYTES = 12


def new_kek() -> str:
    """Return a fresh 256-bit key-encryption key, base64url-encoded for a secrets file."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def parse_kek(text: str) -> bytes:
    """Decode a key-encryption key written by :func:`new_kek`."""
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise KeyFormatError("the key-encryption key is not base64url") from None
    if len(raw) != 32:
        raise KeyFormatError("the key-encryption key must be 32 bytes (AES-256)")
    return raw


def wrap(kek: bytes, secret: bytes, *, associated: bytes) -> bytes:
    """Return nonce ‖ AES-GCM(secret); ``associated`` binds it to its owner (the public key)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, secret, associated)


def unwrap(kek: bytes, blob: bytes, *, associated: bytes) -> bytes:
    """Decrypt a blob from :func:`wrap`; a wrong key or moved blob raises KeyFormatError."""
    try:
        return AESGCM(kek).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated)
    except (InvalidTag, ValueError):
        raise KeyFormatError("the signing key cannot be decrypted with this key-encryption key") from None
