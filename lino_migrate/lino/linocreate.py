"""The ``create_<table>`` functions of a Lino dump's ``restore.py``, read with :mod:`ast`.

A create function takes a model's field attnames as parameters, converts
some of them (``Decimal``, ``new_content_type_id``, a choice list lookup),
puts them into ``kw`` (``kw.update(a=a)``, babel values through ``bv2kw``)
and returns ``Model(**kw)`` or ``create_mti_child(Parent, ptr, Child, **kw)``.
:func:`read_creator` reads exactly these shapes; anything else is a problem
named with its line. Nothing is run.

.. versionadded:: 0.3
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "Column",
    "Creator",
    "Problem",
    "call_args",
    "constant_args",
    "is_call",
    "read_creator",
    "source_text",
]

#: Called with the node (or line number) of a problem and what it is.
Problem = Callable[[ast.AST | int, str], None]


@dataclass(frozen=True)
class Column:
    """One ``kw.update(...)`` of a create function: a field and its parameter.

    :param attname: the keyword, the field's attname (or a babel field's name).
    :param param: the parameter whose value it takes.
    :param babel: whether the value is a list with one text per language.
    """

    attname: str
    param: str
    babel: bool = False


@dataclass(frozen=True)
class Creator:
    """A ``create_<table>`` function of ``restore.py``, read.

    :param conversions: per parameter, what the body makes of it:
        ``"decimal"``, ``"content_type"`` or ``"choice"`` (a choice list item
        looked up by its value, which is stored as it is).
    :param parent: the model variable of the parent of a multi-table child
        (``create_mti_child``), whose primary key is *parent_link*'s value.
    """

    name: str
    line: int
    params: tuple[str, ...]
    model: str
    columns: tuple[Column, ...]
    conversions: dict[str, str] = field(default_factory=dict)
    parent: str | None = None
    parent_link: str | None = None

    @property
    def table(self) -> str:
        """Return the table Lino named the function after."""
        return self.name.removeprefix("create_")


def source_text(node: ast.AST, limit: int = 80) -> str:
    """Return the source of *node* on one line, shortened to *limit* characters."""
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_call(node: ast.AST, name: str) -> bool:
    """Return whether *node* calls the plain name *name*, without keywords."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == name
        and not node.keywords
    )


def call_args(node: ast.expr) -> list[ast.expr]:
    """Return the positional arguments of the call *node* (none for another node)."""
    return list(getattr(node, "args", []))


def constant_args(node: ast.expr, kind: type, count: int) -> bool:
    """Return whether the call *node* has *count* arguments, constants of *kind*."""
    args = call_args(node)
    return len(args) == count and all(
        isinstance(a, ast.Constant) and type(a.value) is kind for a in args
    )


def read_creator(node: ast.FunctionDef, problem: Problem) -> Creator | None:
    """Return the create function *node*, or ``None`` after reporting its problems."""
    return _CreatorReader(node, problem).read()


class _CreatorReader:
    """Read the body of one ``create_<table>`` function."""

    def __init__(self, node: ast.FunctionDef, problem: Problem) -> None:
        self.node, self.problem = node, problem
        self.params: tuple[str, ...] = ()
        self.columns: list[Column] = []
        self.conversions: dict[str, str] = {}
        self.made: tuple[str, str | None, str | None] | None = None
        self.ok = True

    def read(self) -> Creator | None:
        node = self.node
        args = node.args
        if (
            args.vararg
            or args.kwarg
            or args.kwonlyargs
            or args.defaults
            or args.posonlyargs
        ):
            self._fail(node, f"{node.name} has parameters other than plain names")
        self.params = tuple(a.arg for a in args.args)
        for statement in node.body:
            self._statement(statement)
        if self.made is None:
            self._fail(
                node, f"{node.name} returns no Model(**kw) nor create_mti_child(...)"
            )
        if not self.ok or self.made is None:
            return None
        model, parent, link = self.made
        return Creator(
            node.name, node.lineno, self.params, model, tuple(self.columns),
            self.conversions, parent, link,
        )  # fmt: skip

    def _fail(self, node: ast.AST, what: str) -> None:
        self.ok = False
        self.problem(node, what)

    def _param(self, node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Name) and node.id in self.params:
            return node.id
        return None

    def _statement(self, node: ast.stmt) -> None:
        if not self._understood(node):
            self._fail(node, f"{self.node.name}: not understood: {source_text(node)}")

    def _understood(self, node: ast.stmt) -> bool:
        if isinstance(node, ast.If):
            return not node.orelse and len(node.body) == 1 and self._conditional(node)
        if isinstance(node, ast.Assign):
            return len(node.targets) == 1 and self._assignment(node)
        if isinstance(node, ast.Expr):
            return self._update(node.value)
        return isinstance(node, ast.Return) and self._return(node.value)

    def _assignment(self, node: ast.Assign) -> bool:
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and target.id == "kw":
            empty_dict = isinstance(value, ast.Dict) and not value.keys
            return empty_dict or (is_call(value, "dict") and not call_args(value))
        param = self._param(target)
        if param is None or not is_call(value, "new_content_type_id"):
            return False
        if [self._param(a) for a in call_args(value)] != [param]:
            return False
        self.conversions[param] = "content_type"
        return True

    def _conditional(self, node: ast.If) -> bool:
        """Read ``if p is not None: ...`` and ``if p: p = X.get_by_value(p)``."""
        test, body = node.test, node.body[0]
        param = self._param(test)
        if (
            param
            and isinstance(body, ast.Assign)
            and self._param(body.targets[0]) == param
        ):
            # A choice list lookup (old dumps): the stored value is the value given.
            call = body.value
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "get_by_value"
                and [self._param(a) for a in call.args] == [param]
            ):
                self.conversions[param] = "choice"
                return True
            return False
        if not (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.IsNot)
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        ):
            return False
        param = self._param(test.left)
        if param is None:
            return False
        if isinstance(body, ast.Assign) and self._param(body.targets[0]) == param:
            call = body.value
            converted = [self._param(a) for a in call_args(call)]
            if is_call(call, "Decimal") and converted == [param]:
                self.conversions[param] = "decimal"
                return True
            return False
        return isinstance(body, ast.Expr) and self._update(body.value, babel_of=param)

    def _update(self, node: ast.expr, babel_of: str | None = None) -> bool:
        """Read ``kw.update(a=p)``, or ``kw.update(bv2kw('a', p))`` for *babel_of*."""
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "kw"
            and node.func.attr == "update"
        ):
            return False
        if babel_of is not None:
            if node.keywords or len(node.args) != 1:
                return False
            inner = node.args[0]
            if not (is_call(inner, "bv2kw") and len(inner.args) == 2):  # type: ignore[attr-defined]
                return False
            name, param = inner.args  # type: ignore[attr-defined]
            if not (isinstance(name, ast.Constant) and type(name.value) is str):
                return False
            if self._param(param) != babel_of:
                return False
            self.columns.append(Column(name.value, babel_of, babel=True))
            return True
        if node.args or not node.keywords:
            return False
        found = [(k.arg, self._param(k.value)) for k in node.keywords]
        if any(key is None or param is None for key, param in found):
            return False
        self.columns += [Column(key, param) for key, param in found]  # type: ignore[arg-type]
        return True

    def _return(self, node: ast.expr | None) -> bool:
        if self.made is not None or not isinstance(node, ast.Call):
            return False
        splat = node.keywords
        if not (
            len(splat) == 1
            and splat[0].arg is None
            and isinstance(splat[0].value, ast.Name)
            and splat[0].value.id == "kw"
            and isinstance(node.func, ast.Name)
        ):
            return False
        names = [a.id if isinstance(a, ast.Name) else None for a in node.args]
        if not node.args and node.func.id != "create_mti_child":
            self.made = (node.func.id, None, None)
            return True
        if node.func.id == "create_mti_child" and len(names) == 3 and None not in names:
            parent, link, child = names
            if link in self.params:
                self.made = (child, parent, link)  # type: ignore[assignment]
                return True
        return False
