"""Bad input never crashes the core: parsers, unbaking, the verifier and image cleaning raise only
their documented error types, whatever bytes or JSON they get (Hypothesis)."""

import copy
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_helpers import HOSTILE_SVGS, SVG, image_bytes, png_claiming

from badges import reader
from badges.core.baking import bake_png, bake_svg, sniff_format, unbake_png, unbake_svg
from badges.core.contexts import static_loader
from badges.core.errors import BakingError
from badges.core.images import ImageUploadError, clean_image
from badges.core.jwt import sign_jwt
from badges.core.keys import did_key, did_key_verification_method, private_key_from_seed
from badges.core.signing import create_proof
from badges.core.verification import VerificationResult, resolver_from_documents, verify_credential, verify_jwt

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "signed_credential.json"
SIGNED_AT = datetime(2025, 1, 3, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
KEY = private_key_from_seed(bytes(range(32)))
DID = did_key(KEY.public_key())
METHOD = did_key_verification_method(DID)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)


def _unsigned() -> dict[str, Any]:
    document = json.loads(GOLDEN.read_text(encoding="utf-8"))
    document.pop("proof")
    document.pop("credentialStatus", None)  # a did:key credential that verifies fully offline
    document["issuer"]["id"] = DID
    return document


SIGNED = create_proof(_unsigned(), KEY, verification_method=METHOD, created=SIGNED_AT, loader=static_loader())
JWT = sign_jwt(_unsigned(), KEY, kid=METHOD)
SIGNED_TEXT = json.dumps(SIGNED, ensure_ascii=False)
BAKED_PNG = bake_png(image_bytes("PNG"), SIGNED_TEXT)
BAKED_SVG = bake_svg(SVG, credential_json=SIGNED_TEXT).encode("utf-8")


def _verify(document: Any) -> VerificationResult:
    arguments = {"loader": static_loader(), "resolve_key": resolver_from_documents({}), "now": NOW}
    if isinstance(document, str):
        return verify_jwt(document, **arguments)
    return verify_credential(document, **arguments)


def test_the_samples_verify():
    assert _verify(SIGNED).verified and _verify(JWT).verified
    assert reader.parse_credential_bytes(BAKED_PNG)[0] == SIGNED
    assert reader.parse_credential_bytes(BAKED_SVG)[0] == SIGNED


@st.composite
def mutated(draw, original: bytes) -> bytes:  # noqa: ANN001
    """``original`` with a few bytes flipped, cut, inserted or repeated."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "repeat"]))
        if action == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[position:position + draw(st.integers(1, 64))]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif action == "truncate":
            del data[position:]
        else:
            data[position:position] = bytes(data[position:position + 32])
    return bytes(data)


# --- verify_credential / verify_jwt -----------------------------------------------------------


@FUZZ
@given(document=JSON)
def test_the_verifier_gives_a_result_for_any_json_value(document):
    assert not _verify(document).verified


@FUZZ
@given(data=st.data())
def test_the_verifier_gives_a_result_for_mutated_credentials(data):
    document = copy.deepcopy(SIGNED)
    member = data.draw(st.sampled_from(sorted(document)))
    document[member] = data.draw(JSON)
    result = _verify(document)
    assert isinstance(result, VerificationResult)


@FUZZ
@given(token=st.text(max_size=200) | st.from_regex(r"[A-Za-z0-9_\-]{0,40}\.[A-Za-z0-9_\-]{0,80}\.[A-Za-z0-9_\-]{0,90}"))
def test_jwt_verification_gives_a_result_for_any_text(token):
    assert not _verify(token).verified


@FUZZ
@given(header=JSON, payload=JSON, signature=st.binary(max_size=80))
def test_jwt_verification_gives_a_result_for_any_json_in_a_jwt(header, payload, signature):
    import base64

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    token = ".".join([part(json.dumps(header).encode()), part(json.dumps(payload).encode()), part(signature)])
    assert not _verify(token).verified


@FUZZ
@given(token=mutated(JWT.encode()))
def test_jwt_verification_gives_a_result_for_mutated_tokens(token):
    text = token.decode("utf-8", errors="replace")
    result = _verify(text)
    assert isinstance(result, VerificationResult)
    assert not result.verified or text.strip() == JWT


# --- reading files: sniffing, unbaking, parsing -------------------------------------------------


READABLE = (reader.ReadError,)


def _read(data: bytes) -> None:
    """Read ``data`` like ``badges verify`` and /verify do; only ReadError may escape."""
    try:
        credential, kind = reader.parse_credential_bytes(data)
    except READABLE:
        return
    assert kind in ("png", "svg", "json", "jwt", "png+jwt", "svg+jwt")
    assert isinstance(_verify(credential), VerificationResult)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_any_bytes_are_sniffed_and_read_or_refused(data):
    assert sniff_format(data) in ("png", "svg", "json", "jwt", "unknown")
    _read(data)


@FUZZ
@given(data=mutated(BAKED_PNG) | mutated(BAKED_SVG) | mutated(SIGNED_TEXT.encode()) | mutated(JWT.encode()))
def test_mutated_badges_are_read_or_refused(data):
    _read(data)


@FUZZ
@given(data=mutated(BAKED_PNG))
def test_unbake_png_raises_only_baking_errors(data):
    try:
        unbake_png(data)
    except BakingError:
        pass


@FUZZ
@given(data=mutated(BAKED_SVG))
def test_unbake_svg_raises_only_baking_errors(data):
    try:
        unbake_svg(data)
    except BakingError:
        pass


@pytest.mark.parametrize("nesting", [1_000, 100_000])
def test_deeply_nested_json_is_refused_not_crashed(nesting):
    nested = b'{"a":' + b"[" * nesting + b"]" * nesting + b"}"
    _read(nested)
    import base64

    payload = base64.urlsafe_b64encode(b"[" * nesting + b"]" * nesting).rstrip(b"=").decode()
    assert not _verify(f"eyJhbGciOiJFZERTQSJ9.{payload}.AAAA").verified


@pytest.mark.parametrize("name", sorted(HOSTILE_SVGS))
def test_hostile_svgs_are_refused_or_read_without_expanding_anything(name):
    data = HOSTILE_SVGS[name].encode()
    _read(data)
    try:
        unbake_svg(data)
    except BakingError as error:
        assert "lol" * 3 not in str(error) and "root:" not in str(error)


def test_a_compressed_text_bomb_in_a_png_is_refused():
    import struct

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    bomb = b"openbadges\x00\x01\x00\x00\x00" + zlib.compress(b"{" + b" " * 50_000_000, 9)
    png = image_bytes("PNG")
    data = png[:-12] + chunk(b"iTXt", bomb) + png[-12:]
    with pytest.raises(BakingError):
        unbake_png(data, keyword="openbadges")
    _read(data)


# --- cleaning uploaded images ------------------------------------------------------------------


SAMPLES = {fmt: image_bytes(fmt) for fmt in ("PNG", "JPEG", "GIF", "WEBP")}


def _clean(data: bytes) -> None:
    for purpose in ("badge", "logo", "photo"):
        try:
            clean_image(data, purpose=purpose)
        except ImageUploadError as error:
            assert error.code.startswith("image_")


@FUZZ
@given(data=st.binary(max_size=4096))
def test_image_cleaning_refuses_any_bytes_with_its_own_error(data):
    _clean(data)


@FUZZ
@given(data=st.sampled_from(sorted(SAMPLES)).flatmap(lambda fmt: mutated(SAMPLES[fmt])))
def test_image_cleaning_refuses_mutated_images_with_its_own_error(data):
    _clean(data)


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (12_001, 1), (7_000, 6_000), (0, 10)])
def test_decompression_bombs_are_refused_before_decoding(width, height):
    with pytest.raises(ImageUploadError) as refused:
        clean_image(png_claiming(width, height), purpose="photo")
    assert refused.value.code in ("image_too_many_pixels", "image_unreadable")


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_truncated_images_are_refused(fmt):
    data = image_bytes(fmt, (64, 64), noise=True)
    for cut in (8, 30, len(data) // 2, len(data) - 100):  # pixel data is missing at every cut
        with pytest.raises(ImageUploadError):
            clean_image(data[:cut], purpose="photo")


@pytest.mark.parametrize("name", sorted(HOSTILE_SVGS))
def test_svg_uploads_are_refused_as_svg(name):
    with pytest.raises(ImageUploadError) as refused:
        clean_image(HOSTILE_SVGS[name].encode(), purpose="badge")
    assert refused.value.code == "image_svg"
