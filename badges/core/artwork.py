"""Generate the default badge image (PNG and SVG) from a name and a colour."""

import base64
import io
from html import escape

from PIL import Image, ImageDraw, ImageFont

#: Colours with at least 4.5:1 contrast against white text (WCAG 2.1 AA).
PALETTE = ("#0b5394", "#1d6b3a", "#8a2c0d", "#5b2a86", "#7a4a00", "#005f6b")
SIZE = 256


def initials(name: str) -> str:
    """Return up to two initials of a badge name (first letters of its first words)."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def pick_colour(seed: str) -> str:
    """Return a palette colour chosen stably from ``seed``."""
    return PALETTE[sum(seed.encode("utf-8")) % len(PALETTE)]


def default_badge_png(name: str, colour: str) -> bytes:
    """Return a 256×256 PNG: a coloured disc with the badge's initials."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=colour, outline="#ffffff", width=8)
    font = ImageFont.load_default(size=96)
    draw.text((SIZE / 2, SIZE / 2), initials(name), fill="#ffffff", font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def default_badge_svg(name: str, colour: str) -> str:
    """Return the SVG twin of :func:`default_badge_png`, with the name as its title."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256" '
        'role="img" aria-labelledby="title">'
        f"<title id=\"title\">{escape(name)}</title>"
        f'<circle cx="128" cy="128" r="116" fill="{escape(colour)}" stroke="#ffffff" stroke-width="8"/>'
        '<text x="128" y="128" dy=".35em" text-anchor="middle" font-family="sans-serif" '
        f'font-size="96" font-weight="bold" fill="#ffffff">{escape(initials(name))}</text>'
        "</svg>"
    )


def svg_wrapping_png(png: bytes, title: str, size: int = SIZE) -> str:
    """Return an SVG that shows ``png`` (an uploaded badge image), for SVG baking."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img" aria-labelledby="title">'
        f'<title id="title">{escape(title)}</title>'
        f'<image width="{size}" height="{size}" href="data:image/png;base64,{data}"/>'
        "</svg>"
    )
