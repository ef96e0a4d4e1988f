"""The root of lino_migrate's exceptions and the helpers their messages share."""

from __future__ import annotations

__all__ = ["LinoMigrateError", "full_stop", "plural"]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """Return *count* with its noun: ``1 row``, ``2 rows``, ``0 rows`` (#14).

    :param nouns: the plural, when it is not *noun* + ``s`` (``"entries"``).
    """
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def full_stop(text: str) -> str:
    """Return *text* ending with one full stop, whatever a quoted cause ends with."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def cause_of(error: BaseException) -> str:
    """Return what *error* says, as a sentence."""
    return full_stop(str(error).strip() or type(error).__name__)


def listed(items: list[str], most: int = 50) -> str:
    """Return *items* as lines ``- item``, at most *most* of them."""
    more = [f"... and {len(items) - most} more"] if len(items) > most else []
    return "".join(f"\n- {item}" for item in [*items[:most], *more])


class LinoMigrateError(Exception):
    """Base class for errors raised by lino_migrate."""
