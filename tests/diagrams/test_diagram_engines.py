"""Each engine renders real diagrams, reports syntax errors with a line, and is stopped on timeout."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from diagram_testkit import BROKEN, SMALL, SleepEngine

from builder.diagrams import ENGINES, d2, graphviz, mermaid, plantuml
from builder.diagrams.base import DiagramSyntaxError
from builder.diagrams.runner import DiagramRequest, render_all
from builder.diagrams.sanitize import check_svg_safe, sanitize_svg

PIP_ENGINES = ["dot", "mermaid", "d2"]
HAS_PLANTUML = ENGINES["plantuml"].available() is None
needs_plantuml = pytest.mark.skipif(not HAS_PLANTUML, reason="PlantUML is optional and not installed here")


def test_dispatch_table_covers_the_fence_languages() -> None:
    assert sorted(ENGINES) == ["d2", "dot", "graphviz", "mermaid", "plantuml"]
    assert ENGINES["graphviz"] is ENGINES["dot"]
    assert {e.name for e in ENGINES.values()} == {"graphviz", "mermaid", "d2", "plantuml"}


@pytest.mark.parametrize(
    ("lang", "pinned"),
    [("dot", graphviz.PINNED_VERSION), ("mermaid", mermaid.PINNED_VERSION), ("d2", d2.PINNED_VERSION)],
)
def test_pip_engines_are_installed_at_the_pinned_version(lang: str, pinned: str) -> None:
    assert ENGINES[lang].available() is None
    assert ENGINES[lang].version() == pinned


@pytest.mark.parametrize("lang", [*PIP_ENGINES, pytest.param("plantuml", marks=needs_plantuml)])
def test_engine_renders_a_small_diagram(lang: str) -> None:
    raw = ENGINES[lang].render(SMALL[lang], timeout=60)
    assert "<svg" in raw
    svg = sanitize_svg(raw, id_prefix="t")
    assert check_svg_safe(svg) == []
    label = "Alice" if lang == "plantuml" else "Tokenizer"
    assert f">{label}<" in svg


@pytest.mark.parametrize("lang", PIP_ENGINES)
def test_engines_are_deterministic(lang: str) -> None:
    first = ENGINES[lang].render(SMALL[lang], timeout=30)
    assert ENGINES[lang].render(SMALL[lang], timeout=30) == first


def test_mermaid_labels_are_svg_text_not_html() -> None:
    raw = ENGINES["mermaid"].render(SMALL["mermaid"], timeout=60)
    assert "foreignObject" not in raw
    assert ">Tokenizer</tspan>" in raw


@pytest.mark.parametrize(
    ("lang", "line", "col", "fragment"),
    [
        ("dot", 3, 1, "syntax error"),
        ("mermaid", 3, 1, "Parse error on line 3"),
        ("d2", 5, 1, "connection missing destination"),
        pytest.param("plantuml", 3, 1, "Syntax Error", marks=needs_plantuml),
    ],
)
def test_syntax_error_is_reported_on_the_file_line(lang: str, line: int, col: int, fragment: str) -> None:
    with pytest.raises(DiagramSyntaxError) as caught:
        ENGINES[lang].render(BROKEN[lang], timeout=60)
    assert caught.value.line == line

    fence_line = 40
    outcome = render_all(
        [DiagramRequest(lang, BROKEN[lang], "notes/x.md", fence_line, "d")],
        cache=None,
        jobs=1,
        timeout=60,
        progress=False,
    )
    (diag,) = outcome.diagnostics
    assert (diag.path, diag.line, diag.col, diag.code) == ("notes/x.md", fence_line + line, col, "D001")
    assert fragment in diag.message


def test_plantuml_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("PLANTUML_JAR", raising=False)
    message = ENGINES["plantuml"].available()
    assert message is not None
    assert "PLANTUML_JAR" in message and "apt-get install plantuml" in message
    outcome = render_all(
        [DiagramRequest("plantuml", SMALL["plantuml"], "n.md", 7, "d")], cache=None, jobs=1, timeout=5, progress=False
    )
    (diag,) = outcome.diagnostics
    assert (diag.code, diag.line, diag.message) == ("D002", 7, message)
    assert message == plantuml.INSTALL_HINT


def test_a_hanging_render_is_killed_after_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    start = time.monotonic()
    outcome = render_all(
        [DiagramRequest("slow", "x", "n.md", 3, "d")],
        cache=None,
        jobs=1,
        timeout=0.5,
        progress=False,
        engines={"slow": SleepEngine(str(pid_file))},
    )
    assert time.monotonic() - start < 5
    (diag,) = outcome.diagnostics
    assert diag.code == "D003"
    assert diag.message == "the diagram took longer than 0.5 s to render; simplify it or raise --diagram-timeout"
    # The shell's own child (the real worker) must be gone too, not just the shell.
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def test_real_mermaid_render_is_stopped_by_a_tiny_timeout() -> None:
    start = time.monotonic()
    outcome = render_all(
        [DiagramRequest("mermaid", "flowchart LR\n  P --> Q\n", "n.md", 1, "d")],
        cache=None,
        jobs=1,
        # An earlier test may have left the engine loaded: even then the smallest diagram takes longer than this.
        timeout=0.01,
        progress=False,
    )
    assert time.monotonic() - start < 5
    assert [d.code for d in outcome.diagnostics] == ["D003"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")


def test_mermaid_rounded_shapes_render_the_same_twice() -> None:
    """Stadium and rounded shapes go through rough.js, which draws random curves unless seeded."""
    source = 'flowchart TD\n  A(["Scoring offline?"]) -->|yes| B["Batch"]\n  A -->|no| C("Real-time")\n'
    engine = ENGINES["mermaid"]
    assert engine.render(source, timeout=60) == engine.render(source, timeout=60)
