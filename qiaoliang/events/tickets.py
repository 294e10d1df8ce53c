"""The QR code of a ticket (segno), drawn as inline SVG: no image request, no script."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(code: str, *, scale: int = 6) -> SafeString:
    """Return the ticket code as an inline SVG QR code (error correction M: readable from a scratched screen)."""
    symbol = segno.make(code, error="m", micro=False)
    svg = symbol.svg_inline(scale=scale, border=3, omitsize=True, dark="#111", light="#fff", title=code)  # scales
    return mark_safe(svg.replace("<svg ", '<svg role="img" aria-label="QR" ', 1))  # noqa: S308 - segno's own markup
