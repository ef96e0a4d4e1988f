"""Run measured subprocesses and manage the throwaway databases they work on."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import rawio
from benchmarks.proctree import POLL_SECONDS, TreeSampler

REPO = Path(__file__).resolve().parents[1]
MANAGE = ("benchmarks/manage.py",)


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


@dataclass
class Measurement:
    """The figures of one measured step.

    :param seconds: wall time of the subprocess, or, for the raw steps, the
        time of the database work measured inside it (``in_process``).
    :param rss_mb: peak resident set size of the main process, in MiB.
    :param tree_mb: peak of the summed ``Pss`` of the process and its workers.
    :param extrapolated: *seconds* and *size_bytes* were measured on
        *measured_rows* rows and scaled linearly to *rows*.
    """

    name: str
    seconds: float | None = None
    rows: int | None = None
    rss_mb: float | None = None
    size_bytes: int | None = None
    in_process: bool = False
    extrapolated: bool = False
    measured_rows: int | None = None
    note: str = ""
    tree_mb: float | None = None
    processes: int = 1

    @property
    def rows_per_second(self) -> float | None:
        """Return the throughput, if both figures are known."""
        if self.seconds and self.rows is not None:
            return self.rows / self.seconds
        return None

    def as_json(self) -> dict[str, Any]:
        """Return the figures as a JSON-ready dict."""
        return {**asdict(self), "rows_per_second": self.rows_per_second}

    @classmethod
    def of_child(cls, name: str, child: Child, **figures: Any) -> Measurement:
        """Return the measurement of a step that ran as *child*."""
        return cls(
            name, child.seconds, rss_mb=child.rss_mb, tree_mb=child.tree_mb,
            processes=child.processes, **figures,
        )  # fmt: skip


@dataclass(frozen=True)
class Child:
    """What a finished subprocess left: wall time, peak memory and output.

    :param rss_mb: ``VmHWM`` of the main process (its own peak RSS), in MiB.
    :param tree_mb: the highest sum of ``Pss`` of the process and all its
        descendants seen while it ran (:mod:`benchmarks.proctree`), in MiB.
    """

    seconds: float
    rss_mb: float
    output: str
    tree_mb: float | None = None
    processes: int = 1


class UnsupportedOptionError(BenchError):
    """The command does not know an option the benchmark gave it.

    :param reason: what the command said of the option.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


#: What a command says of an option it does not have, or cannot use here.
UNSUPPORTED = re.compile(r"unrecognized arguments: [^.\n]*|--jobs \d+ needs PostgreSQL")


def _wait_sampling(
    proc: subprocess.Popen[bytes], sampler: TreeSampler
) -> tuple[int, Any]:
    """Sample the tree of *proc* every :data:`POLL_SECONDS` until it exits."""
    while True:
        sampler.sample()
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, usage
        time.sleep(POLL_SECONDS)


def run_child(args: list[str], env: dict[str, str], log: Path) -> Child:
    """Run *args* from the repository root; return its wall time and peak memory.

    The peak RSS of the main process is the one it reports at exit
    (:func:`benchmarks.rawio.record_peak_rss`); for a program that reports
    none (``pg_dump``), its ``VmHWM`` as last sampled; ``ru_maxrss`` of
    ``os.wait4``, which may start at this process's own peak, only when
    neither is known. The peak of the whole process tree is sampled from
    ``/proc`` while it runs.

    :raises UnsupportedOptionError: when the command rejects an option.
    :raises BenchError: when the command exits with another non-zero status.
    """
    peak = log.with_suffix(".peak")
    peak.unlink(missing_ok=True)
    env = {**env, "BENCH_PEAK_FILE": str(peak)}
    with log.open("w", encoding="utf-8") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        sampler = TreeSampler(proc.pid)
        status, usage = _wait_sampling(proc, sampler)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(encoding="utf-8", errors="replace")
    # All in KiB on Linux; ru_maxrss may start at this process's own peak.
    kib = (
        int(peak.read_text())
        if peak.exists()
        else sampler.root_hwm_kib or usage.ru_maxrss
    )
    peak.unlink(missing_ok=True)
    if proc.returncode != 0:
        tail = "".join(f"    {line}\n" for line in output.splitlines()[-25:])
        shown = " ".join(args[1:])
        msg = f"`{shown}` exited with status {proc.returncode}:\n{tail}"
        if found := UNSUPPORTED.search(output):
            raise UnsupportedOptionError(found[0], msg)
        raise BenchError(msg)
    return Child(seconds, kib / 1024, output, sampler.peak_mb, sampler.most_processes)


def say(message: str) -> None:
    """Print the progress line *message*."""
    print(f"  .. {message}", flush=True)


def check_same(server: Server, source: str, target: str, step: str) -> None:
    """Raise if a table of *target* has another row count than in *source*."""
    want, have = server.count_rows(source), server.count_rows(target)
    differ = [
        f"{table}: {want.get(table)} in the source, {have.get(table)} after {step}"
        for table in sorted(want.keys() | have.keys())
        if want.get(table) != have.get(table)
    ]
    if differ:
        msg = f"{step} did not reproduce the source:\n    " + "\n    ".join(differ)
        raise BenchError(msg)


def directory_size(path: Path) -> int:
    """Return the bytes of the files under *path*."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Server:
    """A database engine on which the benchmark creates and drops databases."""

    engine = ""
    label = ""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.template = ""
        self.made: list[str] = []

    def env(self, db: str, **extra: str) -> dict[str, str]:
        """Return the environment of a ``manage.py`` working on database *db*."""
        return dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="benchmarks.settings",
            BENCH_ENGINE=self.engine,
            BENCH_DB=db,
            PYTHONIOENCODING="utf-8",
            **extra,
        )

    def manage(self, db: str, *args: str, log: str, **extra: str) -> Child:
        """Run ``benchmarks/manage.py ARGS`` on database *db*."""
        command = [sys.executable, *MANAGE, *args]
        return run_child(command, self.env(db, **extra), self.work / f"{log}.log")

    def raw(self, *args: str, log: str) -> tuple[Child, dict[str, Any]]:
        """Run ``benchmarks/rawio.py ARGS``; return the child and its figures."""
        command = [sys.executable, "benchmarks/rawio.py", *args]
        child = run_child(command, dict(os.environ), self.work / f"{log}.log")
        return child, json.loads(child.output)

    def prepare_template(self) -> None:
        """Create an empty, migrated database that fresh databases copy."""
        self.template = self.create("template")
        self.manage(self.template, "migrate", "--noinput", "-v", "0", log="migrate")

    def fresh(self, role: str) -> str:
        """Return a new database that is a copy of the migrated template."""
        raise NotImplementedError

    def create(self, role: str) -> str:
        """Return a new empty database."""
        raise NotImplementedError

    def drop(self, db: str) -> None:
        """Drop database *db*."""
        raise NotImplementedError

    def settle(self, db: str) -> None:
        """Make *db* ready to be read at full speed after a bulk load."""

    def count_rows(self, db: str) -> dict[str, int]:
        """Return the number of rows per table of *db*."""
        return rawio.count_rows(self.engine, db)

    def column_values(
        self, db: str, table: str, key: str, column: str
    ) -> dict[Any, Any]:
        """Return ``{primary key: value}`` of one column of *table* in *db*."""
        return rawio.column_values(self.engine, db, table, key, column)

    def version(self) -> str:
        """Return the name and version of the engine."""
        raise NotImplementedError

    def close(self, keep: bool) -> list[str]:
        """Drop the databases not dropped yet, unless *keep*; return those kept."""
        if keep:
            return list(self.made)
        for db in list(self.made):
            self.drop(db)
        return []


class SqliteServer(Server):
    """SQLite: a database is a file in the work directory."""

    engine = "sqlite"
    label = "SQLite"

    def create(self, role: str) -> str:
        path = self.work / f"{role}.sqlite3"
        path.unlink(missing_ok=True)
        self.made.append(str(path))
        return str(path)

    def fresh(self, role: str) -> str:
        path = self.create(role)
        shutil.copyfile(self.template, path)
        return path

    def drop(self, db: str) -> None:
        Path(db).unlink(missing_ok=True)
        if db in self.made:
            self.made.remove(db)

    def version(self) -> str:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"


class PostgresServer(Server):
    """PostgreSQL: databases named ``lmbench_<pid>_<role>`` on the server."""

    engine = "postgres"
    label = "PostgreSQL"

    def __init__(self, work: Path) -> None:
        super().__init__(work)
        import psycopg

        params = rawio.pg_params("postgres")
        try:
            self.admin = psycopg.connect(**params, autocommit=True)
        except psycopg.Error as e:
            where = f"{params['host']}:{params['port']} as {params['user']}"
            msg = f"Cannot connect to the PostgreSQL server at {where}: {e}"
            raise BenchError(msg) from e
        self.prefix = f"lmbench_{os.getpid()}_"

    def create(self, role: str) -> str:
        name = self.prefix + role
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return name

    def fresh(self, role: str) -> str:
        name = self.prefix + role
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.made.append(name)
        return name

    def drop(self, db: str) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        if db in self.made:
            self.made.remove(db)

    def settle(self, db: str) -> None:
        # A first read after a bulk load would also set hint bits and write;
        # VACUUM does that once, so every reader sees the same table.
        conn = rawio.connect(self.engine, db)
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.close()

    def version(self) -> str:
        row = self.admin.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0].split()[0]}"

    def close(self, keep: bool) -> list[str]:
        kept = super().close(keep)
        self.admin.close()
        return kept


def make_server(engine: str, work: Path) -> Server:
    """Return the server of *engine*, with its own work directory."""
    directory = work / engine
    directory.mkdir(parents=True, exist_ok=True)
    if engine == "postgres":
        return PostgresServer(directory)
    return SqliteServer(directory)
