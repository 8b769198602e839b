"""Shared fixtures: build decks with the real builder, import them with the real Anki backend."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportResponse

from builder.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
EPOCH = "1700000000"


def build_deck(source: Path, media: Path, out: Path, *extra: str) -> int:
    return main(["build", "--source", str(source), "--media", str(media), "--out", str(out), *extra])


def import_package(collection: Collection, apkg: Path) -> ImportResponse:
    request = ImportAnkiPackageRequest(
        package_path=str(apkg),
        options=ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False),
    )
    return collection.import_anki_package(request)


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("builder-cache")


@pytest.fixture(autouse=True)
def _fixed_epoch(monkeypatch: pytest.MonkeyPatch, _session_cache: Path) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    # One cache per test session, never the developer's .cache/: a test run starts cold and leaves nothing.
    monkeypatch.setenv("BUILDER_CACHE_DIR", str(_session_cache))


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    folder = tmp_path / "anki"
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        yield col
    finally:
        col.close()


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """A writable copy of the starter fixture deck (source/ and media/)."""
    target = tmp_path / "starter"
    shutil.copytree(FIXTURES / "starter", target)
    return target


@pytest.fixture(scope="session")
def starter_apkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        assert build_deck(FIXTURES / "starter" / "source", FIXTURES / "starter" / "media", out) == 0
    finally:
        mp.undo()
    return out / "starter-0.3.0.apkg"
