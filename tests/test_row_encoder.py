"""The row encoder compiled per model gives what the general one gives (#16).

:func:`lino_migrate.dump.job._compiled_encoder` builds one function per model
from the numbers of its columns. The oracle is a hand computation: each
active column's encoder applied to the value unless it is ``None``, the
other values as they are, and for a value that cannot be encoded, the
general function's :class:`EncodeError`, which names the row and field.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lino_migrate.dump.job import _compiled_encoder, _encode_row
from lino_migrate.exceptions import EncodeError
from lino_migrate.format.layout import FieldInfo, ModelInfo

VALUES = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.booleans())


def _info(width: int) -> ModelInfo:
    fields = tuple(
        FieldInfo(f"f{i}", f"f{i}", f"f{i}", "CharField", True, None)
        for i in range(width)
    )
    return ModelInfo("app.model", "app_model", ("f0",), fields)


def _double(value: Any) -> Any:
    if value == "bad":
        msg = "not a value"
        raise ValueError(msg)
    return [value, value]


@given(st.data(), st.integers(min_value=1, max_value=12))
def test_compiled_encoder_agrees_with_a_hand_computation(data: Any, width: int) -> None:
    """Active columns are encoded unless None; the others are passed on as they are."""
    columns = data.draw(st.sets(st.integers(0, width - 1), min_size=1))
    active = [(i, _double) for i in sorted(columns)]
    info = _info(width)
    encode = _compiled_encoder(width, active, partial(_encode_row, active, [], info, 0))
    row = tuple(data.draw(st.lists(VALUES, min_size=width, max_size=width)))
    expected = tuple(
        [v, v] if i in columns and v is not None else v for i, v in enumerate(row)
    )
    assert expected == encode(row)


def test_a_value_that_cannot_be_encoded_names_row_and_field() -> None:
    """The compiled encoder hands a failing row to the general one, which names it."""
    active = [(2, _double)]
    info = _info(3)
    encode = _compiled_encoder(3, active, partial(_encode_row, active, [], info, 0))
    assert (7, "x", ["ok", "ok"]) == encode((7, "x", "ok"))
    with pytest.raises(EncodeError) as e:
        encode((7, "x", "bad"))
    assert "f2" in str(e.value)
    assert "7" in str(e.value)
