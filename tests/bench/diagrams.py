"""The diagram corpus: 40 distinct Mermaid diagrams of every kind an author draws, as a deck in our format.

A pure function (no randomness), so every run renders the same diagrams: flowcharts (shapes that go through
rough.js, subgraphs, styles), sequence, class, state, entity-relationship, gitGraph, Gantt, and one each of
the rarer kinds. Variants of a kind differ in size and labels, so no two diagrams share a cache entry.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from builder.diagrams.mermaid import SINGLE_USE_ENV
from tests.bench.corpus import start_deck
from tests.bench.measure import Run, run

DECK_ID = 1733059299002
PER_FILE = 10

_STEPS = ("Collect", "Clean", "Label", "Split", "Train", "Tune", "Evaluate", "Package", "Deploy", "Monitor")
_ACTORS = ("Client", "Gateway", "Auth", "Orders", "Stock", "Billing", "Mailer")


def _flow_chain(v: int) -> str:
    steps = _STEPS[: 4 + v]
    lines = [f"flowchart {'LR' if v % 2 else 'TD'}"]
    lines += [f"  s{i}[{name}] --> s{i + 1}[{steps[i + 1]}]" for i, name in enumerate(steps[:-1])]
    lines.append(f"  s{len(steps) - 1} -->|retry {v}| s1")
    return "\n".join(lines)


def _flow_shapes(v: int) -> str:
    return (
        f"flowchart LR\n  start([Request {v}]) --> check{{Cached?}}\n  check -->|yes| hit((Hit))\n"
        f"  check -->|no| db[(Store {v})]\n  db --> calc{{{{Compute}}}}\n  calc --> done>Reply]\n"
        "  hit --> done\n  done --> log[/Audit log/]"
    )


def _flow_subgraphs(v: int) -> str:
    return (
        "flowchart TB\n"
        f"  subgraph ingest [Ingest {v}]\n    a1[Upload] --> a2[Scan]\n  end\n"
        f"  subgraph serve [Serve {v}]\n    b1[Index] --> b2[Query]\n    b2 --> b3[Rank]\n  end\n"
        "  a2 --> b1\n  b3 --> out[Answer]"
    )


def _flow_styled(v: int) -> str:
    return (
        "flowchart LR\n  classDef hot fill:#fde2e2,stroke:#c0392b\n  classDef cold fill:#e2ecfd,stroke:#2c5aa0\n"
        f"  a[Write {v}]:::hot --> b[Replicate]:::hot\n  b --> c[Archive]:::cold\n"
        f"  c -.-> d[Expire after {30 + v} d]:::cold\n"
        "  b ==> e[Acknowledge]"
    )


def _sequence(v: int) -> str:
    actors = _ACTORS[: 3 + v]
    lines = ["sequenceDiagram", "  autonumber"] if v % 2 else ["sequenceDiagram"]
    lines += [f"  participant {name}" for name in actors]
    for i in range(len(actors) - 1):
        lines.append(f"  {actors[i]}->>+{actors[i + 1]}: step {i + 1}")
    for i in reversed(range(len(actors) - 1)):
        lines.append(f"  {actors[i + 1]}-->>-{actors[i]}: ok {i + 1}")
    return "\n".join(lines)


def _sequence_blocks(v: int) -> str:
    return (
        "sequenceDiagram\n  actor U as User\n  participant A as App\n  participant S as Server\n"
        f"  U->>A: open page {v}\n  loop every {v + 1} s\n    A->>S: poll\n    S-->>A: status\n  end\n"
        "  alt signed in\n    A->>S: fetch profile\n  else guest\n    A->>A: show sign-in\n  end\n"
        "  Note over A,S: TLS everywhere\n  opt slow network\n    A-->>U: spinner\n  end"
    )


def _class(v: int) -> str:
    return (
        f"classDiagram\n  class Shape{v} {{\n    <<abstract>>\n    +area() float\n    +name String\n  }}\n"
        f"  class Circle{{\n    +radius float\n    +area() float\n  }}\n"
        "  class Square{\n    +side float\n    +area() float\n  }\n"
        f'  Shape{v} <|-- Circle\n  Shape{v} <|-- Square\n  Canvas "1" *-- "many" Shape{v} : draws\n'
        + ("  Canvas ..> Renderer : uses\n" if v % 2 else "  Canvas o-- Layer\n")
    )


def _class_generic(v: int) -> str:
    return (
        f"classDiagram\n  class Repository~T~ {{\n    <<interface>>\n    +get(id) T\n    +put(item T) void\n  }}\n"
        f"  class SqlRepository~T~ {{\n    -pool Pool\n    +get(id) T\n  }}\n  Repository~T~ <|.. SqlRepository~T~\n"
        f"  SqlRepository~T~ --> Pool : borrows {v}\n  class Pool {{\n    +size int\n  }}"
    )


def _state(v: int) -> str:
    return (
        "stateDiagram-v2\n  [*] --> Idle\n  Idle --> Running : start\n"
        f"  state Running {{\n    [*] --> Warmup\n    Warmup --> Steady : after {v + 2} s\n    Steady --> [*]\n  }}\n"
        "  Running --> Idle : stop\n  Running --> Failed : error\n  Failed --> [*]"
    )


def _state_fork(v: int) -> str:
    return (
        "stateDiagram-v2\n  state fork_state <<fork>>\n  [*] --> fork_state\n  fork_state --> Fetch\n"
        f"  fork_state --> Verify{v}\n  state join_state <<join>>\n  Fetch --> join_state\n  Verify{v} --> join_state\n"
        "  state decide <<choice>>\n  join_state --> decide\n  decide --> Store : valid\n"
        "  decide --> Reject : invalid\n"
        f"  note right of Store : kept {v + 1} days\n  Store --> [*]\n  Reject --> [*]"
    )


def _er(v: int) -> str:
    return (
        "erDiagram\n  CUSTOMER ||--o{ ORDER : places\n  ORDER ||--|{ LINE_ITEM : contains\n"
        f'  PRODUCT ||--o{{ LINE_ITEM : "sold as {v}"\n  CUSTOMER {{\n    string id PK\n    string email\n  }}\n'
        "  ORDER {\n    int number PK\n    date placed\n    string customer FK\n  }"
    )


def _git(v: int) -> str:
    lines = ["gitGraph", "  commit", "  commit"]
    for b in range(1 + v):
        lines += [f"  branch feature{b}", f"  checkout feature{b}", "  commit", "  commit"]
        lines += ["  checkout main", f"  merge feature{b}"]
    lines.append(f'  commit tag: "v{v + 1}.0"')
    return "\n".join(lines)


def _gantt(v: int) -> str:
    return (
        f"gantt\n  title Release {v + 1}\n  dateFormat YYYY-MM-DD\n  section Build\n"
        f"  Design :done, d1, 2024-01-0{v + 1}, 5d\n  Implement :active, i1, after d1, {8 + v}d\n"
        "  section Ship\n  Test :t1, after i1, 4d\n  Release :milestone, after t1, 0d"
    )


def _pie(v: int) -> str:
    return 'pie title Traffic by region\n  "Europe" : 42\n  "Americas" : 35\n  "Asia" : 18\n  "Other" : 5'


def _journey(v: int) -> str:
    return (
        "journey\n  title Checkout\n  section Browse\n    Find item: 5: Shopper\n    Read reviews: 3: Shopper\n"
        "  section Pay\n    Enter card: 2: Shopper, Bank\n    Confirm: 4: Shopper"
    )


def _mindmap(v: int) -> str:
    return "mindmap\n  root((Cloud))\n    Compute\n      VMs\n      Functions\n    Storage\n      Objects\n      Blocks"


def _timeline(v: int) -> str:
    return (
        "timeline\n  title Platform history\n  2019 : First release\n  2021 : Multi-region\n       : Billing v2\n"
        "  2023 : Serverless tier"
    )


def _quadrant(v: int) -> str:
    return (
        "quadrantChart\n  title Effort and value\n  x-axis Low effort --> High effort\n"
        "  y-axis Low value --> High value\n"
        "  quadrant-1 Plan\n  quadrant-2 Do now\n  quadrant-3 Drop\n  quadrant-4 Delegate\n"
        "  Caching: [0.2, 0.8]\n  Rewrite: [0.9, 0.6]\n  Docs: [0.3, 0.3]"
    )


def _xychart(v: int) -> str:
    return (
        'xychart-beta\n  title "Requests per hour"\n  x-axis [00, 04, 08, 12, 16, 20]\n'
        '  y-axis "Requests" 0 --> 900\n  bar [120, 80, 450, 800, 700, 300]\n  line [120, 80, 450, 800, 700, 300]'
    )


def _sankey(v: int) -> str:
    return "sankey-beta\nIngress,API,60\nIngress,Static,40\nAPI,Cache,35\nAPI,Database,25\nStatic,CDN,40"


def _requirement(v: int) -> str:
    return (
        "requirementDiagram\n  requirement latency {\n    id: 1\n    text: answer within 200 ms\n"
        "    risk: medium\n    verifymethod: test\n  }\n  element gateway {\n    type: service\n  }\n"
        "  gateway - satisfies -> latency"
    )


def _block(v: int) -> str:
    return 'block-beta\n  columns 3\n  a["Load balancer"]:3\n  b["Web 1"] c["Web 2"] d["Web 3"]\n  e["Database"]:3'


def _packet(v: int) -> str:
    return (
        'packet-beta\n  0-15: "Source port"\n  16-31: "Destination port"\n  32-63: "Sequence number"\n'
        '  64-95: "Acknowledgment number"'
    )


#: (kind, how many variants of it): 40 in all.
_KINDS: tuple[tuple[Callable[[int], str], int], ...] = (
    (_flow_chain, 3), (_flow_shapes, 2), (_flow_subgraphs, 2), (_flow_styled, 2),
    (_sequence, 3), (_sequence_blocks, 2), (_class, 2), (_class_generic, 2), (_state, 2), (_state_fork, 2),
    (_er, 2), (_git, 3), (_gantt, 3), (_pie, 1), (_journey, 1), (_mindmap, 1), (_timeline, 1), (_quadrant, 1),
    (_xychart, 1), (_sankey, 1), (_requirement, 1), (_block, 1), (_packet, 1),
)  # fmt: skip


def diagrams() -> list[str]:
    """The 40 Mermaid sources, in a fixed order."""
    return [kind(v) for kind, variants in _KINDS for v in range(variants)]


def write_diagram_deck(root: Path, slug: str = "diagrams", count: int = 40) -> Path:
    """Write `root/source/<slug>/` with one note per diagram (the first `count`) and an empty `root/media/`;
    return `root`."""
    deck = start_deck(root, slug, "Bench diagrams", "Diagram benchmark deck.", DECK_ID)
    sources = diagrams()[:count]
    for first in range(0, len(sources), PER_FILE):
        notes = [
            f"## What does diagram {i} show?\n<!-- id: diagram-{i:02d} -->\n\n```mermaid\n{sources[i]}\n```\n"
            for i in range(first, min(first + PER_FILE, len(sources)))
        ]
        text = f"---\ndeck: Diagrams\n---\n\n# Diagrams {first // PER_FILE}\n\n" + "\n".join(notes)
        (deck / f"diagrams-{first // PER_FILE}.md").write_text(text, encoding="utf-8")
    return root


def bench_diagrams(work: Path, count: int, repeat: int, jobs: int | None, env: Mapping[str, str]) -> dict[str, object]:
    """Cold builds of a deck of the first `count` diagrams: Mermaid's long-lived workers against one process per
    diagram (BUILDER_MERMAID_SINGLE_USE=1, how every diagram was rendered before), alternating, `repeat` each.

    Every build is a whole builder process with no cache and no dist/, as an author's first build is. Both
    kinds must write the same package, byte for byte: anything else fails the benchmark.
    """
    count = min(count, len(diagrams()))
    root = write_diagram_deck(work / "diagram-deck", count=count)
    cache, dist, timings = root / "cache", root / "dist", root / "timings.json"
    folders = ["--source", "source", "--media", "media", "--out", "dist"] + (["--jobs", str(jobs)] if jobs else [])
    build = [sys.executable, "-m", "builder", "build", *folders, "--timings", str(timings)]
    kinds = {"single_use": {SINGLE_USE_ENV: "1"}, "workers": {}}
    runs: dict[str, list[Run]] = {kind: [] for kind in kinds}
    packages: dict[str, bytes] = {}
    for _ in range(repeat):
        for kind, extra in kinds.items():
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(dist, ignore_errors=True)
            runs[kind].append(run(build, {**env, "BUILDER_CACHE_DIR": str(cache), **extra}, root, timings))
            (package,) = dist.glob("*.apkg")
            packages[kind] = package.read_bytes()
        if packages["single_use"] != packages["workers"]:
            raise RuntimeError("the long-lived Mermaid workers wrote a different package than one process per diagram")
    shutil.rmtree(root)
    return {"diagrams": count, **{kind: _median(found) for kind, found in runs.items()}}


def _median(runs: list[Run]) -> Run:
    ordered = sorted(runs, key=lambda r: r.seconds)
    middle = ordered[len(ordered) // 2]
    return Run(middle.seconds, max(r.peak_mb for r in runs), middle.stages)


def diagram_table(result: Mapping[str, object]) -> str:
    single, workers = result["single_use"], result["workers"]
    assert isinstance(single, Run) and isinstance(workers, Run)
    out = [f"\n{result['diagrams']} Mermaid diagrams, cold build"]
    out.append("| run                     | seconds | x single-use | peak MB | diagrams stage |")
    out.append("|---|---:|---:|---:|---:|")
    for label, r in (("one process per diagram", single), ("long-lived workers", workers)):
        ratio, stage = r.seconds / single.seconds, r.stages.get("diagrams", 0.0)
        out.append(f"| {label:<23} | {r.seconds:7.3f} | {ratio:12.3f} | {r.peak_mb:7.0f} | {stage:14.3f} |")
    return "\n".join(out) + "\n"


def diagram_ratio(result: Mapping[str, object]) -> tuple[float, str]:
    """The target's ratio (workers / single-use) and where the workers' time went."""
    single, workers = result["single_use"], result["workers"]
    assert isinstance(single, Run) and isinstance(workers, Run)
    why = (
        f"the diagram stage took {workers.stages.get('diagrams', 0.0):.2f} s of {workers.seconds:.2f} s "
        "(loading the engine once, then one fork and render per diagram; docs/performance.md)"
    )
    return workers.seconds / single.seconds, why
