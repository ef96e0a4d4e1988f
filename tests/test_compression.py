"""Compressed data files (``dump2py --compress``) restore, compare and refuse (#15).

The oracle of a round trip is the database itself, read raw
(:mod:`tests.snapshot`); the oracle of exactness is the uncompressed text
of the data files, decompressed by the standard library (or ``zstandard``),
not by the code under test.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import lzma
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lino_migrate.format import compression
from lino_migrate.restore.reader import open_dump
from tests.dumps import data_files, restore_script_body
from tests.site.data import populate
from tests.snapshot import assert_same, snapshot

BOTH = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def _has_zstd() -> bool:
    for name in ("compression.zstd", "zstandard"):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        return True
    return False


ZSTD = pytest.param(
    "zstd",
    marks=pytest.mark.skipif(
        not _has_zstd(), reason="needs zstandard: pip install lino-migrate[zstd]"
    ),
)
COMPRESSIONS = ["gzip", "xz", ZSTD]
SUFFIX = {"gzip": ".gz", "xz": ".xz", "zstd": ".zst"}


def _decompress(name: str, data: bytes) -> bytes:
    """Return *data* uncompressed, as its suffix says, without the code under test."""
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".xz"):
        return lzma.decompress(data)
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def _texts(dump: Path) -> dict[str, bytes]:
    """Return the uncompressed text of every data file, by uncompressed name."""
    texts = {}
    for name, data in data_files(dump).items():
        plain = name.rsplit(".", 1)[0] if not name.endswith(".py") else name
        texts[plain] = _decompress(name, data)
    return texts


def _dump(path: Path, *options: str, using: str = "default") -> Path:
    call_command(
        "dump2py", str(path), "--noinput", "-v0", "--database", using, *options
    )
    return path


def _restore(dump: Path, using: str = "other") -> None:
    call_command(
        "run", str(dump / "restore.py"), "--noinput", "--database", using, "-v0"
    )


@BOTH
@pytest.mark.parametrize("kind", COMPRESSIONS)
def test_round_trip_is_exact(tmp_path: Path, kind: str) -> None:
    """Restored from compressed files, every table equals the source; a redump
    of the restored database has the same uncompressed text and the same bytes."""
    populate("default")
    first = _dump(tmp_path / "a", "--compress", kind, "--max-row-count", "3")
    names = sorted(data_files(first))
    assert all(name.endswith(".py" + SUFFIX[kind]) for name in names)
    _restore(first)
    assert_same(snapshot("default"), snapshot("other"))
    again = _dump(
        tmp_path / "b", "--compress", kind, "--max-row-count", "3", using="other"
    )
    assert _texts(first) == _texts(again)
    assert data_files(first) == data_files(again)
    assert restore_script_body(first) == restore_script_body(again)


@BOTH
@pytest.mark.parametrize("kind", COMPRESSIONS)
def test_checksums_and_text_are_those_of_the_uncompressed_dump(
    tmp_path: Path, kind: str
) -> None:
    """FILES records the sha256 and rows of the text: the same as without compression."""
    populate("default")
    plain = _dump(tmp_path / "plain", "--max-row-count", "4")
    packed = _dump(tmp_path / "packed", "--max-row-count", "4", "--compress", kind)
    assert _texts(plain) == _texts(packed)
    texts = _texts(packed)
    for entry in open_dump(packed).files:
        text = texts[entry.name.removesuffix(SUFFIX[kind])]
        assert hashlib.sha256(text).hexdigest() == entry.sha256
    recorded = [(e.model, e.rows, e.sha256) for e in open_dump(plain).files]
    assert recorded == [(e.model, e.rows, e.sha256) for e in open_dump(packed).files]


@BOTH
@pytest.mark.parametrize("kind", COMPRESSIONS)
def test_dumpcompare_and_dumpplan_read_compressed_dumps(
    tmp_path: Path, kind: str
) -> None:
    """dumpcompare finds no difference between a compressed and a plain dump."""
    populate("default")
    plain = _dump(tmp_path / "plain")
    packed = _dump(tmp_path / "packed", "--compress", kind)
    # Exit status 1 (a CommandError) would say that the dumps differ.
    call_command("dumpcompare", str(plain), str(packed), stdout=io.StringIO())
    call_command("dumpplan", str(packed), stdout=io.StringIO())


@BOTH
def test_upgradedump_keeps_the_compression_unless_told(tmp_path: Path) -> None:
    """upgradedump writes the compression of its input, or that of --compress."""
    populate("default")
    packed = _dump(tmp_path / "packed", "--compress", "gzip")
    call_command("upgradedump", str(packed), str(tmp_path / "kept"), "-v0")
    call_command(
        "upgradedump", str(packed), str(tmp_path / "plain"), "-v0", "--compress", "none"
    )
    call_command(
        "upgradedump", str(packed), str(tmp_path / "xz"), "-v0", "--compress", "xz"
    )
    assert all(n.endswith(".py.gz") for n in data_files(tmp_path / "kept"))
    assert all(n.endswith(".py") for n in data_files(tmp_path / "plain"))
    assert all(n.endswith(".py.xz") for n in data_files(tmp_path / "xz"))
    assert _texts(packed) == _texts(tmp_path / "plain") == _texts(tmp_path / "xz")
    _restore(tmp_path / "xz")
    assert_same(snapshot("default"), snapshot("other"))


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-12])


def _as_xz(path: Path) -> None:
    """Rename a gzip file as if it were xz, in FILES too."""
    new = path.name.removesuffix(".gz") + ".xz"
    path.rename(path.with_name(new))
    script = path.parent / "restore.py"
    text = script.read_text(encoding="utf-8")
    script.write_text(text.replace(f"'{path.name}'", f"'{new}'"), encoding="utf-8")


def _plain_named_gz(path: Path) -> None:
    """Replace a gzip file by its uncompressed text, keeping the .gz name."""
    path.write_bytes(gzip.decompress(path.read_bytes()))


def _bomb(path: Path) -> None:
    """Replace a gzip file by a small one that expands to megabytes."""
    text = gzip.decompress(path.read_bytes()).decode()
    header = text[: text.index("ROWS = (\n") + len("ROWS = (\n")]
    bomb = header + "    ('" + "a" * (8 << 20) + "',),\n)\n"
    path.write_bytes(gzip.compress(bomb.encode(), mtime=0))


@BOTH
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_corrupt, "damaged or truncated|sha256"),
        (_truncate, "damaged or truncated"),
        (_as_xz, "its name says xz data, but it holds gzip data"),
        (_plain_named_gz, "its name says gzip data, but it holds no compressed"),
        (_bomb, "decompression bomb"),
    ],
)
def test_a_damaged_compressed_file_is_refused_and_nothing_changes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[Path], None],
    message: str,
) -> None:
    """Corrupted, truncated, misnamed or bomb files: refused, the target untouched."""
    monkeypatch.setattr(compression, "MIN_LIMIT", 1 << 20)
    populate("default")
    dump = _dump(tmp_path / "a", "--compress", "gzip")
    populate("other", portable=True)
    before = snapshot("other")
    damage(dump / "library_author.py.gz")
    with pytest.raises(CommandError, match=message):
        call_command("restoredump", str(dump), "--noinput", "--database", "other")
    with pytest.raises(CommandError, match=message):
        call_command("dumpplan", str(dump), stdout=io.StringIO())
    assert_same(before, snapshot("other"))


def test_a_misnamed_file_is_refused_by_its_first_bytes(tmp_path: Path) -> None:
    """A .py file holding compressed data is refused before it is parsed."""
    packed = gzip.compress(b"# rows\n", mtime=0)
    (tmp_path / "x.py").write_bytes(packed)
    raw = io.BufferedReader(io.BytesIO(packed))
    with pytest.raises(compression.CompressionError, match="holds gzip data"):
        compression.decompressing(raw, "x.py", len(packed))


def test_gzip_output_is_deterministic() -> None:
    """No time and no name in a gzip header: the same text gives the same bytes."""
    outputs = []
    for _ in range(2):
        raw = io.BytesIO()
        with compression.compressing(raw, "gzip") as out:
            out.write(b"ROWS = (\n)\n")
        outputs.append(raw.getvalue())
    assert outputs[0] == outputs[1]
    assert b"\x00\x00\x00\x00" == outputs[0][4:8]  # MTIME


@pytest.mark.django_db
def test_zstd_without_its_library_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--compress zstd on a Python without zstd says which extra to install."""

    def missing(name: str) -> None:
        raise ImportError(name)

    monkeypatch.setattr(compression.importlib, "import_module", missing)
    with pytest.raises(CommandError, match=r"lino-migrate\[zstd\]"):
        _dump(tmp_path / "a", "--compress", "zstd")
    assert not (tmp_path / "a").exists()


@BOTH
def test_an_older_reader_refuses_compressed_names(tmp_path: Path) -> None:
    """Before #15, a data file was named X.py or X_N.py: a .gz name is no data file.

    The pattern is the one the reader of format 1 checked names with.
    """
    import re

    populate("default")
    packed = _dump(tmp_path / "a", "--compress", "gzip")
    old = re.compile(r"\w+(?:_[1-9][0-9]*)?\.py")
    assert not any(old.fullmatch(e.name) for e in open_dump(packed).files)
    shutil.rmtree(packed)
