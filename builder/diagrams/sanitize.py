"""The SVG sanitiser lives in builder.sanitize.svg (one policy for diagrams, media files and note HTML)."""

from __future__ import annotations

from builder.sanitize.svg import BACKGROUND, MAX_BYTES, check_svg_safe, clean_css, fmt, sanitize_svg

__all__ = ["BACKGROUND", "MAX_BYTES", "check_svg_safe", "clean_css", "fmt", "sanitize_svg"]
