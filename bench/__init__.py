"""Benchmarks: `make bench` runs bench/run.py; results land in bench/results/."""
