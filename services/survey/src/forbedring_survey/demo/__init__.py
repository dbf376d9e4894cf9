"""Seed data, not domain: the generated demo hospital for `make up`, tests and benchmarks."""
