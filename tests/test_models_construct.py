"""`models.construct` makes the very instance pydantic's `model_construct` makes, only faster: rendered notes
built either way compare equal, dump and pickle to the same bytes, and keep the fields they were given."""

from __future__ import annotations

import pickle

import pytest

from builder.diagnostics import Location
from builder.models import NoteKind, RenderedNote, construct


def _values(**extra: object) -> dict[str, object]:
    return {
        "note_id": "s3-storage-classes",
        "guid": "f#Gx2|0kQz",
        "kind": NoteKind.CLOZE,
        "deck_name": "AWS::Storage",
        "fields": ('<div class="df-title">S3</div>{{c1::Glacier}}', ""),
        "tags": ("storage",),
        "location": Location("source/aws/storage.md", 12, 1),
        "cloze_numbers": (1,),
        "media": (),
        "front": "S3",
        "content_hash": "0" * 64,
        **extra,
    }


@pytest.mark.parametrize(
    "extra", [{}, {"notetype": "vocab", "cards": (0, 2)}, {"cards": (1,)}], ids=["defaults", "all", "one-default"]
)
def test_construct_makes_what_model_construct_makes(extra: dict[str, object]) -> None:
    fast = construct(RenderedNote, **_values(**extra))
    slow = RenderedNote.model_construct(**_values(**extra))
    assert fast == slow
    assert list(vars(fast).items()) == list(vars(slow).items())
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump_json() == slow.model_dump_json()
    assert pickle.dumps(fast) == pickle.dumps(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow


def test_a_constructed_note_stays_frozen() -> None:
    note = construct(RenderedNote, **_values())
    with pytest.raises(Exception, match="frozen"):
        note.front = "changed"  # type: ignore[misc]
