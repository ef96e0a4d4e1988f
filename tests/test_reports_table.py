"""The one table renderer of the reports: widths from content, plain text."""

from __future__ import annotations

import decimal

import pytest

from lino_migrate.reports.table import Table, render_table


def test_long_label_widens_its_column() -> None:
    """A label longer than any fixed width pushes the next columns out evenly."""
    rows = [
        ("library.author", 6, "ok"),
        ("kitchen.a_model_with_a_very_long_name_indeed", 12345, "drift"),
        ("shop.order", 300, "ok"),
    ]
    expected = [
        "library.author                                    6  ok",
        "kitchen.a_model_with_a_very_long_name_indeed  12345  drift",
        "shop.order                                      300  ok",
    ]
    assert expected == render_table(rows)


def test_numbers_are_right_aligned_and_text_left_aligned() -> None:
    """A column of numbers (None allowed) is right-aligned; any text makes it left."""
    rows = [
        ("a", 1, 2.5, decimal.Decimal("10.25"), None, "x"),
        ("bb", 22, 10.0, None, 7, 3),
    ]
    expected = [
        "a    1   2.5  10.25     x",
        "bb  22  10.0         7  3",
    ]
    assert expected == render_table(rows)


def test_booleans_are_not_numbers() -> None:
    """True and False are words in a table, left-aligned."""
    assert ["True   1", "False  2"] == render_table([(True, 1), (False, 2)])


def test_header_is_aligned_like_its_column() -> None:
    """The header counts for the widths and follows each column's alignment."""
    rows = [("shop.contact", 0, 40), ("shop.orderline", 607, 1234567)]
    expected = [
        "model           in dump  written",
        "shop.contact          0       40",
        "shop.orderline      607  1234567",
    ]
    assert expected == render_table(rows, headers=("model", "in dump", "written"))


def test_indent_gap_and_explicit_align() -> None:
    """Every line is indented; *align* overrides the guess; no trailing spaces."""
    rows = [("auth", "5.2.19", "->", "5.2.19"), ("shop", "1.0", "->", "3.0")]
    expected = [
        "  auth 5.2.19 -> 5.2.19",
        "  shop    1.0 -> 3.0",
    ]
    assert expected == render_table(rows, align="<>", indent=2, gap=1)


def test_rows_of_different_lengths() -> None:
    """Missing cells are blank; the last cell of a short row leaves no spaces."""
    rows = [("a", "b", "c"), ("long",)]
    assert ["a     b  c", "long"] == render_table(rows)


def test_empty_table() -> None:
    """No rows: no lines, or the header alone."""
    assert [] == render_table([])
    assert ["model  rows"] == render_table([], headers=("model", "rows"))


def test_line_of_a_fitted_table() -> None:
    """A table fitted beforehand renders rows one at a time, extra cells at the end."""
    table = Table([("library.author", "6"), ("shop.client", "-")], align="<>", indent=2)
    assert "  shop.client     -  only in A" == table.line(
        ("shop.client", "-", "only in A")
    )
    assert "  library.author  6" == table.line(("library.author", "6"))
    assert "  a.very_long_model_label  6  same" == table.line(
        ("a.very_long_model_label", 6, "same")
    )


def test_wrong_align_is_refused() -> None:
    """*align* takes only '<' and '>'."""
    with pytest.raises(ValueError, match=r"align takes only '<' and '>', not '\^'\."):
        Table([("a",)], align="^")
