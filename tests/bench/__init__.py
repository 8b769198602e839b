"""Benchmarks: `nox -s bench` (python -m tests.bench)."""
