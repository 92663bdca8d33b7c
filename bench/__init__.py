"""Benchmarks that drive the running app from the outside (run from the repository root).

    python -m bench.load --help
"""
