"""Benchmarks: figures printed side by side with their targets; never run as tests."""
