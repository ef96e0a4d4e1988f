"""Compressed data files: gzip, xz or zstd, named by their suffix (#15).

A data file ``NAME.py`` compressed with gzip is ``NAME.py.gz``; with xz,
``NAME.py.xz``; with zstd, ``NAME.py.zst``. The suffix is all the format
records of the compression: ``FILES`` lists the real file names, and its
sha256 and row count are those of the uncompressed text, so that the
checksums and ``dumpcompare`` do not depend on the compressor. A reader
older than compression refuses such a name as no data file of the dump.

Compressed output is deterministic: no time and no file name in a gzip
header, fixed levels, so that the same rows give the same bytes with the
same compressor library. Reading checks that a file's first bytes are those
of the compression its suffix names, and bounds what a file may expand to
(:func:`expansion_limit`): a decompression bomb is refused, not unpacked.

zstd comes from the standard library's :mod:`compression.zstd` (Python
3.14 and later) or else from the ``zstandard`` package, installed by the
``zstd`` extra: ``pip install lino-migrate[zstd]``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import gzip
import importlib
import lzma
import zlib
from collections.abc import Callable
from typing import IO, Any

__all__ = [
    "COMPRESSIONS",
    "SUFFIXES",
    "CompressionError",
    "compressed_name",
    "compressing",
    "compression_of",
    "decompressing",
    "expansion_limit",
    "require_compression",
    "uncompressed_name",
]

#: The compressions a dump may use, by the name ``--compress`` takes.
COMPRESSIONS = ("gzip", "xz", "zstd")
#: The suffix that a data file compressed with each one gets after ``.py``.
SUFFIXES = {"gzip": ".gz", "xz": ".xz", "zstd": ".zst"}
#: The first bytes of a file of each compression.
_MAGIC = {"gzip": b"\x1f\x8b", "xz": b"\xfd7zXZ\x00", "zstd": b"\x28\xb5\x2f\xfd"}

#: The most a compressed data file may expand, as a multiple of its size:
#: real dumps measured at most 85 (zstd, a table of sequential numbers).
MAX_RATIO = 200
#: The size any compressed data file may expand to, whatever its ratio: a
#: short file holding one long repetitive value is not a bomb.
MIN_LIMIT = 256 << 20

_GZIP_LEVEL, _XZ_PRESET, _ZSTD_LEVEL = 6, 6, 3
_ZSTD_EXTRA = (
    "zstd needs the zstandard package on this Python: "
    "pip install 'lino-migrate[zstd]' (or use --compress gzip or xz)"
)


class CompressionError(ValueError):
    """A compressed data file cannot be written or read; the message says why."""


def compression_of(name: str) -> str | None:
    """Return the compression that the file name *name* says, ``None`` for none."""
    for compression, suffix in SUFFIXES.items():
        if name.endswith(".py" + suffix):
            return compression
    return None


def compressed_name(name: str, compression: str | None) -> str:
    """Return the name of the data file *name* (``X.py``) compressed as said."""
    return name if compression is None else name + SUFFIXES[compression]


def uncompressed_name(name: str) -> str:
    """Return the data file name *name* without its compression suffix."""
    compression = compression_of(name)
    return name if compression is None else name[: -len(SUFFIXES[compression])]


def require_compression(compression: str | None) -> None:
    """Check that *compression* is known and can be used on this Python.

    :raises CompressionError: for an unknown name, or zstd without a library.
    """
    if compression is not None and compression not in COMPRESSIONS:
        msg = (
            f"Unknown compression {compression!r}; expected one of "
            f"{', '.join(COMPRESSIONS)}, or none."
        )
        raise CompressionError(msg)
    if compression == "zstd":
        _zstd()


def _zstd() -> tuple[str, Any]:
    """Return which zstd library there is (``stdlib`` or ``zstandard``), and it."""
    for kind, module in (("stdlib", "compression.zstd"), ("zstandard", "zstandard")):
        try:
            return kind, importlib.import_module(module)
        except ImportError:
            continue
    raise CompressionError(_ZSTD_EXTRA + ".")


def compressing(raw: IO[bytes], compression: str | None) -> Any:
    """Return a file that writes into *raw* compressed, or *raw* itself for none.

    Closing the returned file finishes the compressed stream; it does not
    close *raw*.
    """
    if compression is None:
        return raw
    if compression == "gzip":
        return gzip.GzipFile(
            filename="", mode="wb", compresslevel=_GZIP_LEVEL, fileobj=raw, mtime=0
        )
    if compression == "xz":
        return lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_XZ, preset=_XZ_PRESET)
    kind, zstd = _zstd()
    if kind == "stdlib":
        options = {zstd.CompressionParameter.checksum_flag: 1}
        return zstd.ZstdFile(raw, "wb", level=_ZSTD_LEVEL, options=options)
    compressor = zstd.ZstdCompressor(level=_ZSTD_LEVEL, write_checksum=True)
    return compressor.stream_writer(raw, closefd=False)


def expansion_limit(size: int) -> int:
    """Return the most bytes a compressed data file of *size* bytes may hold."""
    return max(MIN_LIMIT, MAX_RATIO * size)


def decompressing(raw: Any, name: str, size: int) -> _Decompressed:
    """Return the uncompressed bytes of the data file *name*, read from *raw*.

    *raw* is a buffered binary file (it has ``peek``) of *size* bytes; an
    uncompressed file is read as it is. Reading raises only
    :class:`CompressionError`, for damaged, truncated or oversized data.

    :raises CompressionError: when the first bytes of *raw* are not those of
        the compression that *name* says.
    """
    compression = compression_of(name)
    head = raw.peek(8)[:8]
    found = next((c for c, m in _MAGIC.items() if head.startswith(m)), None)
    if found != compression:
        said = f"{compression} data" if compression else "uncompressed text"
        held = f"{found} data" if found else "no compressed data"
        msg = (
            f"its name says {said}, but it holds {held} (its first bytes "
            f"are {head!r}); the file was renamed or replaced. Restore from an "
            "intact copy of the dump"
        )
        raise CompressionError(msg)
    if compression is None:
        return _Decompressed(raw, None, size)
    return _Decompressed(_OPENERS[compression](raw), compression, size)


def _open_zstd(raw: Any) -> Any:
    kind, zstd = _zstd()
    if kind == "stdlib":
        return zstd.ZstdFile(raw, "rb")
    return zstd.ZstdDecompressor().stream_reader(
        raw, read_across_frames=True, closefd=False
    )


def _open_gzip(raw: Any) -> Any:
    return gzip.GzipFile(fileobj=raw, mode="rb")


def _open_xz(raw: Any) -> Any:
    return lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_XZ)


_OPENERS: dict[str, Callable[[Any], Any]] = {
    "gzip": _open_gzip,
    "xz": _open_xz,
    "zstd": _open_zstd,
}


class _Decompressed:
    """The uncompressed bytes of a data file, counted against a limit."""

    def __init__(self, reader: Any, compression: str | None, size: int) -> None:
        self.reader, self.compression, self.size = reader, compression, size
        self.limit = expansion_limit(size)
        self.count = 0

    def read(self, size: int) -> bytes:
        """Return at most *size* uncompressed bytes; ``b""`` at the end.

        :raises CompressionError: for damaged, truncated or oversized data.
        """
        if self.compression is None:
            return self.reader.read(size)  # type: ignore[no-any-return]
        try:
            data = self.reader.read(size)
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as e:
            raise CompressionError(self._damaged(e)) from e
        except Exception as e:
            # zstandard.ZstdError derives from Exception only.
            if type(e).__name__ != "ZstdError":
                raise
            raise CompressionError(self._damaged(e)) from e
        self.count += len(data)
        if self.count > self.limit:
            msg = (
                f"its {self.size} bytes of {self.compression} data expand to more "
                f"than {self.limit} bytes (the larger of {MIN_LIMIT} bytes and "
                f"{MAX_RATIO} times its size): a decompression bomb, or a file "
                "too large for one data file (dump again with a smaller "
                "--max-row-count)"
            )
            raise CompressionError(msg)
        return data  # type: ignore[no-any-return]

    def _damaged(self, error: BaseException) -> str:
        return (
            f"its {self.compression} data is damaged or truncated "
            f"({error or type(error).__name__}); restore from an intact copy "
            "of the dump"
        )

    def close(self) -> None:
        """Close the decompressor (the caller closes the raw file)."""
        if self.compression is not None:
            self.reader.close()
