"""Benchmark and measurement commands (``python -m benchmarks.<name>``); they print figures, they are not tests."""
