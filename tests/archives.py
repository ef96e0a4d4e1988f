"""Helpers to build hostile dump archives in tests, with :mod:`tarfile` only (#15)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

#: A member as :meth:`tarfile.TarFile.addfile` takes it: its header and its bytes.
Member = tuple[tarfile.TarInfo, io.BytesIO | None]


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE) -> Member:
    """Return ``(TarInfo, file)`` of a member *name* of type *kind* holding *data*."""
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, len(data) if kind == tarfile.REGTYPE else 0
    if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        info.linkname = "/etc/passwd"
    return info, io.BytesIO(data) if kind == tarfile.REGTYPE else None


def rebuild(dump: Path, change: Callable[[list[Member]], list[Member]]) -> None:
    """Rewrite the archive *dump* with its members changed by *change*."""
    with tarfile.open(dump) as tar:
        members: list[Member] = [
            (m, io.BytesIO(tar.extractfile(m).read()))  # type: ignore[union-attr]
            for m in tar.getmembers()
        ]
    with tarfile.open(dump, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in change(members):
            tar.addfile(info, data)
