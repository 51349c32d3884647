"""Synthetic, clearly fictitious health records for demos, tests and benchmarks."""
