"""The result of a codemod: the new source and what was not done as asked."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RewriteResult"]


@dataclass
class RewriteResult:
    """The new source, whether it differs, and what was not done as asked.

    Codemods never crash on odd input: what they leave as it was is told in
    *warnings* (LibCST's ``context.warnings``).

    :param code: The new source.
    :param changed: Whether *code* differs from the source given.
    :param warnings: What was left out or done differently, for a person.
    :param skip_reason: Why nothing was changed, when nothing was.

    .. versionadded:: 0.1
    """

    code: str
    changed: bool
    warnings: list[str] = field(default_factory=list)
    skip_reason: str | None = None
