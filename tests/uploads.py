"""The media files of the test site's samples, shared by the media tests (#15).

The oracle of every file is :mod:`hashlib` over bytes read straight from the
directories involved, never through the code under test.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.site.kitchen.models import Sample

#: stored name -> bytes of the files the samples name.
FILES = {
    "uploads/a.txt": b"alpha\n",
    "uploads/\u00fc/\U0001f4c4 b.txt": "b\u00e9ta".encode() * 1000,
    "images/p.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
}


def tree(root: Path) -> dict[str, str]:
    """Return the sha256 of every file under *root*, by relative name."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def make_uploads(root: Path) -> None:
    """Write FILES under *root* and make four samples: three name them, one none.

    Call it with ``MEDIA_ROOT`` set to *root*.
    """
    for name, data in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    Sample.objects.create(id=1, label="a", file="uploads/a.txt")
    Sample.objects.create(
        id=2, label="b", file="uploads/\u00fc/\U0001f4c4 b.txt", image="images/p.png"
    )
    Sample.objects.create(id=3, label="shared", file="uploads/a.txt")
    Sample.objects.create(id=4, label="none")
