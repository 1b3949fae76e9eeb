"""Benchmarks: scripts that print speed and memory figures (never asserted in tests).

Run them from the repository root as modules, e.g. ``.venv/bin/python -m bench.scale``;
BENCHMARKS.md says what each figure means and how it was measured.
"""
