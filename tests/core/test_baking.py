"""Tests for baking credentials into PNG and SVG images (OB 3.0 §Baked Badge)."""

import io
import json
import struct
import zlib
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from badges.core.baking import (
    CredentialNotFoundError,
    DuplicateCredentialError,
    ImageTooLargeError,
    MalformedImageError,
    UnsafeSvgError,
    bake_png,
    bake_svg,
    find_png_keywords,
    sniff_format,
    unbake_png,
    unbake_svg,
    unbake_svg_ob2,
)
from badges.core.errors import BakingError

OB3 = "https://purl.imsglobal.org/ob/v3p0"
CREDENTIAL = json.dumps(
    {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Työturvallisuus: trukin käyttö, ääkköset å Å ö 🎓",
    },
    ensure_ascii=False,
)
JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJkaWQ6a2V5OnoifQ.c2lnbmF0dXJl"
SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<!-- Osaamispassi badge art -->\n"
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" data-x="a>b">\n'
    '  <circle cx="32" cy="32" r="30" fill="#0a5"/>\n'
    "</svg>\n"
)


def make_png(info: PngInfo | None = None) -> bytes:
    """Return a small RGBA PNG written by Pillow, optionally with text chunks."""
    out = io.BytesIO()
    Image.new("RGBA", (6, 4), (0, 90, 160, 255)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def chunk(chunk_type: bytes, data: bytes) -> bytes:
    """Build one PNG chunk by hand (length, type, data, CRC)."""
    crc = zlib.crc32(chunk_type + data)
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def itxt(keyword: bytes, text: bytes, *, flag: int = 0) -> bytes:
    return chunk(b"iTXt", keyword + b"\x00" + bytes([flag, 0]) + b"\x00\x00" + text)


def insert_before_iend(png: bytes, *chunks: bytes) -> bytes:
    iend = len(png) - 12  # Pillow writes nothing after the 12-byte IEND chunk
    assert png[iend + 4 : iend + 8] == b"IEND"
    return png[:iend] + b"".join(chunks) + png[iend:]


def parse_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, data) pairs without the code under test."""
    pos, chunks = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        chunks.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


PNG = make_png()
BAKED_PNG = bake_png(PNG, CREDENTIAL)


# --- PNG baking ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [CREDENTIAL, JWT], ids=["json", "jwt"])
def test_unbake_png_returns_what_was_baked(text):
    assert unbake_png(bake_png(PNG, text)) == text


def test_bake_png_keeps_original_chunks_byte_identical():
    iend = len(PNG) - 12
    assert BAKED_PNG[:iend] == PNG[:iend]
    assert BAKED_PNG.endswith(PNG[iend:])


def test_baked_png_opens_in_pillow_with_the_credential_text():
    with Image.open(io.BytesIO(BAKED_PNG)) as image:
        image.load()
        assert image.size == (6, 4)
        assert image.text == {"openbadgecredential": CREDENTIAL}


def test_bake_png_writes_one_uncompressed_itxt_chunk_just_before_iend():
    chunks = parse_chunks(BAKED_PNG)
    assert [c for c in chunks if c[0] in (b"iTXt", b"tEXt", b"zTXt")] == [chunks[-2]]
    # keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated NUL
    assert chunks[-2] == (b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00" + CREDENTIAL.encode())
    assert chunks[-1] == (b"IEND", b"")


def test_bake_png_refuses_an_already_baked_image():
    with pytest.raises(DuplicateCredentialError, match="already carries") as excinfo:
        bake_png(BAKED_PNG, CREDENTIAL)
    assert excinfo.value.code == "duplicate_credential"


@pytest.mark.parametrize(
    "png",
    [
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",  # JPEG
        PNG[:8] + chunk(b"IDAT", b"") + PNG[8:],  # IHDR not first
        PNG[:-12],  # no IEND
    ],
    ids=["jpeg", "ihdr-not-first", "no-iend"],
)
def test_bake_png_refuses_invalid_png(png):
    with pytest.raises(MalformedImageError):
        bake_png(png, CREDENTIAL)


@pytest.mark.parametrize("keyword", ["", "x" * 80, " lead", "two  spaces", "tab\there"])
def test_bake_png_rejects_invalid_keyword(keyword):
    with pytest.raises(ValueError, match="keyword"):
        bake_png(PNG, CREDENTIAL, keyword=keyword)


def test_find_png_keywords_lists_text_chunks_in_file_order():
    info = PngInfo()
    info.add_text("Title", "Trukkikortti")
    info.add_text("Comment", "pakattu", zip=True)
    assert find_png_keywords(bake_png(make_png(info), JWT)) == [
        "Title",
        "Comment",
        "openbadgecredential",
    ]


# --- PNG unbaking errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64, SVG.encode()],
    ids=["empty", "text", "jpeg", "svg"],
)
def test_unbake_png_rejects_non_png(data):
    with pytest.raises(MalformedImageError, match="not a PNG") as excinfo:
        unbake_png(data)
    assert excinfo.value.code == "malformed_image"


@pytest.mark.parametrize("cut", [8, 12, 20, 33, -len(CREDENTIAL), -13, -12, -1])
def test_unbake_png_rejects_truncated_file(cut):
    with pytest.raises(MalformedImageError, match="truncated"):
        unbake_png(BAKED_PNG[:cut])


@pytest.mark.parametrize("offset", [-20, 40], ids=["in-credential", "in-image-data"])
def test_unbake_png_rejects_bad_crc(offset):
    corrupt = bytearray(BAKED_PNG)
    corrupt[offset] ^= 0x01
    with pytest.raises(MalformedImageError, match="bad CRC"):
        unbake_png(bytes(corrupt))


def test_unbake_png_rejects_two_credential_chunks():
    twice = [itxt(b"openbadgecredential", b"{}"), itxt(b"openbadgecredential", b"[]")]
    png = insert_before_iend(PNG, *twice)
    with pytest.raises(DuplicateCredentialError, match="appears 2 times"):
        unbake_png(png)


def test_unbake_png_says_plain_image_holds_no_credential():
    with pytest.raises(CredentialNotFoundError, match="no Open Badges 3.0 credential") as excinfo:
        unbake_png(PNG)
    assert excinfo.value.code == "credential_not_found"


def test_unbake_png_tells_an_ob2_badge_from_an_ob3_one():
    info = PngInfo()
    info.add_itxt("openbadges", '{"type": "Assertion"}')
    ob2 = make_png(info)
    with pytest.raises(CredentialNotFoundError, match=r"no Open Badges 3\.0.*Open Badges 2\.0"):
        unbake_png(ob2)
    assert find_png_keywords(ob2) == ["openbadges"]


@pytest.mark.parametrize(
    "add",
    [
        lambda info, text: info.add_itxt("openbadges", text),
        lambda info, text: info.add_itxt("openbadges", text, zip=True),
        lambda info, text: info.add_text("openbadges", text),
        lambda info, text: info.add_text("openbadges", text, zip=True),
    ],
    ids=["itxt", "compressed-itxt", "text", "ztxt"],
)
def test_unbake_png_reads_legacy_ob2_chunks(add):
    info = PngInfo()
    add(info, "https://example.org/assertions/1")
    assert unbake_png(make_png(info), keyword="openbadges") == "https://example.org/assertions/1"


def test_unbake_png_refuses_compressed_ob3_chunk():
    info = PngInfo()
    info.add_itxt("openbadgecredential", CREDENTIAL, zip=True)
    with pytest.raises(MalformedImageError, match="compressed"):
        unbake_png(make_png(info))


def test_unbake_png_refuses_ob3_keyword_in_a_text_chunk():
    info = PngInfo()
    info.add_text("openbadgecredential", "{}")
    with pytest.raises(MalformedImageError, match="requires an uncompressed iTXt"):
        unbake_png(make_png(info))


def test_unbake_png_refuses_invalid_utf8():
    png = insert_before_iend(PNG, itxt(b"openbadgecredential", b'{"name": "\xe4"}'))
    with pytest.raises(MalformedImageError, match="UTF-8"):
        unbake_png(png)


def test_unbake_png_refuses_input_over_max_bytes():
    with pytest.raises(ImageTooLargeError) as excinfo:
        unbake_png(BAKED_PNG, max_bytes=len(BAKED_PNG) - 1)
    assert excinfo.value.code == "image_too_large"
    with pytest.raises(ImageTooLargeError):
        unbake_png(PNG[:8] + bytes(10 * 1024 * 1024))


@pytest.mark.parametrize(
    "text_chunk",
    [chunk(b"zTXt", b"openbadges\x00\x00not zlib"), itxt(b"openbadges", b"not zlib", flag=1)],
    ids=["ztxt", "itxt"],
)
def test_unbake_png_rejects_corrupt_compressed_legacy_chunk(text_chunk):
    with pytest.raises(MalformedImageError, match="compressed text chunk is corrupt"):
        unbake_png(insert_before_iend(PNG, text_chunk), keyword="openbadges")


def test_unbake_png_refuses_legacy_decompression_bomb():
    bomb = zlib.compress(b"{" * 2_000_000)
    png = insert_before_iend(PNG, itxt(b"openbadges", bomb, flag=1))
    with pytest.raises(ImageTooLargeError, match="decompressed"):
        unbake_png(png, keyword="openbadges", max_bytes=1_000_000)


# --- PNG properties --------------------------------------------------------------------------


@given(st.text())
def test_unbake_png_inverts_bake_png_for_any_text(text):
    assert unbake_png(bake_png(PNG, text)) == text


def _assert_only_baking_errors(data: bytes, keyword: str) -> None:
    try:
        result = unbake_png(data, keyword=keyword)
    except BakingError:
        return
    assert isinstance(result, str)


@given(
    st.one_of(st.binary(), st.binary().map(lambda tail: PNG[:8] + tail)),
    st.sampled_from(["openbadgecredential", "openbadges"]),
)
def test_unbake_png_raises_only_baking_errors_on_arbitrary_bytes(data, keyword):
    _assert_only_baking_errors(data, keyword)


@given(st.data())
def test_unbake_png_raises_only_baking_errors_on_mutated_baked_png(data):
    mutated = bytearray(BAKED_PNG)
    for _ in range(data.draw(st.integers(1, 4))):
        mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(mutated)))
    _assert_only_baking_errors(bytes(mutated[:cut]), "openbadgecredential")


@given(
    st.sampled_from([b"iTXt", b"tEXt", b"zTXt"]),
    st.sampled_from([b"openbadgecredential", b"openbadges"]),
    st.binary(),
)
def test_unbake_png_raises_only_baking_errors_on_arbitrary_text_chunks(chunk_type, keyword, body):
    # Valid CRCs, so the text-chunk parsers themselves get the arbitrary bytes.
    png = insert_before_iend(PNG, chunk(chunk_type, keyword + b"\x00" + body))
    _assert_only_baking_errors(png, keyword.decode())


# --- SVG -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [({"credential_json": CREDENTIAL}, CREDENTIAL), ({"jwt": JWT}, JWT)],
    ids=["json", "jwt"],
)
def test_unbake_svg_returns_what_was_baked(kwargs, expected):
    assert unbake_svg(bake_svg(SVG, **kwargs)) == expected


def test_bake_svg_puts_credential_first_and_keeps_the_rest_byte_identical():
    baked = bake_svg(SVG.encode(), CREDENTIAL)
    prolog, _, rest = SVG.partition("<svg")
    start_tag_rest, _, body = rest.partition(">\n")
    assert baked.startswith(prolog + '<svg xmlns:openbadges="' + OB3 + '"' + start_tag_rest + ">")
    assert baked.endswith(">\n" + body)
    root = ElementTree.fromstring(baked)
    assert root[0].tag == f"{{{OB3}}}credential"
    assert "<![CDATA[" in baked


def test_bake_svg_jwt_form_uses_an_empty_element_with_verify():
    root = ElementTree.fromstring(bake_svg(SVG, jwt=JWT))
    element = root[0]
    assert element.tag == f"{{{OB3}}}credential"
    assert element.get("verify") == JWT
    assert not element.text


@pytest.mark.parametrize(
    "text",
    ['{"narrative": "a]]>b ]]]]> ]]>"}', '{"name": "ä\\u00e5 🎓"}\r\n', "{\r}"],
    ids=["cdata-end", "non-ascii", "carriage-return"],
)
def test_bake_svg_round_trips_awkward_json(text):
    assert unbake_svg(bake_svg(SVG, text)) == text.strip()


def test_bake_svg_handles_self_closing_root():
    baked = bake_svg('<svg xmlns="http://www.w3.org/2000/svg" width="1"/>', CREDENTIAL)
    assert unbake_svg(baked) == CREDENTIAL


def test_bake_svg_refuses_an_already_baked_image():
    with pytest.raises(DuplicateCredentialError):
        bake_svg(bake_svg(SVG, CREDENTIAL), jwt=JWT)


def test_bake_svg_refuses_an_ob2_openbadges_prefix():
    ob2 = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"/>'
    with pytest.raises(MalformedImageError, match="openbadges prefix"):
        bake_svg(ob2, CREDENTIAL)


@pytest.mark.parametrize(
    ("svg", "error"),
    [
        ("<html><body/></html>", MalformedImageError),
        ("just text", MalformedImageError),
        ("<svg><g></svg>", MalformedImageError),
        ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>', UnsafeSvgError),
        ("\ufeff<?xml version='1.0' encoding='ISO-8859-1'?><svg/>", MalformedImageError),
    ],
    ids=["html", "text", "not-well-formed", "doctype", "latin-1"],
)
def test_bake_svg_refuses_invalid_input(svg, error):
    with pytest.raises(error):
        bake_svg(svg, CREDENTIAL)


def test_bake_svg_needs_exactly_one_credential_form():
    with pytest.raises(ValueError, match="exactly one"):
        bake_svg(SVG, CREDENTIAL, jwt=JWT)
    with pytest.raises(ValueError, match="exactly one"):
        bake_svg(SVG)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!-- a comment first -->
<!DOCTYPE svg [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&lol3;</openbadges:credential></svg>"""


def test_unbake_svg_refuses_doctype_with_entities():
    with pytest.raises(UnsafeSvgError, match="DOCTYPE") as excinfo:
        unbake_svg(BILLION_LAUGHS)
    assert excinfo.value.code == "unsafe_svg"


def test_unbake_svg_rejects_two_credential_elements():
    twice = bake_svg(SVG, CREDENTIAL).replace(
        "</svg>", f'<openbadges:credential verify="{JWT}"/></svg>'
    )
    with pytest.raises(DuplicateCredentialError, match="only one"):
        unbake_svg(twice)


def test_unbake_svg_says_plain_image_holds_no_credential():
    with pytest.raises(CredentialNotFoundError, match="no Open Badges 3.0 credential"):
        unbake_svg(SVG)


@pytest.mark.parametrize(
    "svg",
    [b"not xml", b"<svg", "<svg></svgx>", b"\xff\xfe<\x00s\x00", "<html/>", "<svg>\ud800</svg>"],
    ids=["text", "unclosed", "mismatched", "utf-16", "not-svg-root", "lone-surrogate"],
)
def test_unbake_svg_rejects_non_svg(svg):
    with pytest.raises(MalformedImageError, match="not an SVG"):
        unbake_svg(svg)


def test_unbake_svg_refuses_input_over_max_bytes():
    baked = bake_svg(SVG, CREDENTIAL)
    with pytest.raises(ImageTooLargeError):
        unbake_svg(baked, max_bytes=len(baked.encode()) - 1)
    assert unbake_svg(baked, max_bytes=len(baked.encode())) == CREDENTIAL


OB2_SVG = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">
  <openbadges:assertion verify="https://example.org/assertions/1"></openbadges:assertion>
</svg>"""


def test_unbake_svg_ob2_reads_the_verify_attribute():
    assert unbake_svg_ob2(OB2_SVG) == "https://example.org/assertions/1"


def test_unbake_svg_tells_an_ob2_badge_from_an_ob3_one():
    with pytest.raises(CredentialNotFoundError, match=r"Open Badges 2\.0 badge"):
        unbake_svg(OB2_SVG)


@given(st.text().filter(lambda t: t.strip(" \t\r\n")))
def test_unbake_svg_inverts_bake_svg_for_any_xml_text(text):
    try:
        baked = bake_svg(SVG, text)
    except BakingError:
        # Only characters XML cannot carry at all are refused.
        assert any(c < " " and c not in "\t\r\n" or "\ufffe" <= c <= "\uffff" for c in text)
        return
    assert unbake_svg(baked) == text.strip(" \t\r\n")


@given(st.one_of(st.text(), st.binary(), st.text().map(lambda t: SVG.replace("<circle", t))))
def test_unbake_svg_raises_only_baking_errors_on_arbitrary_input(svg):
    try:
        result = unbake_svg(svg)
    except BakingError:
        return
    assert isinstance(result, str)


# --- Sniffing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (BAKED_PNG, "png"),
        (b"\xef\xbb\xbf\n  " + SVG.encode(), "svg"),
        (b'<svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>', "svg"),
        (b"<html><body></body></html>", "unknown"),
        (b'  {"type": ["VerifiableCredential"]}', "json"),
        (JWT.encode() + b"\n", "jwt"),
        (b"a.b", "unknown"),
        (b"\xff\xd8\xff\xe0", "unknown"),
        (b"", "unknown"),
    ],
    ids=["png", "svg-bom", "svg-prefixed", "html", "json", "jwt", "two-segments", "jpeg", "empty"],
)
def test_sniff_format_recognises_content(data, expected):
    assert sniff_format(data) == expected
