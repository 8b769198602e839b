"""What a Markdown rule finds wrong with a token: the validator places it on the line where it is written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    #: The text to underline, searched for on the token's lines.
    needle: str
    warning: bool = False
