"""Mermaid engine (mermaidx: mermaid.js in QuickJS): Mermaid source in, SVG text out."""

from __future__ import annotations

import json
import re
import sys
from importlib.util import find_spec

from builder.diagrams.base import (
    DiagramError,
    DiagramSyntaxError,
    EngineMissingError,
    engine_env,
    package_version,
    run_process,
)

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

# mermaidx keeps a QuickJS context in-process with no way to interrupt it, so every render runs in a child
# interpreter that we can kill on timeout. The child only needs mermaidx, not this package.
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

_LINE = re.compile(r"\bon line (\d+)")
#: A Gantt diagram: its first statement (after blank lines, %% comments and a front-matter or init block).
_GANTT = re.compile(r"^(?:\s*(?:%%[^\n]*)?\n)*\s*(?:---\n.*?\n---\s*\n(?:\s*\n)*)?\s*gantt\b", re.DOTALL)
_NOISE_PREFIXES = ("Mermaid rendering failed:", "Error:", "UnknownDiagramError:")


class MermaidEngine:
    name = "mermaid"
    options = json.dumps(
        {"config": CONFIG, "gantt": "todayMarker off", "prelude": DETERMINISM_JS, "theme": THEME}, sort_keys=True
    )

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
        if "svg" in reply:
            return str(reply["svg"])
        if "missing" in reply:
            raise EngineMissingError(f"Mermaid (mermaidx) is not installed: {INSTALL_HINT}")
        if "error" in reply:
            raise mermaid_syntax_error(str(reply["error"]))
        detail = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        raise DiagramError(f"the Mermaid renderer failed: {detail[0]}")


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
