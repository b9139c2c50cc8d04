"""What the load benchmarks share: scratch databases, bulk members, gunicorn, CPU counters.

Nothing here is timed itself; the benchmarks time what they measure around it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import JSON, Column, DateTime, Engine, MetaData, String, Table, create_engine, text
from sqlalchemy.engine import make_url

from billing_core.adapters.db import make_engine
from billing_core.adapters.migrate import upgrade as migrate
from billing_core.adapters.models import MedicalBill, Member, PremiumInvoice
from billing_core.domain.identity import IdentityHasher
from billing_core.domain.members import CoverageType

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"

# A PostgreSQL server database to make scratch databases next to (trust auth, as in tests).
POSTGRES_SERVER_URL = (
    os.environ.get("IVR_BENCH_POSTGRES_URL")
    or os.environ.get("IVR_TEST_POSTGRES_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")

AUTH_TOKEN = "bench-twilio-auth-token"
PUBLIC_BASE_URL = "https://bench.example.test"
IDENTITY_KEY = "bench-identity-key"
PAY_LINE = "+18773659900"  # Northern California, where every bench member lives
# Added to every answer by bench/timed_app.py: the app's own microseconds for the request.
SERVER_TIME_HEADER = "X-Server-Time-Us"
# And the part of it spent waiting on the payment gateway.
GATEWAY_TIME_HEADER = "X-Gateway-Time-Us"


# The call state table of bench/floor_app.py, beside the app's own tables.
FLOOR_METADATA = MetaData()
FLOOR_CALLS = Table(
    "bench_floor_calls",
    FLOOR_METADATA,
    Column("call_sid", String(64), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# -- databases -----------------------------------------------------------------------------


def create_floor_table(url: str) -> None:
    """Create the floor app's table in the database the benchmark serves from."""
    engine = make_engine(url)
    FLOOR_METADATA.create_all(engine)
    engine.dispose()


def postgres_available() -> bool:
    """Tell whether the PostgreSQL server answers; the benchmarks print n/a without it."""
    engine = create_engine(POSTGRES_SERVER_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available" here
        return False
    finally:
        engine.dispose()


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """Yield the URL of a new, migrated database; it is deleted afterwards.

    SQLite: a file in a temporary folder. PostgreSQL: `ivr_bench_<random>` on the server,
    dropped at the end as tests/conftest.py does.
    """
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ivr_bench_") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            migrate(url)
            yield url
        return
    name = f"ivr_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# -- members -------------------------------------------------------------------------------

BIRTH_EPOCH = date(1940, 1, 1)
BILL_CENTS = 25000
PREMIUM_CENTS = 41200


def member_mrn(index: int) -> str:
    """The MRN of bench member `index` (8 digits)."""
    return f"{30000000 + index}"


def member_birth(index: int) -> date:
    """The birth date of bench member `index`: spread over 68 years."""
    return BIRTH_EPOCH + timedelta(days=index % 25000)


def keypad_date(day: date) -> str:
    return f"{day:%m%d%Y}"


class FastHasher:
    """IdentityHasher's digests, computed several times faster for millions of rows.

    HMAC-SHA256 with the key's inner and outer pads hashed once. Checked against
    IdentityHasher itself before use, so the rows hold exactly the digests the app computes.
    """

    def __init__(self, key: str) -> None:
        block = key.encode()
        if len(block) > 64:
            block = hashlib.sha256(block).digest()
        block = block.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))
        reference = IdentityHasher(key)
        for index in (0, 1, 99_999):
            mrn, birth = member_mrn(index), member_birth(index)
            expected = reference.mrn(mrn), reference.birth(reference.mrn(mrn), birth)
            if self.pair(mrn, birth) != expected:
                raise RuntimeError(
                    "FastHasher does not match billing_core.domain.identity.IdentityHasher"
                )

    def _digest(self, message: str) -> str:
        inner = self._inner.copy()
        inner.update(message.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def pair(self, mrn: str, birth: date) -> tuple[str, str]:
        """Return (MRN digest, birth digest) for an all-digits MRN."""
        mrn_digest = self._digest(f"mrn\x1f{mrn}")
        return mrn_digest, self._digest(f"birth\x1f{mrn_digest}:{birth.isoformat()}")


def member_digests(start: int, count: int, key: str = IDENTITY_KEY) -> list[tuple[str, str]]:
    """Return (MRN digest, birth digest) of bench members start .. start+count-1."""
    hasher = FastHasher(key)
    return [
        hasher.pair(member_mrn(index), member_birth(index)) for index in range(start, start + count)
    ]


def add_members(
    engine: Engine,
    start: int,
    count: int,
    *,
    digests: Sequence[tuple[str, str]] | None = None,
    now: datetime | None = None,
    batch: int = 50_000,
) -> None:
    """Write bench members start .. start+count-1 straight into the tables, in batches.

    Each member (id = index + 1) lives in Northern California and owes one medical bill
    ($250.00, due in a month) and next month's premium ($412.00). SQLite gets executemany
    in one transaction, PostgreSQL gets COPY, both on a connection of their own (so no
    loading setting reaches the engine's pool); the tables are analyzed afterwards, as a
    production database would be. `digests` (from member_digests) saves hashing here.
    """
    now = now or datetime.now(UTC).replace(microsecond=0)
    if digests is None:
        digests = member_digests(start, count)
    if len(digests) != count:
        raise ValueError("one digest pair per member")
    following = (now.replace(day=1) + timedelta(days=32)).replace(day=1).date()
    # Per table: the columns that change from row to row (filled in below), then the
    # same values for every row; any other column takes its model default.
    tables = {
        Member.__table__: (
            ("id", "mrn_digest", "mrn_last4", "birth_digest"),
            {
                "first_name": "Ana",
                "last_name": "Bench",
                "region_key": "ncal",
                "state": "CA",
                "coverage_type": CoverageType.INDIVIDUAL,
                "phone": "+14155550123",
                "email": None,
                "language": "en",
                "monthly_premium_cents": PREMIUM_CENTS,
                "created_at": now,
                "updated_at": now,
            },
        ),
        MedicalBill.__table__: (
            ("id", "member_id", "bill_number"),
            {
                "date_of_service": now.date() - timedelta(days=40),
                "facility": "Oakland Medical Center",
                "provider": "Dr. Bench",
                "amount_cents": BILL_CENTS,
                "paid_cents": 0,
                "due_date": now.date() + timedelta(days=30),
                "updated_at": now,
            },
        ),
        PremiumInvoice.__table__: (
            ("id", "member_id"),
            {
                "coverage_month": following,
                "amount_cents": PREMIUM_CENTS,
                "paid_cents": 0,
                "updated_at": now,
            },
        ),
    }
    dialect = engine.dialect
    layouts = [_layout(table, varying, same, dialect) for table, (varying, same) in tables.items()]

    def rows(first: int, last: int) -> tuple[list, list, list]:
        (_, _, member_tail), (_, _, bill_tail), (_, _, premium_tail) = layouts
        members, bills, premiums = [], [], []
        for index in range(first, last):
            mrn_digest, birth_digest = digests[index - start]
            key = index + 1
            members.append((key, mrn_digest, f"{index % 10000:04d}", birth_digest, *member_tail))
            bills.append((key, key, f"B-{key}", *bill_tail))
            premiums.append((key, key, *premium_tail))
        return members, bills, premiums

    def copy_text(first: int, last: int) -> tuple[str, str, str]:
        # The same rows in COPY's text format, written out directly: 3 million rows of
        # tuples turned into text would cost more than the database takes to load them.
        (_, _, member_tail), (_, _, bill_tail), (_, _, premium_tail) = layouts
        member_end, bill_end, premium_end = (
            "\t" + "\t".join("\\N" if v is None else str(v) for v in tail) + "\n"
            for tail in (member_tail, bill_tail, premium_tail)
        )
        members, bills, premiums = [], [], []
        for index in range(first, last):
            mrn_digest, birth_digest = digests[index - start]
            key = index + 1
            members.append(f"{key}\t{mrn_digest}\t{index % 10000:04d}\t{birth_digest}{member_end}")
            bills.append(f"{key}\t{key}\tB-{key}{bill_end}")
            premiums.append(f"{key}\t{key}{premium_end}")
        return "".join(members), "".join(bills), "".join(premiums)

    names = [(table, ", ".join(columns)) for table, columns, _tail in layouts]
    url = engine.url
    if dialect.name == "postgresql":
        import psycopg

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
            # As pg_restore does: secondary indexes, unique and foreign keys are dropped for
            # the load and made again from their own definitions, in the same transaction.
            rebuild = _drop_secondary_indexes(cursor, [table for table, _columns in names])
            for first in range(start, start + count, batch):
                last = min(first + batch, start + count)
                for (table, columns), data in zip(names, copy_text(first, last), strict=True):
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        copy.write(data)
            for statement in rebuild:
                cursor.execute(statement)
            for table, _columns in names:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            connection.commit()
            connection.autocommit = True
            cursor.execute(f"ANALYZE {', '.join(table for table, _columns in names)}")
        return
    import sqlite3

    connection = sqlite3.connect(url.database, isolation_level=None)
    try:
        # A scratch database loaded in one go: no journal and no syncs while loading, a large
        # page cache for the index inserts (this connection only); WAL again afterwards, as
        # the app's engine keeps it.
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -1000000")
        connection.execute("BEGIN")
        for first in range(start, start + count, batch):
            last = min(first + batch, start + count)
            for (table, columns), data in zip(names, rows(first, last), strict=True):
                marks = ", ".join("?" * len(data[0]))
                connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", data)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute(f"PRAGMA journal_mode = {journal}")
    finally:
        connection.close()


def _layout(table, varying: tuple[str, ...], same: dict, dialect) -> tuple[str, list, tuple]:
    """(table name, column names, bound values of the columns after `varying`).

    Columns the bench does not name take their model default, or NULL where allowed, so a
    column added to the models later does not break the load.
    """
    values = dict(same)
    for column in table.columns:
        if column.name in varying or column.name in values:
            continue
        if column.default is not None and column.default.is_scalar:
            values[column.name] = column.default.arg
        elif column.nullable:
            values[column.name] = None
        else:
            raise RuntimeError(f"bench members: no value for {table.name}.{column.name}")
    bound = []
    for name, value in values.items():
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        bound.append(processor(value) if processor and value is not None else value)
    return table.name, [*varying, *values], tuple(bound)


def _drop_secondary_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the tables' indexes, unique and foreign keys but the primary keys; return the
    statements that make them again, exactly as the catalog defines them."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC",
        (tables,),
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (tables,),
    )
    indexes = cursor.fetchall()
    for table, name, _definition in reversed(constraints):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    rebuild = [definition for _name, definition in indexes]
    # Unique keys before the foreign keys that may lean on them.
    rebuild += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition in constraints
    ]
    return rebuild


def bench_engine(url: str) -> Engine:
    """The engine the app would make for `url`."""
    return make_engine(url, hide_parameters=True)


# -- gunicorn ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """How gunicorn runs: the same for the app and the baseline in one comparison."""

    workers: int = 4
    worker_class: str = "sync"
    threads: int = 1

    def describe(self) -> str:
        threads = f", {self.threads} threads each" if self.worker_class == "gthread" else ""
        return f"gunicorn, {self.workers} {self.worker_class} workers{threads}"

    def arguments(self) -> list[str]:
        args = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        if self.worker_class == "gthread":
            args += ["--threads", str(self.threads)]
        return args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A gunicorn serving one WSGI app on 127.0.0.1."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def worker_pids(self) -> list[int]:
        return [pid for pid, parent in _processes() if parent == self.process.pid]

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], config: ServerConfig) -> Iterator[Server]:
    """Run `gunicorn app_spec` with `config` until the block ends; wait until it answers."""
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="ivr_bench_gunicorn_", suffix=".log") as log:
        log_path = Path(log.name)
        process = subprocess.Popen(
            [
                str(GUNICORN),
                "--chdir",
                str(ROOT),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                *config.arguments(),
                app_spec,
            ],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = Server(process, port, log_path)
        try:
            _wait_until_serving(server, config.workers)
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(server: Server, workers: int, timeout: float = 60.0) -> None:
    probe = b"POST /voice HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{server.log_tail()}")
        if len(server.worker_pids()) >= workers:
            try:
                # Unsigned, so refused with 403: enough to show a worker has loaded the app.
                if raw_request(server.address, probe, timeout=5)[0]:
                    return
            except OSError:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start serving in {timeout:.0f} s:\n{server.log_tail()}")


def raw_request(address: tuple[str, int], data: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    """Send one prepared HTTP/1.1 request with Connection: close; return (status, response)."""
    with socket.create_connection(address, timeout=timeout) as connection:
        connection.sendall(data)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    response = b"".join(chunks)
    try:
        return int(response[9:12]), response
    except ValueError:
        return 0, response


# -- CPU counters --------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of every process."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        yield int(entry), int(fields[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 0; utime and stime are fields 11 and 12.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def database_backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving connections to the database of `url`."""
    name = make_url(url).database
    engine = create_engine(POSTGRES_SERVER_URL)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                ).scalars()
            )
    finally:
        engine.dispose()


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / _TICKS, total / _TICKS


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds so far: the whole machine, this process, and the processes watched."""

    wall: float
    busy: float
    total: float
    own: float
    watched: float

    @classmethod
    def take(cls, watched: Sequence[int] = ()) -> CpuSnapshot:
        busy, total = machine_cpu()
        return cls(
            time.monotonic(),
            busy,
            total,
            time.process_time(),
            sum(process_cpu_seconds(pid) for pid in watched),
        )


@dataclass(frozen=True)
class CpuUse:
    """Cores used on average between two snapshots (2.0 is all of a 2-core machine)."""

    cores: int
    busy: float
    own: float
    watched: float

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot) -> CpuUse:
        cores = os.cpu_count() or 1
        total = after.total - before.total
        share = cores / total if total else 0.0
        wall = after.wall - before.wall or 1.0
        return cls(
            cores,
            (after.busy - before.busy) * share,
            (after.own - before.own) / wall,
            (after.watched - before.watched) / wall,
        )

    @property
    def others(self) -> float:
        """Cores busy with processes neither this benchmark's nor watched ones."""
        return max(0.0, self.busy - self.own - self.watched)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (fraction 0.99 for p99)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]
