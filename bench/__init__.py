"""Benchmarks: each module has ``main()`` printing its figures and ratios to a same-run baseline."""
