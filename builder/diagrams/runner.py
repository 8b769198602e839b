"""Diagram rendering stage: diagram requests (fence language + source) in, sanitised SVG media or diagnostics out."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TextIO

from builder.diagrams import ENGINES
from builder.diagrams.base import (
    DiagramEngine,
    DiagramError,
    DiagramSyntaxError,
    DiagramTimeoutError,
    EngineMissingError,
)
from builder.diagrams.cache import DiagramCache, cache_key
from builder.progress import Progress
from builder.sanitize.svg import SvgRemoval, sanitize_svg_report

SYNTAX = "D001"
ENGINE_MISSING = "D002"
TIMEOUT = "D003"
UNSAFE = "D004"

#: Below this many renders a progress bar would only flicker.
PROGRESS_MIN_RENDERS = 6

#: The engines whose long-lived workers stay up after a diagram stage, or None: each stage closes its own.
_KEPT: contextvars.ContextVar[dict[int, DiagramEngine] | None] = contextvars.ContextVar("kept_engines", default=None)


@contextlib.contextmanager
def engines_kept_open() -> Iterator[None]:
    """Keep the engines' workers up from one diagram stage to the next (`watch`), and close them at the end.

    A one-shot build leaves nothing running after its diagram stage. `watch` rebuilds again and again, and
    reloading Mermaid's engine for every edited diagram would cost it about 0.4 s each time.
    """
    kept: dict[int, DiagramEngine] = {}
    token = _KEPT.set(kept)
    try:
        yield
    finally:
        _KEPT.reset(token)
        _close(list(kept.values()))


@dataclass(frozen=True)
class DiagramRequest:
    lang: str  # fence language: a key of ENGINES
    source: str  # diagram source, occlusion markers already stripped
    path: str  # note file path, as given (used in diagnostics only)
    line: int  # 1-based line of the opening fence in that file
    id_prefix: str  # prefix for every id in the SVG, unique per diagram on a card


@dataclass(frozen=True)
class DiagramDiagnostic:
    path: str
    line: int
    col: int
    code: str
    message: str


@dataclass(frozen=True)
class RenderedDiagram:
    svg: bytes  # sanitised SVG, UTF-8
    media_name: str  # diagram-<sha256(svg)[:16]>.svg
    #: What the sanitiser removed (builder.sanitize.policy decides which of it is an error).
    removed: tuple[SvgRemoval, ...] = ()

    @property
    def text(self) -> str:
        return self.svg.decode("utf-8")


@dataclass(frozen=True)
class RenderOutcome:
    #: One entry per request, in request order.
    results: tuple[RenderedDiagram | DiagramDiagnostic, ...]
    #: Engine renders actually run (distinct sources not found in the cache).
    renders: int
    #: Distinct sources served from the cache.
    cache_hits: int

    @property
    def diagnostics(self) -> tuple[DiagramDiagnostic, ...]:
        return tuple(r for r in self.results if isinstance(r, DiagramDiagnostic))


@dataclass(frozen=True)
class _Job:
    key: str
    engine: DiagramEngine
    source: str


def render_all(
    requests: Sequence[DiagramRequest],
    *,
    cache: DiagramCache | None,
    jobs: int,
    timeout: float,
    progress: bool,
    engines: Mapping[str, DiagramEngine] | None = None,
    progress_stream: TextIO | None = None,
) -> RenderOutcome:
    """Render every request, reusing the cache and rendering each distinct source once.

    `engines` defaults to ENGINES. The outcome does not depend on `jobs`, on completion order or on the state
    of the cache. An unknown `lang` is a programming error (dispatch decides what is a diagram): ValueError.
    """
    table = ENGINES if engines is None else engines
    unknown = sorted({r.lang for r in requests if r.lang not in table})
    if unknown:
        raise ValueError(f"no diagram engine for fence language(s): {', '.join(unknown)}")

    versions: dict[str, str] = {}
    missing: dict[str, str | None] = {}
    job_of: list[_Job] = []
    jobs_by_key: dict[str, _Job] = {}
    for request in requests:
        engine = table[request.lang]
        if engine.name not in versions:
            missing[engine.name] = engine.available()
            versions[engine.name] = engine.version()
        key = cache_key(engine.name, versions[engine.name], engine.options, request.source)
        job = jobs_by_key.setdefault(key, _Job(key, engine, request.source))
        job_of.append(job)

    raw: dict[str, str | DiagramError] = {}
    to_render: list[_Job] = []
    hits = 0
    for job in jobs_by_key.values():
        why_missing = missing[job.engine.name]
        if why_missing is not None:
            raw[job.key] = EngineMissingError(why_missing)
            continue
        cached: str | DiagramError | None = None
        if cache is not None:
            cached = cache.get(job.key) or cache.get_failure(job.key)
        if cached is not None:
            raw[job.key] = cached
            hits += 1
        else:
            to_render.append(job)

    with Progress(
        "diagrams", len(to_render), progress_stream, enabled=progress, min_items=PROGRESS_MIN_RENDERS, keep=True
    ) as bar:
        raw.update(_render_jobs(to_render, jobs=jobs, timeout=timeout, bar=bar))
    if cache is not None:
        for job in to_render:
            result = raw[job.key]
            if isinstance(result, str):
                cache.put(job.key, result)
            elif isinstance(result, DiagramSyntaxError):
                cache.put_failure(job.key, result)

    sanitised: dict[tuple[str, str], RenderedDiagram | DiagramError] = {}
    results: list[RenderedDiagram | DiagramDiagnostic] = []
    for request, job in zip(requests, job_of, strict=True):
        result = raw[job.key]
        if isinstance(result, DiagramError):
            results.append(_engine_diagnostic(request, job.engine, result, timeout))
            continue
        memo_key = (job.key, request.id_prefix)
        if memo_key not in sanitised:
            sanitised[memo_key] = _sanitise(result, request.id_prefix)
        done = sanitised[memo_key]
        if isinstance(done, DiagramError):
            results.append(
                DiagramDiagnostic(
                    request.path, request.line, 1, UNSAFE, f"{job.engine.name} diagram rejected: {done.message}"
                )
            )
        else:
            results.append(done)
    return RenderOutcome(tuple(results), len(to_render), hits)


def _render_jobs(
    jobs_to_run: Sequence[_Job], *, jobs: int, timeout: float, bar: Progress
) -> dict[str, str | DiagramError]:
    out: dict[str, str | DiagramError] = {}
    if not jobs_to_run:
        return out
    engines = list({id(job.engine): job.engine for job in jobs_to_run}.values())
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="diagram") as pool:
            # Engines are subprocesses, so threads are enough to keep `jobs` of them busy.
            futures: dict[Future[str], _Job] = {
                pool.submit(job.engine.render, job.source, timeout=timeout): job for job in jobs_to_run
            }
            try:
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        out[job.key] = future.result()
                    except DiagramError as exc:
                        out[job.key] = exc
                    bar.advance()
            except BaseException:
                # Ctrl-C: the renders still running end now (their workers are killed), not at their timeout,
                # and those not started yet never start.
                for future in futures:
                    future.cancel()
                _close(engines)
                raise
    finally:
        kept = _KEPT.get()
        if kept is None:
            # Long-lived workers last one build's diagram stage: nothing is left running after it.
            _close(engines)
        else:
            kept.update((id(engine), engine) for engine in engines)
    return out


def _close(engines: Sequence[DiagramEngine]) -> None:
    for engine in engines:
        engine.close()


def _sanitise(raw_svg: str, id_prefix: str) -> RenderedDiagram | DiagramError:
    try:
        cleaned = sanitize_svg_report(raw_svg, id_prefix=id_prefix)
    except DiagramError as exc:
        return exc
    data = cleaned.text.encode("utf-8")
    return RenderedDiagram(data, f"diagram-{hashlib.sha256(data).hexdigest()[:16]}.svg", cleaned.removed)


def _engine_diagnostic(
    request: DiagramRequest, engine: DiagramEngine, error: DiagramError, timeout: float
) -> DiagramDiagnostic:
    if isinstance(error, EngineMissingError):
        return DiagramDiagnostic(request.path, request.line, 1, ENGINE_MISSING, error.message)
    if isinstance(error, DiagramTimeoutError):
        message = f"the diagram took longer than {timeout:g} s to render; simplify it or raise --diagram-timeout"
        return DiagramDiagnostic(request.path, request.line, 1, TIMEOUT, message)
    # The fence is line 0 of the diagram, so diagram line N is file line fence + N.
    line = request.line + error.line if error.line is not None else request.line
    return DiagramDiagnostic(
        request.path, line, error.column or 1, SYNTAX, f"{engine.name} diagram error: {error.message}"
    )
