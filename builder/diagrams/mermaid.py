"""Mermaid engine (mermaidx: mermaid.js in QuickJS): Mermaid source in, SVG text out."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from builder.diagrams.base import (
    DiagramError,
    DiagramSyntaxError,
    DiagramTimeoutError,
    EngineMissingError,
    engine_env,
    package_version,
    run_process,
)

if TYPE_CHECKING:
    from builder.diagrams.workers import Worker

DISTRIBUTION = "mermaidx"
#: The version the builder is tested with (it bundles mermaid.js 11.16.0); used in the install hint.
PINNED_VERSION = "0.10.1"
INSTALL_HINT = f"install it with `pip install {DISTRIBUTION}=={PINNED_VERSION}` (pure pip, no Node.js or browser)"

THEME = "default"
#: Mermaid draws edge labels on a half-transparent box and sequence-diagram texts on nothing, so edges and
#: lifelines show through the words. Labels sit on opaque white instead (the diagram's own background, so
#: they read as a gap in the line), and texts that lines may cross get a white halo (a stroke painted under
#: the glyphs). Mermaid prefixes each rule with the diagram's id, so they outrank its own rules of the same
#: shape.
THEME_CSS = (
    ".edgeLabel rect, .labelBkg { opacity: 1 !important; fill: #ffffff !important; background-color: #ffffff; }"
    " .messageText, .loopText, .loopText > tspan, .labelText, .labelText > tspan"
    " { paint-order: stroke fill; stroke: #ffffff !important; stroke-width: 4px; stroke-linejoin: round; }"
)
#: Labels as SVG <text> instead of HTML in <foreignObject>: those survive sanitising, are found by the
#: occlusion stage and look the same in every webview that shows the diagram as an <img>.
CONFIG: dict[str, object] = {
    "deterministicIds": True,
    # Rounded shapes are drawn with rough.js, which jitters its curves at random unless seeded.
    "handDrawnSeed": 1,
    "flowchart": {"htmlLabels": False},
    "htmlLabels": False,
    "securityLevel": "strict",
    "themeCSS": THEME_CSS,
}

#: Run before every render, in the renderer's JavaScript context: Math.random seeded afresh (gitGraph names
#: commits with random ids, the DOM shim's crypto draws from it) and the clock stopped at 2000-01-01T00:00:00Z
#: (anything Mermaid dates "now", e.g. a Gantt task without a start). The same source gives the same bytes.
DETERMINISM_JS = r"""
(function () {
  var seed = 0x2545f491;
  Math.random = function () {
    seed = (seed + 0x6d2b79f5) | 0;
    var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  var Real = globalThis.__deckforgeRealDate || Date;
  globalThis.__deckforgeRealDate = Real;
  var FIXED = 946684800000;
  function FixedDate() {
    if (!(this instanceof FixedDate)) return new Real(FIXED).toString();
    var args = Array.prototype.slice.call(arguments);
    return args.length ? new (Function.prototype.bind.apply(Real, [null].concat(args)))() : new Real(FIXED);
  }
  FixedDate.prototype = Real.prototype;
  FixedDate.now = function () { return FIXED; };
  FixedDate.UTC = Real.UTC;
  FixedDate.parse = Real.parse;
  globalThis.Date = FixedDate;
})();
"""

#: The single-use worker: one interpreter per diagram, which loads the engine, renders and exits. Kept as the
#: baseline the benchmark measures the long-lived worker against (BUILDER_MERMAID_SINGLE_USE=1), and for systems
#: without fork(). mermaidx keeps a QuickJS context in-process with no way to interrupt it, so a render runs in
#: a child interpreter that we can kill on timeout. The child only needs mermaidx, not this package.
_WORKER = r"""
import json, sys
try:
    import mermaidx
except ImportError as exc:
    print(json.dumps({"missing": str(exc)}))
    sys.exit(3)
request = json.loads(sys.stdin.read())
# Every render script starts with the builder's determinism prelude (see DETERMINISM_JS).
import mermaidx.engines.quickjs_engine as _engine
_render_script = _engine.render_script
_engine.render_script = lambda *args: request["prelude"] + _render_script(*args)
try:
    svg = mermaidx.render(request["source"], theme=request["theme"], config=request["config"]).svg()
except Exception as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit(2)
print(json.dumps({"svg": svg}))
"""
SINGLE_USE_ENV = "BUILDER_MERMAID_SINGLE_USE"
#: Faster selector and stylesheet lookups for mermaidx's DOM shim, and the SHA-256 of the one dom_shim.js
#: (mermaidx 0.10.1's) they replace functions of; with any other the long-lived worker runs the shim as it is.
FAST_SHIM = Path(__file__).with_name("mermaid_shim.js")
#: The long-lived worker's program; run from its text, so that its process never imports the builder.
ZYGOTE = Path(__file__).with_name("mermaid_zygote.py")
FAST_SHIM_FOR = "001182a63e4ebe6cadaad71c1db50479760b2c464c315c9b4f0347bd888af44b"

_LINE = re.compile(r"\bon line (\d+)")
#: A Gantt diagram: its first statement (after blank lines, %% comments and a front-matter or init block).
_GANTT = re.compile(r"^(?:\s*(?:%%[^\n]*)?\n)*\s*(?:---\n.*?\n---\s*\n(?:\s*\n)*)?\s*gantt\b", re.DOTALL)
_NOISE_PREFIXES = ("Mermaid rendering failed:", "Error:", "UnknownDiagramError:")


class MermaidEngine:
    name = "mermaid"
    options = json.dumps(
        {"config": CONFIG, "gantt": "todayMarker off", "prelude": DETERMINISM_JS, "theme": THEME}, sort_keys=True
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._worker: Worker | None = None

    def version(self) -> str:
        return package_version(DISTRIBUTION) or "missing"

    def available(self) -> str | None:
        if find_spec("mermaidx") is None:
            return f"Mermaid (mermaidx) is not installed: {INSTALL_HINT}"
        return None

    def render(self, source: str, *, timeout: float) -> str:
        if _GANTT.match(source):
            # A Gantt chart draws a line at today's date; Mermaid reads the switch from the diagram only. Last,
            # so it wins over the author's own and no line number before it moves.
            source = f"{source.rstrip()}\ntodayMarker off\n"
        if os.environ.get(SINGLE_USE_ENV) == "1" or not hasattr(os, "fork"):
            return render_single_use(source, timeout=timeout)
        deadline = time.monotonic() + timeout
        worker = self._running_worker()
        # The first renders wait for the engine to load, as a single-use process would, within their time.
        if not worker.wait_started(deadline):
            raise DiagramTimeoutError(f"render took longer than {timeout:g} s and was stopped")
        if "missing" in worker.hello:
            raise EngineMissingError(f"Mermaid (mermaidx) is not installed: {INSTALL_HINT}")
        if "ready" not in worker.hello:
            raise DiagramError(f"the Mermaid renderer failed: {worker.hello.get('failed') or worker.ended}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DiagramTimeoutError(f"render took longer than {timeout:g} s and was stopped")
        reply = worker.request({"source": source}, timeout=remaining)
        if "timeout" in reply:
            raise DiagramTimeoutError(f"render took longer than {timeout:g} s and was stopped")
        if "crashed" in reply:
            raise DiagramError(f"the Mermaid renderer failed: {reply['crashed']}")
        return _svg_or_error(reply)

    def close(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()

    def _running_worker(self) -> Worker:
        """The long-lived worker, started on first use and replaced once it has died."""
        with self._lock:
            dead = self._worker if self._worker is not None and self._worker.ended is not None else None
            if self._worker is None or dead is not None:
                self._worker = start_worker()
            worker = self._worker
        if dead is not None:
            dead.close()
        return worker


def start_worker() -> Worker:
    """A long-lived Mermaid worker (builder/diagrams/mermaid_zygote.py) with this engine's settings."""
    # Imported here: a build without Mermaid diagrams never loads the worker machinery.
    from builder.diagrams.workers import Worker

    settings = {
        "config": CONFIG,
        "prelude": DETERMINISM_JS,
        "shim": FAST_SHIM.read_text(encoding="utf-8"),
        "shim_for": FAST_SHIM_FOR,
        "theme": THEME,
    }
    program = ZYGOTE.read_text(encoding="utf-8")
    # -P: a file named like a module in the build's working directory must not shadow mermaidx.
    return Worker([sys.executable, "-P", "-c", program], settings, engine_env(("PYTHONSTARTUP",)))


def render_single_use(source: str, *, timeout: float) -> str:
    """Render in a fresh interpreter of its own (the baseline; see _WORKER). `source` as MermaidEngine.render
    passes it on."""
    request = json.dumps({"config": CONFIG, "prelude": DETERMINISM_JS, "source": source, "theme": THEME})
    # -P: a file named like a module in the build's working directory must not shadow mermaidx.
    result = run_process(
        [sys.executable, "-P", "-c", _WORKER],
        input_text=request,
        timeout=timeout,
        missing_hint=INSTALL_HINT,
        env=engine_env(("PYTHONSTARTUP",)),
    )
    reply = _last_json(result.stdout)
    if "missing" in reply:
        raise EngineMissingError(f"Mermaid (mermaidx) is not installed: {INSTALL_HINT}")
    if "svg" not in reply and "error" not in reply:
        detail = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        raise DiagramError(f"the Mermaid renderer failed: {detail[0]}")
    return _svg_or_error(reply)


def _svg_or_error(reply: dict[str, object]) -> str:
    if "svg" in reply:
        return str(reply["svg"])
    raise mermaid_syntax_error(str(reply.get("error", "")))


def mermaid_syntax_error(raw: str) -> DiagramSyntaxError:
    """Mermaid's parser message without the echoed source line and caret, on one line."""
    text = raw.strip()
    changed = True
    while changed:
        changed = False
        for prefix in _NOISE_PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :].strip()
                changed = True
    kept = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("...") and not re.fullmatch(r"-*\^", line.strip())
    ]
    message = " ".join(kept) or "Mermaid could not parse the diagram"
    match = _LINE.search(message)
    return DiagramSyntaxError(message, line=int(match.group(1)) if match else None)


def _last_json(stdout: str) -> dict[str, object]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}
