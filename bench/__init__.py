"""Benchmarks: speed against plain baselines, ready-made estimators, dashboard timing."""
