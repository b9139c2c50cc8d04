"""The job engine: procrastinate on the configured database, running the scheduled work.

On PostgreSQL the jobs are rows of procrastinate's own tables, next to the billing
tables: any number of workers on any hosts claim them with SELECT ... FOR UPDATE SKIP
LOCKED, and each periodic job is deferred once per scheduled time however many workers
defer it. The embedded set-up (SQLite) has no job tables: its jobs live in the memory of
the one process that runs them (procrastinate's InMemoryConnector), which is enough
because every task keeps its real state in the billing tables and is idempotent there.

Tasks are given as JobDefinitions: a name, a cron schedule (or none), retries, and a
function of the time "now". Nothing here knows what the tasks do. A task with Batches
(batched_job) is split: its job only defers one job per batch, which any worker takes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from procrastinate import App, BaseConnector, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from procrastinate.testing import InMemoryConnector
from procrastinate.worker import Worker
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from billing_core.domain.clock import Clock

log = logging.getLogger(__name__)

# Finished jobs that succeeded are deleted (their work is in the billing tables); failed
# ones stay in procrastinate_jobs for an operator to look at.
DELETE_JOBS = "successful"
# procrastinate's version is kept as a comment on its jobs table, so a later upgrade of
# the library knows which of its migrations the database still needs.
_VERSION_MARK = "procrastinate "
# One `ivr db upgrade` at a time applies the job schema (any fixed key would do).
_SCHEMA_LOCK_KEY = 0x1A5B_0B5


# A batch is named by a few integers (e.g. the first and past-the-last member id).
BatchKey = tuple[int, ...]


@dataclass(frozen=True)
class Batches:
    """A task's work in batches, each run as a job of its own by whichever worker takes it.

    split(now) names the batches due as of `now`; run(now, key) does one batch's work
    (idempotent, as any job) and returns its report; combine(reports) says in one line
    what several batches did. The keys of one split must not change if it is made again
    the same day: a batch's job is recognized by its task, day and key.
    """

    split: Callable[[datetime], Sequence[BatchKey]]
    run: Callable[[datetime, BatchKey], Any]
    combine: Callable[[list[Any]], str]

    def run_inline(self, now: datetime) -> str:
        """Every batch one after the other, here and now: one combined line."""
        return self.combine([self.run(now, key) for key in self.split(now)])


@dataclass(frozen=True)
class JobDefinition:
    """One task: what it is called, when it runs, how often it is retried, what it does.

    run(now) does the work as of `now` and returns a line saying what it did. It must be
    idempotent in the database: a job may run twice (a retry, a crash, a late worker).
    """

    name: str
    summary: str
    run: Callable[[datetime], str]
    cron: str | None = None  # None: run only when deferred or run by hand
    max_attempts: int = 5  # runs of one job in all, first one included
    retry_wait_seconds: int = 2  # exponential: 4, 8, 16, ... seconds between attempts
    # Set by batched_job: the job defers one job per batch (run, by hand, does them all).
    batches: Batches | None = None

    @property
    def schedule(self) -> str:
        return self.cron or "on demand"

    @property
    def batch_task(self) -> str:
        return f"{self.name}-batch"


def batched_job(
    name: str,
    summary: str,
    batches: Batches,
    *,
    cron: str | None = None,
    max_attempts: int = 5,
    retry_wait_seconds: int = 2,
) -> JobDefinition:
    """A task split in batches: its job defers the batch jobs, each retried on its own.

    run(now) (what `ivr jobs run` calls) does every batch inline and combines the reports.
    """
    return JobDefinition(
        name=name,
        summary=summary,
        run=batches.run_inline,
        cron=cron,
        max_attempts=max_attempts,
        retry_wait_seconds=retry_wait_seconds,
        batches=batches,
    )


def batch_lock(definition: JobDefinition, now: datetime, key: BatchKey) -> str:
    """The queueing lock and lock of one batch's job: its task, the run's UTC day, its key."""
    return f"{definition.batch_task}:{now:%Y-%m-%d}:{'-'.join(str(part) for part in key)}"


def is_postgresql(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def libpq_conninfo(database_url: str) -> str:
    """Turn a SQLAlchemy URL (postgresql+psycopg://...) into a libpq connection URI."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {url.render_as_string(hide_password=True)}")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_connector(database_url: str) -> BaseConnector:
    """A real connector on PostgreSQL; the in-memory one for the embedded set-up."""
    if is_postgresql(database_url):
        return PsycopgConnector(conninfo=libpq_conninfo(database_url))
    return InMemoryConnector()


def make_job_app(
    database_url: str,
    definitions: Iterable[JobDefinition],
    *,
    clock: Clock,
    connector: BaseConnector | None = None,
) -> App:
    """A procrastinate App with one task per definition, the periodic ones scheduled."""
    app = App(
        connector=connector or make_connector(database_url),
        worker_defaults={"delete_jobs": DELETE_JOBS},
    )
    for definition in definitions:
        _add_task(app, definition, clock)
    _add_stalled_job_retry(app)
    return app


# The engine's own task: a job whose worker died (no heartbeat for 30 s) is run again.
RETRY_STALLED = JobDefinition(
    name="retry-stalled",
    summary="run again the jobs of workers that died mid-job (the engine's own task)",
    run=lambda now: "see the worker's log",
    cron="*/5 * * * *",
    max_attempts=1,
)


def _add_stalled_job_retry(app: App) -> None:
    async def retry_stalled(timestamp: int | None = None) -> str:
        stalled = list(await app.job_manager.get_stalled_jobs())
        for job in stalled:
            await app.job_manager.retry_job(job)
        return f"retried {len(stalled)} stalled job(s)"

    task = app.task(
        name=RETRY_STALLED.name, queueing_lock=RETRY_STALLED.name, lock=RETRY_STALLED.name
    )(retry_stalled)
    app.periodic(cron=RETRY_STALLED.cron or "", periodic_id=RETRY_STALLED.name)(task)


def _add_task(app: App, definition: JobDefinition, clock: Clock) -> None:
    if definition.batches is not None:
        _add_batched_task(app, definition, definition.batches, clock)
        return

    def run_job(timestamp: int | None = None) -> str:
        # A periodic job carries its scheduled time; the work is done as of the clock's now.
        outcome = definition.run(clock.now())
        log.info("job %s: %s", definition.name, outcome)
        return outcome

    run_job.__name__ = run_job.__qualname__ = definition.name.replace("-", "_")
    task = app.task(
        name=definition.name,
        retry=_retry(definition),
        # One run of a task at a time across all workers, and at most one waiting behind it.
        lock=definition.name,
        queueing_lock=definition.name,
    )(run_job)
    if definition.cron:
        app.periodic(cron=definition.cron, periodic_id=definition.name)(task)


def _retry(definition: JobDefinition) -> RetryStrategy:
    return RetryStrategy(
        max_attempts=definition.max_attempts, exponential_wait=definition.retry_wait_seconds
    )


def _add_batched_task(app: App, definition: JobDefinition, batches: Batches, clock: Clock) -> None:
    def run_batch(as_of: str, key: list[int]) -> str:
        outcome = batches.combine([batches.run(datetime.fromisoformat(as_of), tuple(key))])
        log.info("job %s %s: %s", definition.batch_task, key, outcome)
        return outcome

    run_batch.__name__ = run_batch.__qualname__ = definition.batch_task.replace("-", "_")
    batch_task = app.task(name=definition.batch_task, retry=_retry(definition))(run_batch)

    async def split(timestamp: int | None = None) -> str:
        # The batches carry the split's time: a batch taken late still works as of the run.
        now = clock.now()
        keys = await asyncio.to_thread(batches.split, now)
        deferred = queued = 0
        for key in keys:
            # One job per (day, batch) queued at a time, and one running: a split made again,
            # or on two hosts at once, adds nothing while the first one's job is waiting.
            lock = batch_lock(definition, now, key)
            try:
                await batch_task.configure(lock=lock, queueing_lock=lock).defer_async(
                    as_of=now.isoformat(), key=list(key)
                )
                deferred += 1
            except AlreadyEnqueued:
                queued += 1
        outcome = f"deferred {deferred} batch job(s) of {definition.name}, {queued} already queued"
        log.info("job %s: %s", definition.name, outcome)
        return outcome

    split.__name__ = split.__qualname__ = definition.name.replace("-", "_")
    task = app.task(
        name=definition.name,
        retry=_retry(definition),
        lock=definition.name,
        queueing_lock=definition.name,
    )(split)
    if definition.cron:
        app.periodic(cron=definition.cron, periodic_id=definition.name)(task)


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def run_worker(app: App, *, concurrency: int = 1, name: str | None = None) -> None:
    """Run a worker in the foreground until SIGINT or SIGTERM (then it finishes its jobs)."""
    app.run_worker(concurrency=concurrency, name=name or worker_name())


class LocalWorker:
    """A worker on a thread of this process: the embedded set-up's one local worker."""

    def __init__(self, app: App, *, concurrency: int = 1) -> None:
        self._app = app
        self._worker = Worker(
            app=app,
            name=f"local-{worker_name()}",
            concurrency=concurrency,
            install_signal_handlers=False,  # signals belong to the main thread (the server)
            delete_jobs=DELETE_JOBS,
        )
        self._thread = threading.Thread(target=self._run, name="ivr-jobs-worker", daemon=True)

    def start(self) -> LocalWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._worker.stop()
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        async def main() -> None:
            async with self._app.open_async():
                await self._worker.run()

        try:
            asyncio.run(main())
        except Exception:  # the web process goes on; the log says why its jobs stopped
            log.exception("the local job worker stopped")


def apply_job_schema(database_url: str) -> str:
    """Create procrastinate's tables if absent, or bring them to this version; idempotent.

    Returns what it did: "created", "upgraded from X" or "up to date". Only PostgreSQL has
    job tables; on any other database this does nothing ("not needed").
    """
    if not is_postgresql(database_url):
        return "not needed"
    import psycopg
    from procrastinate import __version__

    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
            present = connection.execute(
                "SELECT obj_description(to_regclass('procrastinate_jobs'), 'pg_class'), "
                "to_regclass('procrastinate_jobs') IS NOT NULL"
            ).fetchone()
            assert present is not None
            mark, exists = present
            if not exists:
                connection.execute(SchemaManager.get_schema())
                outcome = "created"
            else:
                applied = (mark or "").removeprefix(_VERSION_MARK) if mark else ""
                if not applied:
                    # Made by hand (procrastinate schema --apply): take it as this version.
                    outcome = "up to date"
                elif _version(applied) >= _version(__version__):
                    return "up to date"
                else:
                    for migration in _migrations_after(applied, __version__):
                        connection.execute(migration.read_text(encoding="utf-8"))
                    outcome = f"upgraded from {applied}"
            connection.execute(
                f"COMMENT ON TABLE procrastinate_jobs IS '{_VERSION_MARK}{__version__}'"
            )
    return outcome


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def _migrations_after(applied: str, current: str):
    """procrastinate's migration files from versions after `applied`, up to `current`."""
    from pathlib import Path

    folder = Path(SchemaManager.get_migrations_path())
    found = []
    for path in sorted(folder.glob("*.sql")):
        version = _version(path.name.split("_")[0])
        if _version(applied) < version <= _version(current):
            found.append(path)
    return found


def job_counts(engine: Engine) -> list[tuple[str, str, int]] | None:
    """The jobs in procrastinate's table, by task and status; None where there is no table.

    On SQLite (the embedded set-up) jobs live in the memory of the serving process, which
    another process cannot read.
    """
    if engine.dialect.name != "postgresql":
        return None
    query = text(
        "SELECT task_name, status::text, count(*) FROM procrastinate_jobs"
        " GROUP BY task_name, status ORDER BY task_name, status"
    )
    try:
        with engine.connect() as connection:
            return [(task, status, n) for task, status, n in connection.execute(query)]
    except ProgrammingError:  # the job schema is not applied (`ivr db upgrade` does)
        return None
