"""Field values of the kitchen samples: edge cases of every built-in type.

:func:`sample_rows` returns them per backend; ``tests.site.data`` writes them.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["JSON_NULL", "LONG_TEXT", "STRINGS", "sample_rows"]

UTC = dt.UTC
BRUSSELS = ZoneInfo("Europe/Brussels")

#: Marks a JSONField value that must be stored as JSON ``null``, not SQL NULL.
JSON_NULL = object()

# Strings that every backend stores exactly (PostgreSQL refuses NUL in text).
STRINGS = [
    "plain",
    "single ' quote",
    'double " quote',
    "triple ''' single",
    'triple """ double',
    "mixed '\" quotes \"'",
    "back\\slash",
    "trailing backslash \\",
    "\\N",
    "\\.",
    "\\x00 is not a NUL",
    "line\nfeed",
    "carriage\rreturn",
    "crlf\r\nend",
    "\n",
    "tab\there",
    "separator\u2028line\u2029paragraph\x85next",
    "emoji 📚 🧑‍🍳 🇧🇪",
    "RTL שלום עולם مرحبا بالعالم",
    "control \x01\x1f\x7f",
    "%s %(name)s {0} {{}} $1 ?",
    "'); DROP TABLE kitchen_sample; --",
    "  leading and trailing  ",
    "NULL",
    "None",
    "Ünïcödé ß Ω",
    "\ufeffbyte order mark",
    "combining e\u0301",
    "zero\u200bwidth",
]

# About 100 KB of text with some multi-byte characters.
LONG_TEXT = ("Lorem ipsum 0123456789 äöü € 📚 'q' \"qq\" \\ \r\n" * 2500)[:100_000]


def sample_rows(vendor: str, *, portable: bool = False) -> list[dict[str, Any]]:
    """Return the field values of the samples, one dict per row.

    The first rows hold NULLs, empty values, minimums and maximums; the
    following ones take the *i*-th value of each list of :func:`_sample_columns`.
    The ``json`` value :data:`JSON_NULL` asks for JSON ``null``.

    :param vendor: the backend (``connection.vendor``) the rows are for.
    :param portable: return only values that every backend stores exactly.
    """
    nulls = {"label": "nulls"}
    rows = [nulls, _empty_values(), _minimum_values(), _maximum_values()]
    columns = _sample_columns(vendor, portable=portable)
    length = max(len(values) for values in columns.values())
    for i in range(length):
        row = {name: values[i] for name, values in columns.items() if i < len(values)}
        rows.append({"label": f"values {i + 1}", "rank": i + 1, **row})
    return [{"json": None, **row} for row in rows]


def _empty_values() -> dict[str, Any]:
    """Return a row of empty strings, zeros and false values (no NULL)."""
    text = dict.fromkeys(
        ["char", "text", "slug", "email", "url", "path", "file", "image"], ""
    )
    numbers = dict.fromkeys(
        ["small", "integer", "big", "psmall", "pinteger", "pbig"], 0
    )
    return {
        "label": "",
        **text,
        **numbers,
        "decimal": Decimal("0"),
        "price": Decimal("0.00"),
        "real": 0.0,
        "nboolean": False,
        "duration": dt.timedelta(0),
        "binary": b"",
        "json": {},
    }


def _minimum_values() -> dict[str, Any]:
    """Return a row of the smallest values every backend stores exactly."""
    return {
        "label": "minimum",
        "small": -32768,
        "integer": -2147483648,
        "big": -9223372036854775808,
        "psmall": 0,
        "pinteger": 0,
        "pbig": 0,
        "decimal": Decimal("-99999.9999999999"),
        "price": Decimal("-999999.99"),
        "real": -1.7976931348623157e308,
        "nboolean": False,
        "date": dt.date(1, 1, 1),
        "datetime": dt.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        "time": dt.time(0, 0),
        "duration": dt.timedelta(days=-36525, microseconds=1),
        "uuid": uuid.UUID(int=0),
        "binary": b"\x00",
        "json": [],
    }


def _maximum_values() -> dict[str, Any]:
    """Return a row of the largest values every backend stores exactly."""
    return {
        "label": "maximum",
        "flag": True,
        "rank": 2147483647,
        "small": 32767,
        "integer": 2147483647,
        "big": 9223372036854775807,
        "psmall": 32767,
        "pinteger": 2147483647,
        "pbig": 9223372036854775807,
        "decimal": Decimal("99999.9999999999"),
        "price": Decimal("999999.99"),
        "real": 1.7976931348623157e308,
        "boolean": True,
        "nboolean": True,
        "date": dt.date(9999, 12, 31),
        "datetime": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "time": dt.time(23, 59, 59, 999999),
        "duration": dt.timedelta(days=36525, seconds=86399, microseconds=999999),
        "uuid": uuid.UUID(int=2**128 - 1),
        "binary": bytes(range(256)),
        "json": "",
    }


def _sample_columns(vendor: str, *, portable: bool) -> dict[str, list[Any]]:
    """Return lists of values per field; row *i* takes the *i*-th of each."""
    columns = {
        "char": STRINGS,
        "text": [*STRINGS, LONG_TEXT],
        "slug": ["a-slug", "UPPER_case-9"],
        "email": ["o'brien@example.org", "émile@exämple.org"],
        "url": ["https://example.org/p?q=1&r=ü#frag", "http://[::1]:8000/"],
        "ip": ["192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "::", "0.0.0.0"],
        "path": ["/srv/files/report.pdf", "/srv/files/sub dir/ü.txt"],
        "file": ["uploads/a b.txt", 'uploads/it\'s "q".pdf', "uploads/ü/📄.txt"],
        "image": [
            "images/a.png",
            "images/2024/ü é.JPG",
            "images/" + "x" * 240 + ".png",
        ],
        "boolean": [True, False, True],
        "nboolean": [True, False, None, True],
        "real": [0.1, -2.5, 1 / 3, 1e-300, 5e-324, 2.2250738585072014e-308],
        "decimal": [
            Decimal("0.0000000001"),
            Decimal("-0.0000000001"),
            Decimal("1"),
            Decimal("-12345.6789012345"),
        ],
        "price": [Decimal("0.01"), Decimal("-0.01"), Decimal("100.10")],
        "date": [dt.date(1970, 1, 1), dt.date(2000, 2, 29), dt.date(1582, 10, 10)],
        "datetime": _datetimes(),
        "time": [dt.time(12, 0, 0, 1), dt.time(13, 37), dt.time(0, 0, 0, 500000)],
        "duration": [
            dt.timedelta(microseconds=1),
            dt.timedelta(microseconds=-1),
            dt.timedelta(days=-1, seconds=1),
            dt.timedelta(days=1, seconds=3600, microseconds=500000),
        ],
        "uuid": [
            uuid.UUID("6f1c1b2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b"),
            uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ],
        "binary": [b"\x00\x00\xff", b"\\x00", b"'\"", b"\r\n"],
        "json": _json_values(),
    }
    if not portable:
        _add_engine_values(vendor, columns)
    return columns


def _datetimes() -> list[dt.datetime]:
    """Return aware datetimes with microseconds in several time zones."""
    return [
        dt.datetime(2024, 2, 29, 12, 30, 45, 123456, tzinfo=UTC),
        dt.datetime(2024, 3, 31, 1, 59, 59, 999999, tzinfo=UTC),
        dt.datetime(2024, 10, 27, 2, 30, tzinfo=BRUSSELS),
        dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BRUSSELS),
        dt.datetime(2000, 1, 1, tzinfo=ZoneInfo("Asia/Kolkata")),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999, ZoneInfo("America/St_Johns")),
        dt.datetime(2038, 1, 19, 3, 14, 8, tzinfo=ZoneInfo("Pacific/Kiritimati")),
        dt.datetime(1900, 1, 1, 0, 0, 0, 1, dt.timezone(dt.timedelta(hours=5.75))),
        dt.datetime(1582, 10, 10, tzinfo=UTC),
    ]


def _json_values() -> list[Any]:
    """Return JSON documents: containers, scalars, and JSON null."""
    return [
        JSON_NULL,
        {"nested": {"list": [1, "two", None, True, {"deep": [[], {}]}]}},
        ["a", 1, None, 2.5, False],
        "string",
        42,
        3.5,
        True,
        False,
        0,
        -1,
        2**70,
        1e-10,
        {"b": 1, "a": 2, "aa": 3},
        {"null": None, "": "empty key"},
        {"quote'\"": "back\\slash\nnew\r\n", "emoji": "📚", "rtl": "שלום"},
        {"separators": "\u2028\u2029", "control": "\x01\x1f"},
        JSON_NULL,
    ]


def _add_engine_values(vendor: str, columns: dict[str, list[Any]]) -> None:
    """Append the values that only the backend *vendor* stores exactly."""
    if vendor == "postgresql":
        columns["real"] += [math.nan, math.inf, -math.inf, -0.0]
        columns["decimal"] += [
            Decimal("99999999999999999999.9999999999"),
            Decimal("-99999999999999999999.9999999999"),
            Decimal("12345678901234567890.0987654321"),
        ]
        columns["duration"] += [dt.timedelta.max, dt.timedelta.min]
        columns["json"] += [1e300]
    if vendor == "sqlite":
        # SQLite keeps infinities but turns NaN into NULL and -0.0 into 0.
        columns["real"] += [math.inf, -math.inf]
        columns["char"] = [*columns["char"], "nul \x00 byte", "\x00"]
        columns["text"] = [*columns["text"], "nul \x00 byte"]
        columns["duration"] += [
            dt.timedelta(microseconds=2**63 - 1),
            dt.timedelta(microseconds=-(2**63)),
        ]
        columns["json"] += [1e300, {"nul": "a\x00b"}]
