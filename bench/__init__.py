"""Benchmarks behind ``make bench``: each public module of this package is one benchmark.

A benchmark module has a docstring (its one-line summary is its help) and
``run(*, smoke: bool) -> None``, which prints its tables: the method (runs,
warm-up), the median and the spread, and a baseline measured in the same run.
``smoke`` runs a few seconds only, for CI: it proves the benchmark works, not
its figures.
"""
