"""Benchmarks: extraction quality and speed on the shared corpus, through the real pipeline."""
