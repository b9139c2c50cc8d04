"""The job engine: each task does its work as a job, workers run each job once, the commands.

The tasks run through procrastinate's in-memory connector (the embedded set-up's) on
every database; the workers that share a queue run against procrastinate's real schema
on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from procrastinate.testing import InMemoryConnector
from sqlalchemy import create_engine, select, text

from billing_core.adapters.jobs import (
    JobDefinition,
    LocalWorker,
    apply_job_schema,
    is_postgresql,
    libpq_conninfo,
    make_job_app,
)
from billing_core.adapters.models import OutboxMessage, OutboxStatus
from billing_core.domain.payments import PaymentStatus, PaymentTarget
from billing_core.services import outbox
from billing_core.services.outbox import EMAIL, OutgoingMessage
from billing_core.services.tasks import core_as_of
from ivr.call_state import CallState
from tests.conftest import AUTH_TOKEN, IDENTITY_KEY, PUBLIC_BASE_URL
from tests.integration.test_payments import BILLS, BIRTH, MRN, PREMIUMS, card
from tests.members import add_member


class StubSender:
    """Keeps what it is given to send."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: OutgoingMessage) -> str:
        self.sent.append(message.dedupe_key)
        return f"stub-{len(self.sent)}"


@pytest.fixture
def sender() -> StubSender:
    return StubSender()


@pytest.fixture
def jobs_app(core, clock, database_url, sender):
    """The app, its job engine on the in-memory connector, receipts to a stub sender."""
    from ivr import create_app

    app = create_app(
        {
            "TESTING": True,
            "ENGINE": core.engine,
            "CLOCK": clock,
            "DATABASE_URL": database_url,
            "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "IVR_IDENTITY_KEY": IDENTITY_KEY,
            "RECEIPT_SENDERS": {EMAIL: sender},
            "JOBS_CONNECTOR": InMemoryConnector(),
        }
    )
    return app


def run_as_jobs(app, *names: str) -> list[dict]:
    """Defer these tasks and run a worker until it has nothing left; return their jobs.

    (The worker's periodic deferrer may queue more of them; the tasks are idempotent.)
    """
    engine = app.extensions["jobs"].app
    ids = [engine.configure_task(name).defer() for name in names]
    engine.run_worker(
        wait=False, install_signal_handlers=False, listen_notify=False, delete_jobs="never"
    )
    return [engine.connector.jobs[job_id] for job_id in ids]


def queue_receipt(core) -> str:
    key = f"test:{uuid.uuid4().hex[:8]}"
    with core.unit_of_work() as uow:
        message = OutgoingMessage(EMAIL, "ana@example.org", "Body", key, subject="Receipt")
        outbox.enqueue(uow, message, now=core.clock.now())
        uow.commit()
    return key


def test_the_outbox_task_delivers_a_queued_receipt_once(jobs_app, core, sender):
    key = queue_receipt(core)
    jobs = run_as_jobs(jobs_app, "outbox")
    assert sender.sent == [key]
    assert {job["status"] for job in jobs} == {"succeeded"}
    with core.unit_of_work() as uow:
        status = uow.session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.dedupe_key == key)
        ).one()
    assert status is OutboxStatus.SENT
    run_as_jobs(jobs_app, "outbox")  # again: nothing is sent twice
    assert sender.sent == [key]


def test_the_reconcile_task_settles_a_payment_whose_charge_went_unanswered(jobs_app, core):
    from billing_core.adapters.gateways.sandbox import fixed_token

    member_id = add_member(core, mrn=MRN, birth_date=BIRTH, bills=BILLS, premiums=PREMIUMS)
    outcome = core.pay(
        card(member_id, PaymentTarget.bill("B-200"), 12000, token=fixed_token("timeout", "0341"))
    )
    assert outcome.status is PaymentStatus.UNKNOWN
    jobs = run_as_jobs(jobs_app, "reconcile")
    assert {job["status"] for job in jobs} == {"succeeded"}
    summary = core.account_summary(member_id, channel="test")
    assert "B-200" not in {line.bill_number for line in summary.bills}


def test_the_purge_task_deletes_expired_call_state_and_keeps_live_calls(jobs_app, clock):
    store = jobs_app.extensions["call_store"]
    store.save(CallState.restore("CA-old", {"region": "ncal"}, is_new=True), clock.now())
    clock.advance(3 * 3600)  # beyond the two-hour expiry
    store.save(CallState.restore("CA-live", {"region": "ncal"}, is_new=True), clock.now())
    run_as_jobs(jobs_app, "purge-calls")
    assert store.load("CA-old", clock.now()).is_new
    assert not store.load("CA-live", clock.now()).is_new


def test_a_failing_task_is_retried_then_left_failed(clock):
    attempts = []

    def flaky(now: datetime) -> str:
        attempts.append(now)
        if len(attempts) < 2:
            raise RuntimeError("the provider is down")
        return "done"

    definition = JobDefinition("flaky", "fails once", flaky, max_attempts=3, retry_wait_seconds=0)
    engine = make_job_app("sqlite://", [definition], clock=clock, connector=InMemoryConnector())
    job_id = engine.configure_task("flaky").defer()
    options = {"install_signal_handlers": False, "listen_notify": False, "delete_jobs": "never"}
    engine.run_worker(wait=False, **options)
    engine.run_worker(wait=False, **options)  # the retry waits 1 second at the least
    deadline = time.monotonic() + 5
    while len(attempts) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        engine.run_worker(wait=False, **options)
    assert len(attempts) == 2
    assert engine.connector.jobs[job_id]["status"] == "succeeded"


def test_every_task_has_a_schedule_and_retries(jobs_app):
    result = jobs_app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert set(lines) == {
        "outbox",
        "reconcile",
        "autopay",
        "scheduled",
        "plans",
        "reminders",
        "purge-calls",
        "retry-stalled",
    }
    assert "0 12 * * *" in lines["autopay"]
    assert "30 * * * *" in lines["reminders"]
    assert "0 12 * * *" in lines["scheduled"]
    assert "0 12 * * *" in lines["plans"]
    assert "* * * * *" in lines["outbox"]
    assert "*/5 * * * *" in lines["reconcile"]
    assert "0 * * * *" in lines["purge-calls"]
    periodic = jobs_app.extensions["jobs"].app.periodic_registry.periodic_tasks
    assert {name for name, _ in periodic} == set(lines)
    tasks = jobs_app.extensions["jobs"].app.tasks
    assert all(tasks[name].retry_strategy for name in ("outbox", "reconcile", "purge-calls"))


def test_a_job_whose_worker_died_is_retried_by_the_engine(clock):
    ran = []
    definition = JobDefinition("once", "records its run", lambda now: ran.append(now) or "ok")
    engine = make_job_app("sqlite://", [definition], clock=clock, connector=InMemoryConnector())
    connector = engine.connector
    job_id = engine.configure_task("once").defer()
    # A worker took the job, then died: the job is "doing" and its worker beats no more.
    dead = asyncio.run(connector.register_worker_one())["worker_id"]
    asyncio.run(connector.fetch_job_one(queues=None, worker_id=dead))
    connector.workers[dead] = datetime(2000, 1, 1, tzinfo=UTC)
    engine.configure_task("retry-stalled").defer()
    options = {"install_signal_handlers": False, "listen_notify": False, "delete_jobs": "never"}
    engine.run_worker(wait=False, **options)
    engine.run_worker(wait=False, **options)
    assert len(ran) == 1
    assert connector.jobs[job_id]["status"] == "succeeded"


def test_the_local_worker_runs_the_periodic_tasks_on_a_thread_and_stops(clock):
    ticks = threading.Event()
    # A sixth cron field is seconds: due every second.
    definition = JobDefinition(
        "tick", "sets an event", lambda now: ticks.set() or "tick", cron="* * * * * *"
    )
    engine = make_job_app("sqlite://", [definition], clock=clock, connector=InMemoryConnector())
    worker = LocalWorker(engine).start()
    try:
        assert ticks.wait(timeout=10)
    finally:
        worker.stop()
    assert not worker.running


def test_jobs_run_takes_the_time_the_task_sees_from_as_of(jobs_app, clock):
    store = jobs_app.extensions["call_store"]
    store.save(CallState.restore("CA-old", {"region": "ncal"}, is_new=True), clock.now())
    runner = jobs_app.test_cli_runner()
    soon = (clock.now() + timedelta(minutes=30)).isoformat()
    result = runner.invoke(args=["jobs", "run", "purge-calls", "--as-of", soon])
    assert result.exit_code == 0, result.output
    assert "removed 0 expired call(s)" in result.output
    later = (clock.now() + timedelta(days=1)).date().isoformat()  # a date: its midnight, UTC
    result = runner.invoke(args=["jobs", "run", "purge-calls", "--as-of", later])
    assert result.exit_code == 0, result.output
    assert "removed 1 expired call(s)" in result.output


def test_jobs_run_refuses_a_time_without_a_zone_and_an_unknown_task(jobs_app):
    runner = jobs_app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "outbox", "--as-of", "2026-11-27T06:00:00"])
    assert result.exit_code == 2
    assert "give a time zone" in result.output
    result = runner.invoke(args=["jobs", "run", "no-such-task"])
    assert result.exit_code == 2
    tasks = "outbox, reconcile, autopay, scheduled, plans, reminders, purge-calls"
    assert f"the tasks are: {tasks}" in result.output


def test_jobs_run_reconciles_as_of_the_given_time(jobs_app, core, clock):
    """A PENDING payment is left to its call for 10 minutes: as of later, reconcile settles it."""
    from billing_core.services import payments

    member_id = add_member(core, mrn=MRN, birth_date=BIRTH, bills=BILLS, premiums=PREMIUMS)
    started = payments.start_payment(
        core.unit_of_work(),
        card(member_id, PaymentTarget.bill("B-200"), 12000),
        gateway_name=core.gateway.name,
        now=clock.now(),
    )
    assert started.outcome.status is PaymentStatus.PENDING
    runner = jobs_app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "reconcile"])
    assert "failed: 0, still open: 0" in result.output  # too young to be looked at
    later = (clock.now() + timedelta(hours=1)).isoformat()
    result = runner.invoke(args=["jobs", "run", "reconcile", "--as-of", later])
    assert result.exit_code == 0, result.output
    assert "succeeded: 0, failed: 1" in result.output  # no charge was ever made: not charged


def test_core_as_of_reads_the_given_time_and_leaves_the_core_alone(core, clock):
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    assert core_as_of(core, moment).clock.now() == moment
    assert core.clock.now() == clock.now()


def test_db_upgrade_twice_is_harmless(jobs_app, database_url):
    runner = jobs_app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "database is up to date" in result.output
    if is_postgresql(database_url):
        assert "job schema: up to date" in result.output
        assert apply_job_schema(database_url) == "up to date"
    else:
        assert "job schema" not in result.output


def test_a_sqlalchemy_url_becomes_a_libpq_uri():
    assert (
        libpq_conninfo("postgresql+psycopg://ivr:s%40cret@db.example:5433/ivr?sslmode=require")
        == "postgresql://ivr:s%40cret@db.example:5433/ivr?sslmode=require"
    )
    with pytest.raises(ValueError):
        libpq_conninfo("sqlite:///instance/ivr.sqlite3")


# --- PostgreSQL: the real schema, many workers ------------------------------------------


@pytest.mark.postgres
def test_two_workers_run_each_job_of_a_batch_exactly_once(database_url, clock):
    if not is_postgresql(database_url):
        pytest.skip("workers sharing a queue need PostgreSQL")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    ran: list[tuple[int, str]] = []
    lock = threading.Lock()

    def make_app():
        engine = make_job_app(database_url, [], clock=clock)

        @engine.task(name=f"count-{queue}", queue=queue, pass_context=True)
        def count(context, n: int) -> None:
            with lock:
                ran.append((n, context.worker_name))
            time.sleep(0.02)

        return engine, count

    (first, count_first), (second, _) = make_app(), make_app()
    batch = 40

    async def main():
        async with first.open_async(), second.open_async():
            await count_first.batch_defer_async(*({"n": n} for n in range(batch)))
            options = {
                "queues": [queue],
                "wait": False,
                "concurrency": 2,
                "install_signal_handlers": False,
                "listen_notify": False,
                "delete_jobs": "never",
            }
            await asyncio.gather(
                first.run_worker_async(name="first", **options),
                second.run_worker_async(name="second", **options),
            )

    asyncio.run(main())
    assert Counter(n for n, _ in ran) == Counter(range(batch))  # each job once, none lost
    assert {worker for _, worker in ran} == {"first", "second"}
    with clean_engine(database_url) as connection:
        statuses = connection.execute(
            text(
                "SELECT status, count(*) FROM procrastinate_jobs WHERE queue_name = :q "
                "GROUP BY status"
            ),
            {"q": queue},
        ).all()
    assert dict(statuses) == {"succeeded": batch}


@pytest.mark.postgres
def test_a_periodic_job_is_deferred_once_however_many_workers_defer_it(database_url, clock):
    if not is_postgresql(database_url):
        pytest.skip("periodic defers shared by workers need PostgreSQL")
    from procrastinate.periodic import PeriodicDeferrer

    name = f"tick-{uuid.uuid4().hex[:8]}"
    definition = JobDefinition(name, "a test tick", lambda now: "tick", cron="* * * * *")
    apps = [make_job_app(database_url, [definition], clock=clock) for _ in range(3)]
    at = time.time()

    async def main():
        for engine in apps:
            await engine.open_async()
        try:
            for engine in apps:
                deferrer = PeriodicDeferrer(registry=engine.periodic_registry)
                await deferrer.defer_jobs(deferrer.get_previous_tasks(at=at))
        finally:
            for engine in apps:
                await engine.close_async()

    asyncio.run(main())
    with clean_engine(database_url) as connection:
        deferred = connection.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :name"),
            {"name": name},
        ).scalar_one()
    assert deferred == 1


@pytest.mark.postgres
def test_the_job_schema_is_brought_up_from_the_version_it_records(database_url):
    if not is_postgresql(database_url):
        pytest.skip("only PostgreSQL has a job schema")
    with clean_engine(database_url) as connection:
        connection.execute(text("COMMENT ON TABLE procrastinate_jobs IS 'procrastinate 3.4.0'"))
        connection.commit()
    # No migration of procrastinate's came after 3.4.0 up to this version: nothing to apply.
    assert apply_job_schema(database_url) == "upgraded from 3.4.0"
    assert apply_job_schema(database_url) == "up to date"
    with clean_engine(database_url) as connection:
        connection.execute(text("COMMENT ON TABLE procrastinate_jobs IS NULL"))
        connection.commit()
    assert apply_job_schema(database_url) == "up to date"  # applied by hand: taken as current
    assert apply_job_schema(database_url) == "up to date"


@contextlib.contextmanager
def clean_engine(database_url):
    """A connection of its own to the test database, closed after the block."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def test_jobs_run_autopay_charges_what_is_due_as_of_the_given_day(jobs_app, core):
    from tests.integration.test_autopay import enrolled

    enrolled(core)
    runner = jobs_app.test_cli_runner()
    # The first amount was announced with the enrollment; the charge waits for its due date.
    result = runner.invoke(args=["jobs", "run", "autopay", "--as-of", "2026-12-21T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "autopay: charged: 0," in result.output and "amount notices: 0," in result.output
    result = runner.invoke(args=["jobs", "run", "autopay", "--as-of", "2026-12-30T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "autopay: charged: 0" in result.output
    result = runner.invoke(args=["jobs", "run", "autopay", "--as-of", "2026-12-31T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "autopay: charged: 1," in result.output
    result = runner.invoke(args=["jobs", "run", "autopay", "--as-of", "2026-12-31T12:00:00Z"])
    assert "autopay: charged: 0," in result.output


# --- the autopay run, split in batch jobs -----------------------------------------------

DUE = datetime(2026, 12, 31, 12, tzinfo=UTC)


def batch_jobs(engine) -> list[dict]:
    return [job for job in engine.connector.jobs.values() if job["task_name"] == "autopay-batch"]


def test_the_autopay_job_defers_one_job_per_batch_and_none_again_while_they_wait(
    jobs_app, core, clock
):
    from billing_core.adapters.models import SandboxCharge
    from tests.integration.test_autopay import count, enrolled

    billing = jobs_app.extensions["billing"]
    billing.autopay_batch_size, billing.autopay_notice_days = 2, 0
    members = [enrolled(core) for _ in range(5)]
    clock.set(DUE)
    engine = jobs_app.extensions["jobs"].app
    split = engine.tasks["autopay"]

    async def split_twice() -> list[str]:
        async with engine.open_async():
            return [await split(), await split()]

    first, second = asyncio.run(split_twice())
    batches = {m // 2 for m in members}
    assert first == f"deferred {len(batches)} batch job(s) of autopay, 0 already queued"
    assert second == f"deferred 0 batch job(s) of autopay, {len(batches)} already queued"
    assert len(batch_jobs(engine)) == len(batches)
    assert {job["args"]["as_of"] for job in batch_jobs(engine)} == {DUE.isoformat()}
    engine.run_worker(
        wait=False, install_signal_handlers=False, listen_notify=False, delete_jobs="never"
    )
    assert {job["status"] for job in batch_jobs(engine)} == {"succeeded"}
    assert count(core, SandboxCharge) == len(members)
    # The run made again the same day (the batches are done): its batches charge nothing.
    run_as_jobs(jobs_app, "autopay")
    assert len(batch_jobs(engine)) == 2 * len(batches)
    assert count(core, SandboxCharge) == len(members)


def test_jobs_run_autopay_runs_every_batch_here_and_prints_one_report(jobs_app, core):
    from tests.integration.test_autopay import enrolled

    billing = jobs_app.extensions["billing"]
    billing.autopay_batch_size, billing.autopay_notice_days = 2, 0
    for _ in range(5):
        enrolled(core)
    runner = jobs_app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "autopay", "--as-of", "2026-12-31T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("autopay: charged: 5,")
    assert "nothing due: 0," in result.output
    assert batch_jobs(jobs_app.extensions["jobs"].app) == []  # inline: no job deferred


@pytest.mark.postgres
def test_two_workers_splitting_at_once_charge_each_member_month_once(database_url, core):
    if not is_postgresql(database_url):
        pytest.skip("workers sharing the batches need PostgreSQL")
    from billing_core.adapters.models import SandboxCharge
    from billing_core.services.tasks import AUTOPAY, FixedClock, billing_tasks
    from tests.integration.test_autopay import count, enrolled

    core.autopay_batch_size, core.autopay_notice_days = 3, 0
    members = [enrolled(core) for _ in range(30)]
    [autopay] = [d for d in billing_tasks(core, {}) if d.name == AUTOPAY]
    ran: list[int] = []

    def on_host(n: int):
        """The autopay task as host n runs it: its batches say they ran there."""

        def run(now, key):
            ran.append(n)
            return autopay.batches.run(now, key)

        return dataclasses.replace(autopay, batches=dataclasses.replace(autopay.batches, run=run))

    apps = [make_job_app(database_url, [on_host(n)], clock=FixedClock(DUE)) for n in range(2)]
    options = {
        "queues": ["default"],
        "wait": False,
        "concurrency": 2,
        "install_signal_handlers": False,
        "listen_notify": False,
        "delete_jobs": "never",
    }

    async def main() -> list[str]:
        for engine in apps:
            await engine.open_async()
        try:
            # Both hosts split the run at once, then both work through the batches.
            splits = await asyncio.gather(*(engine.tasks[AUTOPAY]() for engine in apps))
            await asyncio.gather(
                *(engine.run_worker_async(name=f"w{n}", **options) for n, engine in enumerate(apps))
            )
            return splits
        finally:
            for engine in apps:
                await engine.close_async()

    splits = asyncio.run(main())
    batches = len({m // 3 for m in members})
    assert sum(int(line.split()[1]) for line in splits) == batches  # each deferred once
    with clean_engine(database_url) as connection:
        done = connection.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'autopay-batch' AND status = 'succeeded' "
                "AND queueing_lock LIKE 'autopay-batch:2026-12-31:%'"
            )
        ).scalar_one()
    assert done == batches == len(ran) and set(ran) == {0, 1}  # both hosts took batches
    assert count(core, SandboxCharge) == len(members)
    # The split made again: every batch runs again and charges nothing more.
    asyncio.run(main())
    assert count(core, SandboxCharge) == len(members)
