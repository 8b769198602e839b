"""How bright a screenshot is: mean luma and the share of near-white pixels (a white box on a night card)."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtGui import QImage

#: Luma (0-255, Rec. 601 as Qt's grayscale conversion computes it) from which a pixel counts as near-white.
#: 242 sits above the night-mode text colour (#e6edf3 is luma 236) and above the brightest colour an inverted
#: diagram can have (invert(.88) turns black into 224), and below white (255): only pixels left white by a
#: missing night-mode treatment count.
BRIGHT_LUMA = 242


@dataclass(frozen=True)
class Brightness:
    mean_luminance: float  # 0 (black) .. 1 (white)
    bright_fraction: float  # share of pixels with luma >= BRIGHT_LUMA
    pixels: int


_BRIGHT_TABLE = bytes(1 if value >= BRIGHT_LUMA else 0 for value in range(256))


def brightness(image: QImage) -> Brightness:
    """Mean luma and near-white share of `image`, computed on Qt's grayscale conversion (fast, in C)."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    if width == 0 or height == 0:
        return Brightness(0.0, 0.0, 0)
    bits = gray.constBits()
    assert bits is not None
    data = bits.asstring(gray.sizeInBytes())
    # Rows are padded to 4 bytes: keep only each row's pixels.
    rows = data if stride == width else b"".join(data[y * stride : y * stride + width] for y in range(height))
    total = width * height
    bright = sum(rows.translate(_BRIGHT_TABLE))
    return Brightness(
        mean_luminance=round(sum(rows) / (255 * total), 4),
        bright_fraction=round(bright / total, 4),
        pixels=total,
    )
