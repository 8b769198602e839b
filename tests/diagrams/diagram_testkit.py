"""Shared helpers for the diagram tests: small real diagrams and engine wrappers (real engines, no mocks)."""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET

from builder.diagrams.base import DiagramEngine, DiagramSyntaxError, run_process
from builder.diagrams.occlusion import Mask

SMALL = {
    "dot": 'digraph G {\n  rankdir=LR;\n  tok [label="Tokenizer"];\n  sam [label="Sampler"];\n  tok -> sam;\n}\n',
    "mermaid": "flowchart LR\n  A[Tokenizer] --> B[Sampler]\n",
    "d2": "tok: Tokenizer\nsam: Sampler\ntok -> sam: tokens\n",
    "plantuml": "@startuml\nAlice -> Bob: hello\n@enduml\n",
}

#: Each source has its error on line 3 of the diagram (D2's on line 5, column 1).
BROKEN = {
    "dot": "digraph {\n  a -> b\n  b -> -> c\n}\n",
    "mermaid": "flowchart LR\n  A --> B\n  B --> --> C[\n",
    "d2": "a -> b\nc: {\n  shape: circle\n}\nd -> \n",
    "plantuml": "@startuml\nAlice -> Bob: hi\nfoo bar ->\n@enduml\n",
}


class CountingEngine:
    """A real engine, wrapped to count how often it is asked to render."""

    def __init__(self, inner: DiagramEngine) -> None:
        self.inner = inner
        self.name = inner.name
        self.options = inner.options
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def version(self) -> str:
        return self.inner.version()

    def available(self) -> str | None:
        return self.inner.available()

    def render(self, source: str, *, timeout: float) -> str:
        with self._lock:
            self.calls.append(source)
        return self.inner.render(source, timeout=timeout)

    def close(self) -> None:
        self.inner.close()


class SleepEngine:
    """An engine whose program never finishes in time: `sleep` in a shell that also starts a child."""

    name = "sleep"
    options = ""

    def __init__(self, pid_file: str) -> None:
        self.pid_file = pid_file

    def version(self) -> str:
        return "1"

    def available(self) -> str | None:
        return None

    def render(self, source: str, *, timeout: float) -> str:
        script = f"sleep 30 & echo $! > {self.pid_file}; wait"
        result = run_process(["sh", "-c", script], input_text=source, timeout=timeout, missing_hint="needs sh")
        raise DiagramSyntaxError(f"sleep ended early: {result.returncode}")

    def close(self) -> None:
        pass


class PassthroughEngine:
    """An 'engine' whose source already is SVG: lets the runner be fed hostile or huge SVG."""

    name = "passthrough"
    options = ""

    def version(self) -> str:
        return "1"

    def available(self) -> str | None:
        return None

    def render(self, source: str, *, timeout: float) -> str:
        return source

    def close(self) -> None:
        pass


def label_anchors(svg: str, *, nodes: bool = False) -> dict[str, tuple[float, float]]:
    """Each <text>'s (x, y) (or, with `nodes`, each g.node's origin: Mermaid centres nodes there) as fractions
    of the viewBox, following translate() and nested <svg> viewBox offsets (D2) on the way down."""
    root = ET.fromstring(svg)
    vx, vy, vw, vh = (float(v) for v in root.attrib["viewBox"].split())
    out: dict[str, tuple[float, float]] = {}

    def visit(el: ET.Element, dx: float, dy: float) -> None:
        for child in el:
            cx, cy = dx, dy
            move = re.search(r"translate\(\s*([-\d.]+)[ ,]+([-\d.]+)", child.get("transform", ""))
            if move:
                cx, cy = cx + float(move.group(1)), cy + float(move.group(2))
            if child.tag.endswith("}svg"):
                inner = [float(v) for v in child.attrib["viewBox"].split()]
                cx, cy = cx - inner[0], cy - inner[1]
            text = " ".join("".join(child.itertext()).split())
            if nodes and "node" in child.get("class", "").split():
                # Keyed without spaces: wrapped rows are separate <tspan>s with nothing between them.
                out[text.replace(" ", "")] = ((cx - vx) / vw, (cy - vy) / vh)
            elif not nodes and child.tag.endswith("}text"):
                out[text] = ((float(child.attrib["x"]) + cx - vx) / vw, (float(child.attrib["y"]) + cy - vy) / vh)
            visit(child, cx, cy)

    visit(root, 0.0, 0.0)
    return out


def contains(mask: Mask, point: tuple[float, float]) -> bool:
    x, y = point
    return mask.left <= x <= mask.left + mask.width and mask.top <= y <= mask.top + mask.height
