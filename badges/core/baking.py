"""Bake credentials into PNG and SVG images and read them back (OB 3.0 §Baked Badge).

Bytes in, bytes (or text) out. The PNG chunk is spliced in by hand and the SVG element is
inserted into the text, so the image itself is never re-encoded or re-serialized.
"""

import re
import struct
import zlib
from typing import NamedTuple
# Only DOCTYPE-free text reaches the parser: _find_root refuses DOCTYPE and ENTITY declarations
# first, so neither external entities (XXE) nor entity expansion (billion laughs) can happen.
# saxutils.escape only escapes text for output.
from xml.etree import ElementTree  # nosec B405
from xml.sax.saxutils import escape  # nosec B406

from badges.core.errors import BakingError

#: OB 3.0 §Baked Badge: the PNG iTXt keyword of a baked credential.
PNG_KEYWORD = "openbadgecredential"
#: OB 2.0 baking keyword (iTXt, sometimes tEXt or compressed); read only.
LEGACY_PNG_KEYWORD = "openbadges"
#: OB 3.0 §Baked Badge: namespace of ``<openbadges:credential>`` in SVG.
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
#: OB 2.0 namespace of ``<openbadges:assertion>`` in SVG.
OB2_NAMESPACE = "http://openbadges.org"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
_OB_VERSIONS = {OB3_NAMESPACE: "3.0", OB2_NAMESPACE: "2.0"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNK_TYPES = (b"iTXt", b"tEXt", b"zTXt")
_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG: lengths are limited to 2^31 - 1
_XML_WHITESPACE = " \t\r\n"
# Characters XML 1.0 does not allow anywhere, not even in CDATA or escaped.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_NAME = re.compile(r"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?")
_XML_ENCODING = re.compile(r"""<\?xml\s[^?]*?\bencoding\s*=\s*["']([^"']*)["']""")
_OB_PREFIX_DECLARATION = re.compile(r"""\sxmlns:openbadges\s*=\s*(["'])(.*?)\1""", re.DOTALL)
_SVG_ROOT = re.compile(rb"<(?:[\w.\-]+:)?svg[\s>/]")
_JWT = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class MalformedImageError(BakingError):
    """The input is not a well-formed PNG or SVG, or its credential is stored wrongly."""

    code = "malformed_image"


class UnsafeSvgError(MalformedImageError):
    """The SVG has a DOCTYPE or ENTITY declaration, which is refused unparsed."""

    code = "unsafe_svg"


class ImageTooLargeError(BakingError):
    """The input is larger than the caller's limit."""

    code = "image_too_large"
    status = 413


class CredentialNotFoundError(BakingError):
    """The image holds no credential under the expected keyword or element."""

    code = "credential_not_found"


class DuplicateCredentialError(BakingError):
    """The image already holds a credential, or holds more than one."""

    code = "duplicate_credential"


# --- PNG -------------------------------------------------------------------------------------


class _Chunk(NamedTuple):
    type: bytes
    data: memoryview
    #: Offset of the chunk's length field in the file.
    start: int


def bake_png(png: bytes, text: str, *, keyword: str = PNG_KEYWORD) -> bytes:
    """Return `png` with one uncompressed iTXt chunk holding `text` inserted before IEND.

    Raises:
        MalformedImageError: `png` is not a valid PNG.
        DuplicateCredentialError: `png` already has a text chunk with this keyword.
    """
    keyword_bytes = _encode_keyword(keyword)
    chunks = _read_chunks(png)
    # OB 3.0 §Baked Badge: the iTXt chunk MUST NOT appear more than once. Replacing an existing
    # credential silently could hide a mix-up, so the caller has to decide.
    if keyword in _text_keywords(chunks):
        raise DuplicateCredentialError(f"this PNG already carries a {keyword!r} chunk")
    try:
        payload = text.encode("utf-8")
    except UnicodeEncodeError:
        raise BakingError("the text to bake is not valid Unicode (lone surrogate)") from None
    # iTXt layout: keyword, NUL, compression flag, compression method, language tag, NUL,
    # translated keyword, NUL, text. OB 3.0 §Baked Badge: flag 0 (MUST NOT compress), and
    # empty language tag and translated keyword.
    data = keyword_bytes + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + payload
    if len(data) > _MAX_CHUNK_LENGTH:
        raise BakingError("the text is too large for a PNG chunk")
    iend = chunks[-1].start
    return png[:iend] + _chunk_bytes(b"iTXt", data) + png[iend:]


def unbake_png(
    png: bytes, *, keyword: str = PNG_KEYWORD, max_bytes: int = DEFAULT_MAX_BYTES
) -> str:
    """Return the text of the baked credential chunk of `png`.

    With ``keyword="openbadges"`` (OB 2.0) compressed iTXt, tEXt and zTXt chunks are read as
    well; for any other keyword the chunk must be an uncompressed iTXt, as OB 3.0 requires.

    Raises:
        BakingError: one of its subclasses, with a message saying what is wrong.
    """
    if len(png) > max_bytes:
        raise ImageTooLargeError(f"the image is larger than {max_bytes} bytes")
    chunks = _read_chunks(png)
    found = [chunk for chunk in chunks if _text_keyword(chunk) == keyword]
    if not found:
        raise CredentialNotFoundError(_not_found_message(keyword, _text_keywords(chunks)))
    if len(found) > 1:
        raise DuplicateCredentialError(
            f"the {keyword!r} chunk appears {len(found)} times; it must appear only once"
        )
    chunk = found[0]
    legacy = keyword == LEGACY_PNG_KEYWORD
    if chunk.type == b"iTXt":
        return _read_itxt(chunk, allow_compressed=legacy, max_bytes=max_bytes)
    if not legacy:
        raise MalformedImageError(
            f"the {keyword!r} chunk is {chunk.type.decode()}; OB 3.0 requires an uncompressed iTXt"
        )
    # tEXt and zTXt hold Latin-1 text after "keyword NUL" (zTXt adds a compression method byte).
    body = bytes(chunk.data[len(keyword) + 1 :])
    if chunk.type == b"zTXt":
        if body[:1] != b"\x00":
            raise MalformedImageError("the zTXt chunk uses an unknown compression method")
        body = _inflate(body[1:], max_bytes)
    return body.decode("latin-1")


def find_png_keywords(png: bytes) -> list[str]:
    """Return the keywords of the text chunks (iTXt, tEXt, zTXt) of `png`, in file order.

    A ``openbadges`` keyword marks an Open Badges 2.0 badge, ``openbadgecredential`` an OB 3.0 one.
    """
    return _text_keywords(_read_chunks(png))


def _read_chunks(png: bytes) -> list[_Chunk]:
    """Walk the chunks of `png` up to IEND, checking structure and every CRC."""
    if not png.startswith(PNG_SIGNATURE):
        raise MalformedImageError("not a PNG image (the PNG signature is missing)")
    view = memoryview(png)
    chunks: list[_Chunk] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > len(png):
            raise MalformedImageError("truncated PNG: the file ends before the IEND chunk")
        length, chunk_type = struct.unpack_from(">I4s", png, pos)
        if length > _MAX_CHUNK_LENGTH or not chunk_type.isalpha():
            raise MalformedImageError(f"corrupt PNG: invalid chunk header at byte {pos}")
        data_end = pos + 8 + length
        if data_end + 4 > len(png):
            raise MalformedImageError(
                f"truncated PNG: the {chunk_type.decode()} chunk at byte {pos} is cut short"
            )
        data = view[pos + 8 : data_end]
        (crc,) = struct.unpack_from(">I", png, data_end)
        if zlib.crc32(data, zlib.crc32(chunk_type)) != crc:
            raise MalformedImageError(
                f"corrupt PNG: bad CRC in the {chunk_type.decode()} chunk at byte {pos}"
            )
        if not chunks and chunk_type != b"IHDR":
            raise MalformedImageError("corrupt PNG: the first chunk is not IHDR")
        chunks.append(_Chunk(chunk_type, data, pos))
        pos = data_end + 4
        # Anything after IEND is not part of the image; it is left alone and never read.
        if chunk_type == b"IEND":
            return chunks


def _text_keyword(chunk: _Chunk) -> str | None:
    """Return the keyword of a text chunk, or None for other chunk types."""
    if chunk.type not in _TEXT_CHUNK_TYPES:
        return None
    # Keywords are 1-79 Latin-1 bytes followed by a NUL.
    end = bytes(chunk.data[:80]).find(b"\x00")
    if end < 1:
        raise MalformedImageError(f"corrupt PNG: a {chunk.type.decode()} chunk has no keyword")
    return bytes(chunk.data[:end]).decode("latin-1")


def _text_keywords(chunks: list[_Chunk]) -> list[str]:
    return [keyword for chunk in chunks if (keyword := _text_keyword(chunk)) is not None]


def _read_itxt(chunk: _Chunk, *, allow_compressed: bool, max_bytes: int) -> str:
    """Return the text of an iTXt chunk, decompressing only if `allow_compressed`."""
    data = bytes(chunk.data)
    keyword_end = data.index(b"\x00")  # present: _text_keyword() checked it
    language_end = data.find(b"\x00", keyword_end + 3)
    translated_end = data.find(b"\x00", language_end + 1) if language_end >= 0 else -1
    if translated_end < 0 or data[keyword_end + 1] not in (0, 1):
        raise MalformedImageError("corrupt PNG: the iTXt chunk is malformed")
    flag, method = data[keyword_end + 1], data[keyword_end + 2]
    text = data[translated_end + 1 :]
    if flag == 1:
        if not allow_compressed:
            # OB 3.0 §Baked Badge: the iTXt chunk MUST NOT be compressed.
            raise MalformedImageError(
                "the credential iTXt chunk is compressed; OB 3.0 forbids compression"
            )
        if method != 0:
            raise MalformedImageError("the iTXt chunk uses an unknown compression method")
        text = _inflate(text, max_bytes)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedImageError("the baked text is not valid UTF-8") from None


def _inflate(data: bytes, max_bytes: int) -> bytes:
    """Decompress zlib `data`, refusing output over `max_bytes` (decompression bomb guard)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error:
        raise MalformedImageError("the compressed text chunk is corrupt") from None
    if len(out) > max_bytes:
        raise ImageTooLargeError(f"the decompressed text is larger than {max_bytes} bytes")
    if not inflater.eof:
        raise MalformedImageError("the compressed text chunk is truncated")
    return out


def _encode_keyword(keyword: str) -> bytes:
    """Encode a PNG text keyword: 1-79 printable Latin-1 characters, single inner spaces."""
    if (
        not 1 <= len(keyword) <= 79
        or keyword != keyword.strip(" ")
        or "  " in keyword
        or any(not (" " <= c <= "~" or "\xa1" <= c <= "\xff") for c in keyword)
    ):
        raise ValueError(f"invalid PNG text keyword: {keyword!r}")
    return keyword.encode("latin-1")


def _chunk_bytes(chunk_type: bytes, data: bytes) -> bytes:
    """Serialize one PNG chunk: length, type, data, CRC-32 of type and data."""
    crc = zlib.crc32(data, zlib.crc32(chunk_type))
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def _not_found_message(keyword: str, present: list[str]) -> str:
    if keyword == PNG_KEYWORD:
        message = "no Open Badges 3.0 credential in this image (no 'openbadgecredential' chunk)"
        if LEGACY_PNG_KEYWORD in present:
            message += "; it is an Open Badges 2.0 badge ('openbadges' chunk)"
        return message
    if keyword == LEGACY_PNG_KEYWORD:
        message = "no Open Badges 2.0 assertion in this image (no 'openbadges' chunk)"
        if PNG_KEYWORD in present:
            message += "; it is an Open Badges 3.0 badge ('openbadgecredential' chunk)"
        return message
    return f"no {keyword!r} text chunk in this image"


# --- SVG -------------------------------------------------------------------------------------


class _RootTag(NamedTuple):
    name: str
    #: Index just past the element name in the start tag.
    name_end: int
    #: Index of the ``>`` closing the start tag.
    close: int
    self_closing: bool


def bake_svg(
    svg: bytes | str, credential_json: str | None = None, *, jwt: str | None = None
) -> str:
    """Return `svg` with one ``<openbadges:credential>`` element holding the credential.

    Pass either the credential JSON (stored in CDATA) or a compact JWS `jwt` (stored in a
    ``verify`` attribute). Everything outside the root start tag stays as it was.

    Raises:
        MalformedImageError: `svg` is not an SVG document (UnsafeSvgError for a DOCTYPE).
        DuplicateCredentialError: `svg` already holds an OB 3.0 credential.
    """
    if (credential_json is None) == (jwt is None):
        raise ValueError("pass exactly one of credential_json and jwt")
    value = credential_json if jwt is None else jwt
    if not value.strip(_XML_WHITESPACE):
        raise ValueError("the credential to bake is empty")
    if _XML_ILLEGAL.search(value):
        raise BakingError("the credential contains characters that XML cannot carry")
    text = _decode_svg(svg)
    root = _find_root(text)
    tree = _parse_svg(text)
    if any(True for _ in tree.iter(f"{{{OB3_NAMESPACE}}}credential")):
        raise DuplicateCredentialError("this SVG already carries an Open Badges 3.0 credential")

    if jwt is not None:
        # Escape what attribute-value normalization would otherwise turn into spaces.
        verify = escape(jwt, {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})
        element = f'<openbadges:credential verify="{verify}">'
    else:
        # CDATA cannot contain "]]>": end the section after "]]" and start a new one before ">".
        # A raw CR would be normalized to LF by every XML parser, so it goes in as a character
        # reference between CDATA sections and survives the round trip.
        cdata = credential_json.replace("]]>", "]]]]><![CDATA[>").replace(
            "\r", "]]>&#13;<![CDATA["
        )
        element = f"<openbadges:credential><![CDATA[{cdata}]]>"
    element += "</openbadges:credential>"

    start_tag = text[root.name_end : root.close]
    declared = _OB_PREFIX_DECLARATION.search(start_tag)
    if declared and declared.group(2) != OB3_NAMESPACE:
        raise MalformedImageError(
            f"this SVG binds the openbadges prefix to {declared.group(2)!r} (an Open Badges"
            " 2.0 badge?); it cannot also carry an OB 3.0 credential"
        )
    # OB 3.0 §Baked Badge: declare the namespace on the root <svg>, then put the credential
    # element right after the root start tag.
    namespace = "" if declared else f' xmlns:openbadges="{OB3_NAMESPACE}"'
    if root.self_closing:  # <svg .../> becomes <svg ...>credential</svg>
        after = f">{element}</{root.name}>" + text[root.close + 1 :]
        return text[: root.name_end] + namespace + text[root.name_end : root.close - 1] + after
    return (
        text[: root.name_end]
        + namespace
        + text[root.name_end : root.close + 1]
        + element
        + text[root.close + 1 :]
    )


def unbake_svg(svg: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Return the credential baked into `svg`: the JSON text, or the JWT of ``verify``.

    Raises:
        BakingError: one of its subclasses, with a message saying what is wrong.
    """
    element = _find_credential_element(svg, OB3_NAMESPACE, "credential", max_bytes)
    text = "".join(element.itertext()).strip(_XML_WHITESPACE)
    value = text or element.get("verify", "").strip(_XML_WHITESPACE)
    if not value:
        raise MalformedImageError("the openbadges:credential element is empty")
    return value


def unbake_svg_ob2(svg: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Return the OB 2.0 assertion of `svg`: its ``verify`` attribute, else its text.

    Raises:
        BakingError: one of its subclasses, with a message saying what is wrong.
    """
    element = _find_credential_element(svg, OB2_NAMESPACE, "assertion", max_bytes)
    value = element.get("verify", "").strip(_XML_WHITESPACE)
    value = value or "".join(element.itertext()).strip(_XML_WHITESPACE)
    if not value:
        raise MalformedImageError("the openbadges:assertion element is empty")
    return value


def _find_credential_element(
    svg: bytes | str, namespace: str, name: str, max_bytes: int
) -> ElementTree.Element:
    """Return the one ``openbadges:<name>`` element of a size-checked, DOCTYPE-free SVG."""
    size = len(svg)
    if isinstance(svg, str) and size <= max_bytes:
        size = len(svg.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ImageTooLargeError(f"the image is larger than {max_bytes} bytes")
    text = _decode_svg(svg)
    _find_root(text)
    tree = _parse_svg(text)
    found = list(tree.iter(f"{{{namespace}}}{name}"))
    if not found:
        message = f"no Open Badges {_OB_VERSIONS[namespace]} {name} in this image"
        # Name the other version when its namespace is used, so the user knows what they have.
        for other, version in _OB_VERSIONS.items():
            if other != namespace and any(e.tag.startswith(f"{{{other}}}") for e in tree.iter()):
                message += f"; it is an Open Badges {version} badge"
        raise CredentialNotFoundError(message)
    if len(found) > 1:
        raise DuplicateCredentialError(
            f"this SVG holds {len(found)} openbadges:{name} elements; only one is allowed"
        )
    return found[0]


def _decode_svg(svg: bytes | str) -> str:
    if isinstance(svg, str):
        return svg
    try:
        return svg.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedImageError("not an SVG image (it is not UTF-8 text)") from None


def _find_root(text: str) -> _RootTag:
    """Locate the root start tag, refusing a DOCTYPE (and so any ENTITY) in the prolog.

    A DOCTYPE, and with it every entity declaration, may only appear before the root element,
    so scanning the prolog is enough to refuse entity expansion (billion laughs, XXE) before
    any parser sees the document.
    """
    pos = 1 if text.startswith("\ufeff") else 0
    # The text is handled as Unicode and returned as such; a declared legacy encoding would lie.
    if (declaration := _XML_ENCODING.match(text, pos)) and declaration.group(1).lower() not in (
        "utf-8",
        "utf8",
        "us-ascii",
        "ascii",
    ):
        raise MalformedImageError("only UTF-8 SVG images are supported")
    while True:
        while pos < len(text) and text[pos] in _XML_WHITESPACE:
            pos += 1
        if text.startswith("<?", pos):  # XML declaration or processing instruction
            pos = _skip_past(text, "?>", pos + 2)
        elif text.startswith("<!--", pos):
            pos = _skip_past(text, "-->", pos + 4)
        elif text.startswith("<!", pos):
            raise UnsafeSvgError(
                "SVG images with a DOCTYPE or ENTITY declaration are refused"
                " (entity expansion guard)"
            )
        elif text.startswith("<", pos):
            break
        else:
            raise MalformedImageError("not an SVG image (no XML root element)")

    name = _XML_NAME.match(text, pos + 1)
    if name is None:
        raise MalformedImageError("not an SVG image (no XML root element)")
    if name.group().rpartition(":")[2] != "svg":
        raise MalformedImageError(f"not an SVG image (the root element is <{name.group()}>)")
    # Find the ">" that closes the start tag; attribute values may contain ">" themselves.
    quote = None
    for close in range(name.end(), len(text)):
        char = text[close]
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ">":
            self_closing = text[close - 1] == "/"
            return _RootTag(name.group(), name.end(), close, self_closing)
    raise MalformedImageError("not an SVG image (the <svg> start tag is not closed)")


def _skip_past(text: str, terminator: str, pos: int) -> int:
    end = text.find(terminator, pos)
    if end < 0:
        raise MalformedImageError("not an SVG image (unterminated XML markup)")
    return end + len(terminator)


def _parse_svg(text: str) -> ElementTree.Element:
    """Parse DOCTYPE-free SVG text and check that the root is an SVG element."""
    try:
        # DOCTYPE and ENTITY declarations were refused before (see the imports).
        root = ElementTree.fromstring(text)  # nosec B314
    except (ElementTree.ParseError, ValueError) as error:  # ValueError: lone surrogates
        raise MalformedImageError(f"not an SVG image (not well-formed XML: {error})") from None
    if root.tag not in (f"{{{SVG_NAMESPACE}}}svg", "svg"):
        raise MalformedImageError(f"not an SVG image (the root element is {root.tag})")
    return root


# --- Sniffing --------------------------------------------------------------------------------


def sniff_format(data: bytes) -> str:
    """Return "png", "svg", "json", "jwt" or "unknown", judging by content only."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    head = data.removeprefix(b"\xef\xbb\xbf").strip()
    if head.startswith(b"<"):
        return "svg" if _SVG_ROOT.search(head) else "unknown"
    if head.startswith(b"{"):
        return "json"
    if _JWT.fullmatch(head):
        return "jwt"
    return "unknown"
