"""Developer tasks: `nox -s build`, `watch`, `tests`, `lint`, `typecheck`, `bench`, `screenshots` and releases."""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

# uv makes fresh environments in seconds; plain virtualenv keeps working on machines without it.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["build"]
nox.options.reuse_existing_virtualenvs = True

CONSTRAINTS = ("-c", "constraints.txt")
PYTHON = "3.11"


def _install(session: nox.Session, *extras: str) -> None:
    target = f".[{','.join(extras)}]" if extras else "."
    session.install(*CONSTRAINTS, "-e", target)


def _builder(session: nox.Session, command: str, *extras: str) -> None:
    """Install the builder with `extras` and run `python -m builder <command>` with the session's arguments."""
    _install(session, *extras)
    session.run("python", "-m", "builder", command, *session.posargs)


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Validate every deck under source/ and write dist/<deck>-<version>.apkg."""
    _builder(session, "build", "diagrams")


@nox.session(python=PYTHON)
def watch(session: nox.Session) -> None:
    """Build, then rebuild after every saved change to source/ or media/ until Ctrl-C."""
    _builder(session, "watch", "diagrams")


@nox.session(python=PYTHON)
def check(session: nox.Session) -> None:
    """Validate every deck and report all problems, without writing anything."""
    _builder(session, "check", "diagrams")


@nox.session(python=PYTHON)
def preview(session: nox.Session) -> None:
    """Build, then write dist/preview/index.html: every card as Anki renders it, light and night, searchable."""
    _builder(session, "preview", "diagrams", "preview")


@nox.session(python=PYTHON)
def release(session: nox.Session) -> None:
    """Build, check every manifest is recorded, write dist/SHA256SUMS and dist/RELEASE_NOTES.md."""
    _builder(session, "release", "diagrams")


@nox.session(python=PYTHON)
def record(session: nox.Session) -> None:
    """Build and keep each manifest under source/<deck>/releases/: run it when bumping a version."""
    _builder(session, "record", "diagrams")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite: builds fixture decks and imports them with the real Anki backend."""
    _install(session, "diagrams", "preview", "test", "import", "screenshots")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def screenshots(session: nox.Session) -> None:
    """Build, then photograph the decks in the real Anki desktop app: dist/screenshots/*.png and facts.json."""
    # Needs Xvfb (apt-get install xvfb); arguments go to the harness, e.g. `-- --note <id>` (see README).
    _install(session, "diagrams", "screenshots")
    session.run("python", "-m", "builder", "build")
    session.run("python", "-m", "tests.anki_app", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmark 1k/10k/50k-note synthetic decks against the floor and ankdown; prints a table, writes
    dist/bench.json."""
    # genanki and markdown-it-py (the floor) come with the builder itself.
    _install(session, "diagrams")
    # The peer (tests/bench/peer.py), pinned with its dependencies; misaka is a C extension built with the
    # machine's C compiler where PyPI has no wheel for this Python.
    session.install(*CONSTRAINTS, "ankdown==0.7.1")
    session.run("python", "-m", "tests.bench", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff (lint and format check); action.yml, both GitHub workflows and the ones `new` writes against their
    schemas, offline."""
    session.install(*CONSTRAINTS, "ruff", "check-jsonschema")
    session.run("ruff", "check", "builder", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "builder", "tests", "noxfile.py")
    # The schemas ship inside check-jsonschema, so this needs no network.
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml")
    session.run(
        "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
    )
    # The workflows of a deck repository as `deckforge new` writes them (placeholders filled in).
    _install(session)
    scaffold = Path(session.create_tmp()) / "new-deck"
    shutil.rmtree(scaffold, ignore_errors=True)
    session.run("python", "-m", "builder", "new", str(scaffold), silent=True)
    workflows = sorted(str(p) for p in (scaffold / ".github" / "workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over builder/ and the screenshot harness (tests/anki_app/)."""
    _install(session, "diagrams", "preview", "import", "screenshots")
    session.install(*CONSTRAINTS, "mypy", "types-PyYAML", "types-Pygments")
    session.run("mypy", "--strict", "builder")
    session.run("mypy", "--strict", "tests/anki_app")
