"""Validate and re-encode uploaded images (badge art, logos, evidence photos).

Uploads are never stored as sent: they are decoded under strict size and pixel limits, turned
upright, stripped of every metadata chunk (EXIF location included) by copying only the
pixels, scaled down, and encoded afresh.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from badges.core.errors import BadgesError

ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Decoded size limit: a 40-megapixel photo is fine, a 1-byte-per-pixel bomb is not.
MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000


class ImageUploadError(BadgesError):
    """An uploaded image is refused; ``code`` says why (the web layer translates it)."""

    code = "image_invalid"

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class CleanImage:
    """A re-encoded image."""

    data: bytes
    mimetype: str
    width: int
    height: int


def clean_image(data: bytes, *, purpose: str, max_output_side: int = 1024) -> CleanImage:
    """Return a safe re-encoding of ``data``: PNG for badge art and logos, JPEG for photos.

    ``purpose`` is ``badge``, ``logo`` or ``photo``.

    Raises:
        ImageUploadError: empty, too large, not a supported image, a decompression bomb,
            truncated or otherwise undecodable.
    """
    if not data:
        raise ImageUploadError("the file is empty", "image_empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageUploadError("the file is larger than 10 MB", "image_too_large")
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ", b"<svg>") or b"<svg" in data[:1024].lower():
        raise ImageUploadError("SVG files are not accepted; use PNG or JPEG", "image_svg")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise ImageUploadError("only PNG, JPEG, WebP and GIF images are accepted", "image_format")
            width, height = image.size
            if width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                raise ImageUploadError("the image has too many pixels", "image_too_many_pixels")
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageUploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageUploadError("the image has too many pixels", "image_too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageUploadError("the file is not a readable image", "image_unreadable") from None

    keep_alpha = purpose in ("badge", "logo")
    mode = "RGBA" if keep_alpha else "RGB"
    # Copying only the pixels into a new image drops EXIF, XMP, ICC and text chunks.
    pixels = image.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    clean.thumbnail((max_output_side, max_output_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if keep_alpha:
        clean.save(out, format="PNG", optimize=True)
        mimetype = "image/png"
    else:
        clean.save(out, format="JPEG", quality=85, optimize=True)
        mimetype = "image/jpeg"
    return CleanImage(out.getvalue(), mimetype, clean.width, clean.height)
