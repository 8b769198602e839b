"""The render stage: cache, dedupe, parallel determinism, diagnostics and progress."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from diagram_testkit import BROKEN, SMALL, CountingEngine, PassthroughEngine

from builder.diagrams import ENGINES
from builder.diagrams.cache import DiagramCache, cache_key
from builder.diagrams.runner import DiagramDiagnostic, DiagramRequest, RenderedDiagram, RenderOutcome, render_all


def _dot(i: int) -> str:
    return f'digraph G{i} {{ a{i} [label="node {i}"]; a{i} -> b{i}; }}\n'


def _requests() -> list[DiagramRequest]:
    return [
        DiagramRequest("dot", _dot(1), "a.md", 3, "a-d1"),
        DiagramRequest("d2", SMALL["d2"], "a.md", 10, "a-d2"),
        DiagramRequest("graphviz", _dot(1), "b.md", 4, "b-d1"),  # same source, other prefix: one render
        DiagramRequest("dot", _dot(2), "b.md", 9, "b-d2"),
        DiagramRequest("dot", _dot(1), "a.md", 3, "a-d1"),  # exact duplicate
        DiagramRequest("dot", BROKEN["dot"], "c.md", 20, "c-d1"),
    ]


def _run(
    requests: list[DiagramRequest], cache: DiagramCache | None, engines: dict[str, CountingEngine], jobs: int = 2
) -> RenderOutcome:
    return render_all(requests, cache=cache, jobs=jobs, timeout=30, progress=False, engines=engines)


def _counting() -> dict[str, CountingEngine]:
    graphviz = CountingEngine(ENGINES["dot"])
    return {"dot": graphviz, "graphviz": graphviz, "d2": CountingEngine(ENGINES["d2"])}


def test_cold_and_warm_cache_give_identical_bytes_and_warm_renders_nothing(tmp_path: Path) -> None:
    cache = DiagramCache(tmp_path / "diagrams")
    cold_engines = _counting()
    cold = _run(_requests(), cache, cold_engines)
    assert cold.renders == 4 and cold.cache_hits == 0
    assert len(cold_engines["dot"].calls) == 3  # _dot(1) once, _dot(2), the broken one
    assert len(cold_engines["d2"].calls) == 1

    warm_engines = _counting()
    warm = _run(_requests(), cache, warm_engines)
    assert warm_engines["dot"].calls == [] and warm_engines["d2"].calls == []
    assert warm.renders == 0 and warm.cache_hits == 4
    assert warm.results == cold.results

    uncached = _run(_requests(), None, _counting(), jobs=1)
    assert uncached.results == cold.results


def test_results_follow_request_order_with_media_names_and_diagnostics(tmp_path: Path) -> None:
    outcome = _run(_requests(), DiagramCache(tmp_path), _counting())
    kinds = [type(r).__name__ for r in outcome.results]
    assert kinds == ["RenderedDiagram"] * 5 + ["DiagramDiagnostic"]
    first, _, same_source_other_prefix, _, duplicate, broken = outcome.results
    assert isinstance(first, RenderedDiagram) and isinstance(duplicate, RenderedDiagram)
    assert isinstance(same_source_other_prefix, RenderedDiagram)
    assert first == duplicate
    assert first.svg != same_source_other_prefix.svg  # ids carry the prefix
    assert 'id="a-d1-1"' in first.text and 'id="b-d1-1"' in same_source_other_prefix.text
    assert first.media_name == f"diagram-{hashlib.sha256(first.svg).hexdigest()[:16]}.svg"
    assert isinstance(broken, DiagramDiagnostic)
    assert (broken.path, broken.line, broken.col, broken.code) == ("c.md", 23, 1, "D001")
    assert outcome.diagnostics == (broken,)


def test_corrupt_or_truncated_entries_are_rendered_again(tmp_path: Path) -> None:
    cache = DiagramCache(tmp_path)
    requests = [DiagramRequest("dot", _dot(7), "a.md", 1, "d")]
    cold = _run(requests, cache, _counting())
    engine = ENGINES["dot"]
    key = cache_key(engine.name, engine.version(), engine.options, _dot(7))
    entry = cache.path_for(key)
    assert entry.is_file()

    entry.write_bytes(entry.read_bytes()[:-40])  # truncated by a crash, say
    engines = _counting()
    assert _run(requests, cache, engines).results == cold.results
    assert len(engines["dot"].calls) == 1

    entry.write_bytes(b"\xff\xfe garbage")
    engines = _counting()
    assert _run(requests, cache, engines).results == cold.results
    assert len(engines["dot"].calls) == 1
    assert not list(tmp_path.rglob("*.tmp"))


def test_cache_location_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDER_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert DiagramCache.default().directory == tmp_path / "elsewhere" / "diagrams"
    monkeypatch.delenv("BUILDER_CACHE_DIR")
    monkeypatch.chdir(tmp_path)
    assert DiagramCache.default().directory == tmp_path / ".cache" / "builder" / "diagrams"

    base = cache_key("graphviz", "0.2.2", "-Tsvg", "digraph {}")
    variants = [
        cache_key("d2", "0.2.2", "-Tsvg", "digraph {}"),
        cache_key("graphviz", "0.2.3", "-Tsvg", "digraph {}"),
        cache_key("graphviz", "0.2.2", "-Tpng", "digraph {}"),
        cache_key("graphviz", "0.2.2", "-Tsvg", "digraph { }"),
        cache_key("graphviz", "0.2.2-Tsvg", "", "digraph {}"),
    ]
    assert len({base, *variants}) == 6
    assert base == cache_key("graphviz", "0.2.2", "-Tsvg", "digraph {}")


def test_mermaid_cold_and_warm_are_identical(tmp_path: Path) -> None:
    cache = DiagramCache(tmp_path)
    mermaid = CountingEngine(ENGINES["mermaid"])
    requests = [DiagramRequest("mermaid", SMALL["mermaid"], "m.md", 5, "m1")]
    cold = render_all(requests, cache=cache, jobs=1, timeout=60, progress=False, engines={"mermaid": mermaid})
    warm = render_all(requests, cache=cache, jobs=1, timeout=60, progress=False, engines={"mermaid": mermaid})
    assert len(mermaid.calls) == 1
    assert isinstance(cold.results[0], RenderedDiagram)
    assert warm.results == cold.results


def test_unsafe_or_oversized_output_is_d004() -> None:
    big = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">'
        + "".join(f'<rect x="{i}" width="1" height="1"/>' for i in range(70_000))
        + "</svg>"
    )
    outcome = render_all(
        [DiagramRequest("svg", big, "x.md", 12, "p")],
        cache=None,
        jobs=1,
        timeout=5,
        progress=False,
        engines={"svg": PassthroughEngine()},
    )
    (diag,) = outcome.diagnostics
    assert (diag.code, diag.line) == ("D004", 12)
    assert "MB" in diag.message


def test_progress_bar_only_when_asked_and_worthwhile() -> None:
    requests = [DiagramRequest("dot", _dot(100 + i), "p.md", i + 1, f"p{i}") for i in range(8)]
    stream = io.StringIO()
    render_all(requests, cache=None, jobs=2, timeout=30, progress=True, engines=_counting(), progress_stream=stream)
    assert "8/8" in stream.getvalue() and stream.getvalue().endswith("\n")

    quiet = io.StringIO()
    render_all(requests, cache=None, jobs=2, timeout=30, progress=False, engines=_counting(), progress_stream=quiet)
    few = io.StringIO()
    render_all(requests[:2], cache=None, jobs=2, timeout=30, progress=True, engines=_counting(), progress_stream=few)
    assert quiet.getvalue() == "" and few.getvalue() == ""


def test_unknown_language_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="tikz"):
        render_all([DiagramRequest("tikz", "x", "a.md", 1, "d")], cache=None, jobs=1, timeout=1, progress=False)
