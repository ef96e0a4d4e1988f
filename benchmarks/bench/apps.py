"""The app of the benchmark site."""

from __future__ import annotations

from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark app; its version comes from ``settings.LINO_MIGRATE``."""

    name = "benchmarks.bench"
    label = "bench"
    default_auto_field = "django.db.models.BigAutoField"
