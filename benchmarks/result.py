"""What one engine measured, and the keys of its steps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.harness import Measurement

__all__ = ["EngineResult", "Target", "jobs_key"]


def jobs_key(step: str, jobs: int) -> str:
    """Return the key of *step* (``dump`` or ``restore``) run with ``--jobs``.

    ``--jobs 1`` keeps the plain key, which the older goals and the JSON of
    earlier runs use.
    """
    return step if jobs == 1 else f"{step}_jobs{jobs}"


@dataclass
class EngineResult:
    """Everything measured on one engine."""

    engine: str
    version: str
    rows: int
    tables: int
    generated: dict[str, int]
    generate_seconds: float
    steps: dict[str, Measurement] = field(default_factory=dict)
    #: dump and restore measured at the smaller size, for the RSS growth.
    reference: dict[str, Measurement] = field(default_factory=dict)
    #: The ``--jobs`` measured, and whether they were passed to the commands.
    jobs: list[int] = field(default_factory=lambda: [1])
    jobs_explicit: bool = False
    #: The tops of the profiles of ``--profile``.
    profile: str = ""

    def as_json(self) -> dict[str, Any]:
        """Return the figures as a JSON-ready dict."""
        data = asdict(self)
        data["steps"] = {k: m.as_json() for k, m in self.steps.items()}
        data["reference"] = {k: m.as_json() for k, m in self.reference.items()}
        return data

    @property
    def goal_jobs(self) -> int:
        """Return the ``--jobs`` the goals of #16 are judged at: 2, else the most."""
        return 2 if 2 in self.jobs else max(self.jobs)


@dataclass(frozen=True)
class Target:
    """One goal of the issue, the figure measured for it and the verdict."""

    name: str
    goal: str
    value: float | None
    net: float | None
    unit: str
    verdict: str
    note: str = ""
