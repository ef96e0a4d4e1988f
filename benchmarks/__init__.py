"""Benchmarks of lino-migrate: ``python benchmarks/run.py --help``."""
