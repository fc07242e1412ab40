"""Bitstring Status List: bits, encoding, hostile input and the signed list credential."""

import base64
import gzip
import json
import tracemalloc
import zlib

import pytest

from badges.core.contexts import VC_V2
from badges.core.errors import StatusListError
from badges.core.statuslist import (
    MAX_DECODED_BYTES,
    MIN_ENTRIES,
    build_status_list_credential,
    decode_list,
    encode_list,
    get_bit,
    new_bitstring,
    set_bit,
)


def encoded(raw: bytes) -> str:
    """Return ``raw`` as an encodedList value without going through encode_list."""
    return "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def test_new_bitstring_has_at_least_131072_entries():
    assert MIN_ENTRIES == 131_072
    assert len(new_bitstring()) == 16 * 1024
    assert len(new_bitstring(MIN_ENTRIES + 1)) == 16 * 1024 + 1
    with pytest.raises(StatusListError):
        new_bitstring(MIN_ENTRIES - 1)


def test_bits_are_most_significant_first():
    bits = new_bitstring()
    set_bit(bits, 0)
    set_bit(bits, 9)
    set_bit(bits, 15)
    assert bits[:2] == bytes([0b1000_0000, 0b0100_0001])
    assert [get_bit(bits, i) for i in range(16)] == [i in (0, 9, 15) for i in range(16)]


def test_set_bit_can_clear():
    bits = new_bitstring()
    set_bit(bits, 7)
    set_bit(bits, 6)
    set_bit(bits, 7, False)
    assert bits[0] == 0b0000_0010
    assert not get_bit(bits, 7)


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES, 10**12])
def test_index_outside_the_list_is_refused(index):
    bits = new_bitstring()
    with pytest.raises(StatusListError):
        get_bit(bits, index)
    with pytest.raises(StatusListError):
        set_bit(bits, index)


def test_encode_decode_round_trip():
    bits = new_bitstring()
    for index in (0, 1, 4095, 94_567, MIN_ENTRIES - 1):
        set_bit(bits, index)
    value = encode_list(bits)
    assert value.startswith("u")
    assert not set("=+/") & set(value)  # base64url without padding
    assert decode_list(value) == bytes(bits)


def test_encoding_is_deterministic_gzip():
    bits = new_bitstring()
    set_bit(bits, 12_345)
    value = encode_list(bits)
    assert value == encode_list(bytes(bits))
    raw = base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4))
    assert raw[:2] == b"\x1f\x8b"  # GZIP, as the spec requires (not bare zlib)
    assert raw[4:8] == b"\x00\x00\x00\x00"  # mtime 0: an unchanged list signs the same
    assert gzip.decompress(raw) == bytes(bits)


def test_gzip_bomb_is_refused_without_inflating_it():
    # 100 MiB of zeros compress to about 100 KiB.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(100)) + compressor.flush()
    assert len(bomb) < 200 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(StatusListError, match="large"):
            decode_list(encoded(bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_DECODED_BYTES, f"peak {peak} bytes while refusing a 100 MiB bomb"


def test_largest_allowed_list_decodes():
    bits = bytes(MAX_DECODED_BYTES)
    assert len(decode_list(encode_list(bits))) == MAX_DECODED_BYTES


@pytest.mark.parametrize(
    "value",
    [
        "",
        "H4sI",  # no multibase prefix
        "zH4sI",  # base58btc prefix
        "u!!!!",
        "uH4sI AAAA",  # white space: the base64 module would skip it
        "uH4sI+AAA",  # '+' belongs to standard base64, not base64url
        "u" + "A" * 5,  # impossible base64 length
        None,
        5,
    ],
)
def test_bad_encodings_are_refused(value):
    with pytest.raises(StatusListError):
        decode_list(value)


def test_zlib_stream_instead_of_gzip_is_refused():
    with pytest.raises(StatusListError):
        decode_list(encoded(zlib.compress(bytes(MIN_ENTRIES // 8))))


def test_truncated_gzip_is_refused():
    raw = gzip.compress(bytes(MIN_ENTRIES // 8), mtime=0)
    with pytest.raises(StatusListError, match="complete"):
        decode_list(encoded(raw[:-6]))


def test_trailing_data_after_gzip_is_refused():
    raw = gzip.compress(bytes(MIN_ENTRIES // 8), mtime=0)
    with pytest.raises(StatusListError, match="complete"):
        decode_list(encoded(raw + raw))


def test_too_short_list_is_refused():
    with pytest.raises(StatusListError, match="at least"):
        decode_list(encoded(gzip.compress(bytes(16), mtime=0)))


def test_status_list_credential_shape(demo):
    bits = new_bitstring()
    credential = build_status_list_credential(
        list_url=demo.status_list_url, issuer=demo.issuer_did, bits=bits, valid_from=demo.now
    )
    assert credential == {
        "@context": [VC_V2],
        "id": demo.status_list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": demo.issuer_did,
        "validFrom": "2025-01-02T03:04:05Z",
        "credentialSubject": {
            "id": f"{demo.status_list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_list(bits),
        },
    }


def test_signed_status_list_matches_golden_file(make_status_list, demo, golden):
    signed = make_status_list((3, demo.status_index, MIN_ENTRIES - 1))
    golden(
        "signed_status_list.json",
        json.dumps(signed, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
    )
