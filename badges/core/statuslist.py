"""W3C Bitstring Status List: the compressed bitstring and its credential."""

import base64
import binascii
import gzip
import re
import zlib
from datetime import datetime
from typing import Any

from badges.core.contexts import VC_V2
from badges.core.dates import xsd_datetime
from badges.core.errors import StatusListError

#: Bitstring Status List §2.1: at least 16 KiB (131,072 entries) for group privacy.
MIN_ENTRIES = 131_072
#: A decompressed list larger than this is refused (a gzip bomb guard): 16 MiB = 134 M entries.
MAX_DECODED_BYTES = 16 * 1024 * 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def new_bitstring(entries: int = MIN_ENTRIES) -> bytearray:
    """Return an all-zero bitstring of ``entries`` bits (rounded up to whole bytes)."""
    if entries < MIN_ENTRIES:
        raise StatusListError(f"a status list has at least {MIN_ENTRIES} entries")
    return bytearray((entries + 7) // 8)


def set_bit(bits: bytearray, index: int, value: bool = True) -> None:
    """Set bit ``index`` (most significant bit of byte 0 is index 0, per the spec)."""
    _check_index(bits, index)
    mask = 0x80 >> (index % 8)
    if value:
        bits[index // 8] |= mask
    else:
        bits[index // 8] &= ~mask & 0xFF


def get_bit(bits: bytes, index: int) -> bool:
    """Return bit ``index`` of the bitstring."""
    _check_index(bits, index)
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def _check_index(bits: bytes, index: int) -> None:
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"status index {index} is outside the list")


def encode_list(bits: bytes) -> str:
    """Return ``encodedList``: multibase base64url (``u``) of the GZIP-compressed bitstring.

    ``mtime=0`` keeps the output byte-stable, so a list that has not changed signs the same.
    """
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str) -> bytes:
    """Decode an ``encodedList`` value, refusing anything that is not a sane status list.

    At most ``MAX_DECODED_BYTES + 1`` bytes are ever inflated, so a gzip bomb costs 16 MiB
    of memory, not what it claims to expand to.
    """
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList must be multibase base64url (starting with 'u')")
    body = encoded[1:]
    # The base64 module skips characters outside its alphabet and takes "+" and "/" even in
    # url-safe mode; a status list is exactly base64url without padding.
    if not _BASE64URL.fullmatch(body):
        raise StatusListError("encodedList is not base64url")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: a gzip header is required
        bits = inflater.decompress(compressed, MAX_DECODED_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error) as error:
        raise StatusListError(f"encodedList cannot be decoded: {error}") from None
    if len(bits) > MAX_DECODED_BYTES:
        raise StatusListError("the status list is implausibly large")
    if not inflater.eof or inflater.unused_data:
        # decompress() returns what it has for a truncated stream instead of failing.
        raise StatusListError("encodedList is not exactly one complete GZIP stream")
    if len(bits) < MIN_ENTRIES // 8:
        # Bitstring Status List §3.2 (STATUS_LIST_LENGTH_ERROR): short lists defeat herd privacy.
        raise StatusListError(f"a status list has at least {MIN_ENTRIES} entries")
    return bits


def build_status_list_credential(
    *, list_url: str, issuer: dict[str, Any] | str, bits: bytes, valid_from: datetime,
    purpose: str = "revocation",
) -> dict[str, Any]:
    """Return the unsigned ``BitstringStatusListCredential`` for ``bits``."""
    return {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": xsd_datetime(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(bits),
        },
    }
