"""Order the selected migrators: version order per app, ``depends_on`` across apps.

.. versionadded:: 0.1
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from packaging.version import Version

    from migrations_registry.step import Step

__all__ = ["find_cycle", "order_steps"]

_Key = tuple[str, "Version"]


def _predecessors(steps: Iterable[Step]) -> dict[_Key, set[_Key]]:
    """Return, per step, the selected steps that must run before it."""
    selected = sorted(steps, key=lambda step: step.key)
    keys = {step.key for step in selected}
    before: dict[_Key, set[_Key]] = {}
    previous: Step | None = None
    for step in selected:
        needs = {dep for dep in step.depends_on if dep in keys}
        if previous is not None and previous.app_label == step.app_label:
            needs.add(previous.key)
        before[step.key] = needs
        previous = step
    return before


def order_steps(steps: Iterable[Step]) -> tuple[list[Step], list[Step]]:
    """Return the steps in a stable topological order, and those left in cycles.

    A step runs after the previous version of its app and after the selected
    steps it depends on; ties are broken by ``(app_label, version)``. Steps that
    cannot be ordered (in or behind a cycle) come back as the second list.
    """
    by_key = {step.key: step for step in steps}
    before = _predecessors(by_key.values())
    after: dict[_Key, list[_Key]] = {key: [] for key in before}
    for key, needs in before.items():
        for need in needs:
            after[need].append(key)
    waiting = {key: len(needs) for key, needs in before.items()}
    ready = [key for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[Step] = []
    while ready:
        key = heapq.heappop(ready)
        ordered.append(by_key[key])
        for follower in after[key]:
            waiting[follower] -= 1
            if waiting[follower] == 0:
                heapq.heappush(ready, follower)
    done = {step.key for step in ordered}
    left = [by_key[key] for key in sorted(by_key) if key not in done]
    return ordered, left


def find_cycle(left: list[Step], all_steps: Mapping[_Key, Step]) -> list[Step]:
    """Return one cycle among *left*, the steps that could not be ordered.

    Each returned step depends (directly) on the one after it; the last depends
    on the first.
    """
    before = _predecessors(all_steps.values())
    remaining = {step.key for step in left}
    path: list[_Key] = []
    seen: dict[_Key, int] = {}
    key = min(remaining)
    while key not in seen:
        seen[key] = len(path)
        path.append(key)
        key = min(need for need in before[key] if need in remaining)
    return [all_steps[k] for k in path[seen[key] :]]
