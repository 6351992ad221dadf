"""Benchmarks: run on purpose with `bench/run.sh` (or `python -m bench`), never inside the unit tests."""
