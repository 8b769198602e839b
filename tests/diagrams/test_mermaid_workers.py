"""Mermaid's long-lived worker: the same bytes as a process per diagram, killable, replaced, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from builder.diagrams.base import DiagramError, DiagramTimeoutError
from builder.diagrams.mermaid import SINGLE_USE_ENV, MermaidEngine, start_worker
from builder.diagrams.runner import DiagramRequest, RenderedDiagram, engines_kept_open, render_all

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds processes through /proc")

REPO = Path(__file__).resolve().parents[2]
#: What the worker's command line starts with (its program's docstring), to find it among our children.
WORKER_MARK = "The long-lived Mermaid worker"

#: One of each kind the corpus is made of, where bytes could differ: rough.js shapes, ids that mermaid.js
#: counts up, gitGraph's random commit ids, a Gantt chart's "today", text beyond Latin-1, a syntax error.
VARIED = {
    "shapes": "flowchart LR\n  a([Start]) --> b{Cached?}\n  b -->|yes| c((Hit))\n  b -->|no| d[(Store)]\n",
    "sequence": "sequenceDiagram\n  autonumber\n  A->>+B: ask\n  B-->>-A: answer\n  Note over A,B: twice\n",
    "class": "classDiagram\n  Animal <|-- Duck\n  Animal : +int age\n  class Duck{\n    +swim()\n  }\n",
    "state": "stateDiagram-v2\n  [*] --> Idle\n  Idle --> Busy : start\n  Busy --> [*]\n",
    "git": "gitGraph\n  commit\n  branch dev\n  checkout dev\n  commit\n  checkout main\n  merge dev\n",
    "gantt": "gantt\n  dateFormat YYYY-MM-DD\n  section A\n  Plan :p1, 2024-01-01, 3d\n  Do :after p1, 2d\n",
    "unicode": "flowchart TD\n  a[Café — naïve] --> b[東京 → Zürich]\n",
    "broken": "flowchart LR\n  A --> B\n  B --> --> C[\n",
}
HEAVY = "flowchart TD\n" + "\n".join(f"  n{i}[Step {i}] --> n{i + 1}[Step {i + 1}]" for i in range(80))


def _outcome(engine: MermaidEngine, source: str) -> str:
    try:
        return engine.render(source, timeout=60)
    except DiagramError as exc:
        return f"{type(exc).__name__}: {exc} (line {exc.line})"


@pytest.fixture
def engine() -> Iterator[MermaidEngine]:
    fresh = MermaidEngine()
    try:
        yield fresh
    finally:
        fresh.close()


def test_the_worker_renders_the_bytes_a_process_per_diagram_does(
    engine: MermaidEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = {name: _outcome(engine, source) for name, source in VARIED.items()}
    monkeypatch.setenv(SINGLE_USE_ENV, "1")
    with ThreadPoolExecutor(2) as pool:
        single = dict(zip(VARIED, pool.map(lambda source: _outcome(engine, source), VARIED.values()), strict=True))
    for name in VARIED:
        assert warm[name] == single[name], name
    assert warm["broken"].startswith("DiagramSyntaxError: Parse error on line 3")
    assert all("<svg" in warm[name] for name in VARIED if name != "broken")


def test_the_faster_dom_shim_applies_to_the_pinned_mermaidx() -> None:
    worker = start_worker()
    try:
        assert worker.wait_started(time.monotonic() + 60)
        assert worker.hello == {"ready": True, "fast_shim": True}
    finally:
        worker.close()


def test_a_render_past_its_timeout_is_killed_and_the_worker_keeps_serving(engine: MermaidEngine) -> None:
    worker = _started_worker(engine)
    start = time.monotonic()
    with pytest.raises(DiagramTimeoutError, match=r"longer than 0\.5 s"):
        engine.render(HEAVY, timeout=0.5)
    assert time.monotonic() - start < 3
    assert _children(worker) == []
    assert "<svg" in engine.render(VARIED["git"], timeout=60)
    assert worker in _workers(os.getpid())


def test_a_killed_render_is_an_error_of_that_diagram_only(engine: MermaidEngine) -> None:
    worker, _, failure = _killed_mid_render(engine, kill_worker=False)
    assert isinstance(failure, DiagramError)
    assert str(failure) == "the Mermaid renderer failed: killed by signal 9"
    assert "<svg" in engine.render(VARIED["git"], timeout=60)
    assert worker in _workers(os.getpid())


def test_a_crashed_worker_fails_its_renders_and_is_replaced(engine: MermaidEngine) -> None:
    worker, child, failure = _killed_mid_render(engine, kill_worker=True)
    assert isinstance(failure, DiagramError)
    assert str(failure) == "the Mermaid renderer failed: the worker stopped (killed by signal 9)"
    assert _gone([child])
    others = set(_workers(os.getpid()))
    assert "<svg" in engine.render(VARIED["git"], timeout=60)
    (replacement,) = set(_workers(os.getpid())) - others
    assert replacement != worker


def test_ctrl_c_during_a_build_leaves_no_renderer_running(tmp_path: Path) -> None:
    deck = tmp_path / "source" / "heavy"
    deck.mkdir(parents=True)
    (tmp_path / "media").mkdir()
    (deck / "deck.toml").write_text('name = "Heavy"\nid = 1733059299003\nversion = "1.0.0"\n', encoding="utf-8")
    notes = [
        f"## What does chain {i} show?\n<!-- id: chain-{i} -->\n\n```mermaid\n{HEAVY}\n  n0 --> x{i}\n```\n"
        for i in range(4)
    ]
    (deck / "notes.md").write_text("\n".join(notes), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "BUILDER_CACHE_DIR": str(tmp_path / "cache")}
    build = subprocess.Popen(
        [sys.executable, "-m", "builder", "build", "--source", "source", "--media", "media", "--out", "dist"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        (worker,) = _wait_for(lambda: _workers(build.pid))
        renders = _wait_for(lambda: _children(worker))
        build.send_signal(signal.SIGINT)
        _, errors = build.communicate(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert build.returncode == 130, errors.decode()
    assert "Traceback" not in errors.decode()
    assert _gone([worker, *renders])


def _started_worker(engine: MermaidEngine) -> int:
    """The process id of the worker `engine` starts for its first render (other engines may have theirs)."""
    others = set(_workers(os.getpid()))
    engine.render(VARIED["state"], timeout=60)
    (worker,) = set(_workers(os.getpid())) - others
    return worker


def _killed_mid_render(engine: MermaidEngine, kill_worker: bool) -> tuple[int, int, str | DiagramError]:
    """Start a heavy render, SIGKILL its child (or the whole worker) while it runs: the worker, the child and what
    the render returned."""
    worker = _started_worker(engine)
    rendering = _in_background(lambda: engine.render(HEAVY, timeout=60))
    (child,) = _wait_for(lambda: _children(worker))
    os.kill(worker if kill_worker else child, signal.SIGKILL)
    return worker, child, rendering()


def _in_background(render: Callable[[], str]) -> Callable[[], str | DiagramError]:
    """Start `render` on a thread; the returned function waits for it and gives its result or its error."""
    outcome: list[str | DiagramError] = []

    def run() -> None:
        try:
            outcome.append(render())
        except DiagramError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()

    def result() -> str | DiagramError:
        thread.join(60)
        return outcome[0]

    return result


def _wait_for(found: Callable[[], list[int]], seconds: float = 30) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = found()
        if pids:
            return pids
        time.sleep(0.02)
    raise AssertionError("not found in time")


def _gone(pids: list[int], seconds: float = 10) -> bool:
    """Whether every one of `pids` has ended (SIGKILL takes effect when the process next runs)."""
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except OSError:
        pass
    return [child for child in found if _alive(child)]


def _workers(pid: int) -> list[int]:
    """The Mermaid workers among the children of `pid`."""
    out = []
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if WORKER_MARK.encode() in command:
            out.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_watch_keeps_the_engine_loaded_between_rebuilds_and_closes_it_after() -> None:
    """`watch` keeps one worker for all its rebuilds (no engine load per edited diagram); a build keeps none."""
    engine = MermaidEngine()

    def stage(source: str) -> None:
        request = DiagramRequest("mermaid", source, "notes.md", 1, "d1")
        outcome = render_all([request], cache=None, jobs=1, timeout=60, progress=False, engines={"mermaid": engine})
        (result,) = outcome.results
        assert isinstance(result, RenderedDiagram) and "<svg" in result.text

    stage("flowchart LR\n  a --> b\n")
    assert engine._worker is None, "a one-shot diagram stage leaves no worker running"
    with engines_kept_open():
        stage("flowchart LR\n  c --> d\n")
        worker = engine._worker
        assert worker is not None and worker.ended is None
        stage("flowchart LR\n  e --> f\n")
        assert engine._worker is worker, "the second rebuild reused the loaded engine"
    assert engine._worker is None and worker.ended is not None, "the worker ends with watch"
