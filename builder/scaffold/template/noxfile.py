"""Deck tasks: `nox -s tests` (strict check, then the tests in tests/), `build`, `watch`, `preview`, `record`."""

from __future__ import annotations

import os

import nox

# uv makes fresh environments in seconds; plain virtualenv keeps working on machines without it.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

#: The builder this deck is made with, pinned: moving to a newer builder is a deliberate, reviewed change.
DECKFORGE_VERSION = "@@VERSION@@"
#: Another source for the builder (a checkout or a wheel), e.g. DECKFORGE_SOURCE=../deckforge nox -s tests.
DECKFORGE_SOURCE = os.environ.get("DECKFORGE_SOURCE")


def _deckforge(session: nox.Session, command: str, *args: str, extras: str = "diagrams") -> None:
    if DECKFORGE_SOURCE:
        session.install(f"{DECKFORGE_SOURCE}[{extras}]")
    else:
        session.install(f"deckforge[{extras}]=={DECKFORGE_VERSION}")
    session.run("deckforge", command, *args, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Every note valid and lint-clean (warnings are errors), then the deck's own tests in tests/."""
    _deckforge(session, "check", "--strict")
    session.run("python", "-m", "unittest", "discover", "-s", "tests", "-v")


@nox.session
def check(session: nox.Session) -> None:
    """Validate every note and report all problems, writing nothing."""
    _deckforge(session, "check", "--strict")


@nox.session
def build(session: nox.Session) -> None:
    """Write dist/<deck>-<version>.apkg: import it into Anki."""
    _deckforge(session, "build")


@nox.session
def watch(session: nox.Session) -> None:
    """Build, then rebuild after every saved change until Ctrl-C."""
    _deckforge(session, "watch")


@nox.session
def preview(session: nox.Session) -> None:
    """Write dist/preview/index.html: every card as Anki renders it, light and night."""
    _deckforge(session, "preview", extras="diagrams,preview")


@nox.session
def record(session: nox.Session) -> None:
    """Keep this version's manifest under source/<deck>/releases/: run it when bumping the version."""
    _deckforge(session, "record")


@nox.session
def release(session: nox.Session) -> None:
    """What the release workflow runs: build, check the manifest is recorded, SHA256SUMS and RELEASE_NOTES.md."""
    _deckforge(session, "release")
