"""Benchmarks of DIEF Exchange against a bare aiokafka baseline (run ``python -m bench``)."""
