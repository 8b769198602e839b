"""Confinement (E134): every way D2 and Graphviz can name a file is found, checked against the real engines."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from builder.diagrams import d2, graphviz
from builder.diagrams.confine import includes

#: D2 sources that read the file `zzq` (or `zzq.d2`): imports in every quoting, icons in every spelling.
D2_READS = [
    'x: @"zzq"',
    "x: @'zzq'",
    "...@zzq",
    '...@"zzq"',
    "x: @ zzq",
    "x: {...@ zzq}",
    "a: [@zzq]",
    "a: [\n  ...@zzq\n]",
    'a: foo"bar; b: @zzq; c: x"',
    "a: x; 'b': @zzq",
    "a: |`x | y`|\nb: @zzq",
    'a: "x\\\n"; b: @zzq',
    "a: x\\\n; b: @zzq",
    "a.\"x; 'y\": @zzq '",
    'a: [x; "y"; @zzq]',
    "a\t:\t@zzq",
    "c: {shape: image; icon: /zzq}",
    "a.icon: zzq",
    "a: {icon: 'zzq'}",
    'a: {icon: "zzq"}',
    "a: {ic\\on: zzq}",
    "a: {ic\\\n  on: zzq}",
    "classes: {c: {icon: zzq}}\nb.class: c",
    "vars: {m: {icon: zzq}}\na: {...${m}}",
    "vars: {v: zzq}\na.icon: ${v}",
    "*.icon: zzq\nq",
    "a -> b: {icon: zzq}",
    "a: x {icon: zzq}",
    "a: {\n  icon: zzq # c\n}",
]
#: D2 sources that read nothing and say `@` or `icon` as text: they must render.
D2_TEXT = [
    'a: "user @zzq"',
    "a: 'x @zzq'",
    "a: |md contact @zzq |",
    "# a comment @zzq icon: y",
    "email: a@zzq.com",
    'a: "icon: zzq"',
    '"icon": zzq',
    'a: {"icon": zzq}',
    "Icon: zzq",
    '"""\nx: @zzq\n"""\nq',
    "a: |||\n  x || y @zzq\n|||",
    "a: 'x''; b: @zzq'",
    "a: |`` x `|\nb: @zzq\n``|",
    "a -> b: uses an icon",
    "(a -> b)[0].style.stroke: red",
    "a: Don't panic",
    'a.style.fill: "#ff0000"',
    'a: "x" {shape: circle}',
]
DOT_READS = [
    'digraph{a [label="", image="zzq"]}',
    'digraph{a [label="", "image"="zzq"]}',
    'digraph{a [label="", image/**/="zzq"]}',
    'digraph{a [label="", image\n=\n"zzq"]}',
    'digraph{a [label="", image // c\n="zzq"]}',
    'digraph{a [label="", image # c\n="zzq"]}',
    'digraph{a [label="", "im"+"age"="zzq"]}',
    'digraph{a [label="", "im" /* c */ + "age" = "zzq"]}',
    'digraph{a [label="", "ima\\\nge"="zzq"]}',
    'digraph{a [label="", <image>="zzq"]}',
    'digraph{a [label="", <im> + "age"="zzq"]}',
    'digraph{node [image="zzq"]; a}',
    'digraph{a [label=<<TABLE><TR><TD><IMG SRC="zzq"/></TD></TR></TABLE>>]}',
    'digraph{a [shape=epsf, shapefile="zzq"]}',
]
DOT_TEXT = [
    'digraph{a [label="image=zzq"]}',
    'digraph{a [label="<IMG SRC=zzq>"]}',
    'digraph{/* image="zzq" */ a}',
    'digraph{a // image="zzq"\n}',
    'digraph{a [label="x\\"", b="image=zzq"]}',
    "digraph{image -> b}",
]


def _d2_reads(source: str, cwd: Path) -> bool:
    binary = d2.find_binary()
    assert binary is not None
    argv = [binary, *d2.FLAGS, "-", "-"]
    result = subprocess.run(argv, input=source, capture_output=True, text=True, cwd=cwd, check=False)
    return "failed to import" in result.stderr or "failed to bundle" in result.stderr


def _dot_reads(source: str, cwd: Path) -> bool:
    binary = graphviz.find_binary()
    assert binary is not None
    result = subprocess.run([binary, "-Tsvg"], input=source, capture_output=True, text=True, cwd=cwd, check=False)
    return any(word in result.stderr for word in ("opening", "as a file", "epsf", "improper"))


@pytest.mark.parametrize("source", D2_READS)
def test_every_d2_file_read_is_refused(tmp_path: Path, source: str) -> None:
    assert _d2_reads(source, tmp_path), "the case must make the real d2 read a file"
    assert includes("d2", source)


@pytest.mark.parametrize("source", D2_TEXT)
def test_d2_text_that_says_at_or_icon_is_allowed(tmp_path: Path, source: str) -> None:
    assert not _d2_reads(source, tmp_path)
    assert includes("d2", source) == []


@pytest.mark.parametrize("source", DOT_READS)
def test_every_graphviz_file_read_is_refused(tmp_path: Path, source: str) -> None:
    assert _dot_reads(source, tmp_path), "the case must make the real Graphviz read a file"
    assert includes("graphviz", source)


@pytest.mark.parametrize("source", DOT_TEXT)
def test_graphviz_text_that_says_image_is_allowed(tmp_path: Path, source: str) -> None:
    assert not _dot_reads(source, tmp_path)
    assert includes("graphviz", source) == []


def test_positions_point_at_the_keyword() -> None:
    found = includes("d2", 'a: "@x"\nb: {shape: image; icon: x}\nc: @ "y"')
    assert [(i.line, i.col, i.found, i.kind) for i in found] == [(1, 18, "icon", "icon"), (2, 3, "@", "")]
    found = includes("graphviz", 'digraph {\n  a [label="",\n     "im" + "age" = "x"]\n}')
    assert [(i.line, i.col, i.found) for i in found] == [(2, 5, "image=")]


def test_the_scan_is_linear() -> None:
    # Unterminated strings and comments, deep nesting: no input makes the check slow.
    start = time.monotonic()
    for source in ('"' * 100_000, "/*" * 50_000, "<" * 100_000, "{" * 50_000, "|`" * 50_000, "a: @" * 25_000):
        includes("d2", source)
        includes("graphviz", source)
    assert time.monotonic() - start < 10
