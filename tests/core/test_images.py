"""Uploaded images are re-encoded safely or refused with a reason code."""

import io
import zlib

import pytest
from PIL import Image

from badges.core.images import ImageUploadError, clean_image


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def test_photo_is_re_encoded_as_jpeg_without_exif_and_scaled_down():
    exif = Image.Exif()
    exif[0x8825] = {2: (60.0, 10.0, 0.0)}  # a GPS position must not survive
    exif[0x0112] = 6  # rotated 90°: the output is turned upright
    data = _encode(Image.new("RGB", (3000, 2000), "green"), "JPEG", exif=exif)
    clean = clean_image(data, purpose="photo")
    assert clean.mimetype == "image/jpeg"
    result = Image.open(io.BytesIO(clean.data))
    assert max(result.size) == 1024 and result.size[1] > result.size[0]
    assert not result.getexif()
    assert b"Exif" not in clean.data


def test_badge_art_keeps_transparency_as_png():
    data = _encode(Image.new("RGBA", (300, 300), (0, 0, 0, 0)), "PNG")
    clean = clean_image(data, purpose="badge")
    assert clean.mimetype == "image/png"
    assert Image.open(io.BytesIO(clean.data)).mode == "RGBA"


def _bomb() -> bytes:
    # 20,000 × 20,000 one-bit pixels: tiny on disk, 400 megapixels decoded
    return _encode(Image.new("1", (20_000, 20_000)), "PNG")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "image_empty"),
        (b"not an image at all", "image_unreadable"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image_svg"),
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg/>', "image_svg"),
        (_encode(Image.new("RGB", (10, 10)), "BMP"), "image_format"),
        (_encode(Image.new("RGB", (400, 400), "red"), "PNG")[:200], "image_unreadable"),
        (b"\x00" * (11 * 1024 * 1024), "image_too_large"),
    ],
    ids=["empty", "text", "svg-script", "svg-xxe", "bmp", "truncated", "huge"],
)
def test_bad_uploads_are_refused_with_a_reason(data: bytes, code: str):
    with pytest.raises(ImageUploadError) as caught:
        clean_image(data, purpose="photo")
    assert caught.value.code == code


def test_a_decompression_bomb_is_refused_before_decoding():
    data = _bomb()
    assert len(data) < 100_000
    with pytest.raises(ImageUploadError) as caught:
        clean_image(data, purpose="badge")
    assert caught.value.code == "image_too_many_pixels"


def test_a_png_with_a_forged_huge_header_is_refused():
    good = _encode(Image.new("RGB", (8, 8)), "PNG")
    ihdr = bytearray(good[8:33])
    ihdr[8:16] = (11_000).to_bytes(4, "big") + (11_000).to_bytes(4, "big")
    ihdr[21:25] = zlib.crc32(bytes(ihdr[4:21])).to_bytes(4, "big")
    forged = good[:8] + bytes(ihdr) + good[33:]
    with pytest.raises(ImageUploadError) as caught:
        clean_image(forged, purpose="photo")
    assert caught.value.code in ("image_too_many_pixels", "image_unreadable")
