"""What the card rules look at: one validated, rendered note and the raw Markdown it came from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from builder.manifest import visible_text
from builder.models import NoteSpec
from builder.parse import RawNote
from builder.validate import body_text


@dataclass(frozen=True)
class LintNote:
    """The derived texts are worked out on first use, as most rules skip most notes."""

    spec: NoteSpec
    raw: RawNote
    front: str
    back_html: str

    @cached_property
    def back(self) -> str:
        return visible_text(self.back_html)

    @cached_property
    def source_text(self) -> str:
        """The raw Markdown title and body, for rules that look at deletions."""
        return self.raw.title + "\n" + body_text(self.raw)[0]
