"""Diagram engines by fence language: a fenced block's language in, the engine that renders it to SVG out."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from builder.diagrams.base import DiagramEngine
from builder.diagrams.d2 import D2Engine
from builder.diagrams.graphviz import GraphvizEngine
from builder.diagrams.mermaid import MermaidEngine
from builder.diagrams.plantuml import PlantUMLEngine

_GRAPHVIZ = GraphvizEngine()

ENGINES: Mapping[str, DiagramEngine] = MappingProxyType(
    {
        "d2": D2Engine(),
        "dot": _GRAPHVIZ,
        "graphviz": _GRAPHVIZ,
        "mermaid": MermaidEngine(),
        "plantuml": PlantUMLEngine(),
    }
)

__all__ = ["ENGINES"]
