"""Benchmarks and their data generators. Never run by the test suite."""
