"""The autopay run at scale: 100,000 members due on one day, one worker and four, side by side.

For each side a fresh PostgreSQL database gets the members (bench/_support.add_members: one
premium each, $412.00, due on the same day in Northern California), each with a saved card
of the sandbox gateway that succeeds, an autopay enrollment accepted weeks before, and the
notice of the first amount queued eleven days before the due date (what the daily run's
look-ahead leaves), all written with COPY. Then the `autopay` task runs as in production:
its job defers one job per batch of member ids (IVR_AUTOPAY_BATCH_SIZE), and N worker
processes (procrastinate on PostgreSQL, the sandbox gateway on the same database) take the
batches until none is left. Printed: load time, charges per second (from the workers'
start to the last one's exit), duplicates (member-months with more than one successful
payment or more than one gateway charge: must be 0), and what the run made again the same
day charged (must be 0).

Needs PostgreSQL (IVR_BENCH_POSTGRES_URL or IVR_TEST_POSTGRES_URL, else the local server);
skipped with a message without it.

`python -m bench.autopay_run [--members 100000] [--workers 4] [--batch 500]`
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import Engine, func, select

from bench._support import (
    IDENTITY_KEY,
    POSTGRES_SERVER_URL,
    PREMIUM_CENTS,
    ROOT,
    _layout,
    add_members,
    bench_engine,
    postgres_available,
    scratch_database,
)
from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.jobs import JobDefinition, make_job_app
from billing_core.adapters.models import (
    AutopayEnrollment,
    OutboxMessage,
    OutboxStatus,
    Payment,
    SandboxCharge,
    SavedPaymentMethod,
)
from billing_core.adapters.regions_file import load_regions
from billing_core.core import BillingCore
from billing_core.domain.identity import IdentityHasher
from billing_core.domain.payments import PaymentStatus
from billing_core.services.tasks import AUTOPAY, FixedClock, billing_tasks

# The members are loaded as of this moment: their premium is for the following month.
LOADED_AT = datetime(2026, 11, 2, 17, tzinfo=UTC)
REGION, STATE = "ncal", "CA"
CHUNK = 50_000


@dataclass
class Side:
    workers: int
    members: int
    load_seconds: float = 0.0
    split_seconds: float = 0.0
    run_seconds: float = 0.0
    charged: int = 0
    duplicates: int = 0
    again_seconds: float = 0.0
    again_charged: int = 0
    split_line: str = ""

    @property
    def per_second(self) -> float:
        return self.charged / self.run_seconds if self.run_seconds else 0.0


def due_moment() -> tuple[date, datetime]:
    """The premium month's due date in the region, and noon UTC that day (the task's time)."""
    month = (LOADED_AT.replace(day=1) + timedelta(days=32)).replace(day=1).date()
    region = load_regions(ROOT / "ivr" / "regions.yaml").get(REGION)
    due = region.premium_due.due_date(month, STATE)
    return month, datetime.combine(due, clock_time(12), tzinfo=UTC)


def load(engine: Engine, count: int) -> float:
    """Write the members, their cards, enrollments and first-amount notices; seconds taken."""
    started = time.perf_counter()
    add_members(engine, 0, count, now=LOADED_AT)
    month, as_of = due_moment()
    noticed = as_of - timedelta(days=11)
    token = fixed_token("success", "4242")
    dialect = engine.dialect
    tables = [
        (
            SavedPaymentMethod.__table__,
            ("id", "member_id"),
            {
                "kind": "card",
                "token": token,
                "brand": "visa",
                "last4": "4242",
                "exp_month": 12,
                "exp_year": 2030,
                "created_at": LOADED_AT,
            },
            lambda key: f"{key}\t{key}",
        ),
        (
            AutopayEnrollment.__table__,
            ("id", "member_id", "saved_method_id"),
            {
                "accepted_at": LOADED_AT,
                "method_kind": "card",
                "method_brand": "visa",
                "method_last4": "4242",
                "channel": "phone",
                "wording_version": "autopay-v1",
                "authorization_text": "I authorize the plan to charge my card each month.",
                "created_at": LOADED_AT,
                "updated_at": LOADED_AT,
            },
            lambda key: f"{key}\t{key}\t{key}",
        ),
        (
            OutboxMessage.__table__,
            ("id", "dedupe_key"),
            {
                "kind": "sms",
                "recipient": "+14155550123",
                "body": "Your premium will be paid automatically.",
                "status": OutboxStatus.SENT,
                "attempts": 1,
                "next_attempt_at": noticed,
                "created_at": noticed,
                "sent_at": noticed,
            },
            lambda key: f"{key}\tautopay-amount:{key}:{month:%Y-%m}:{PREMIUM_CENTS}:sms",
        ),
    ]
    import psycopg

    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        for table, varying, same, head in tables:
            name, columns, tail = _layout(table, varying, same, dialect)
            end = "\t" + "\t".join("\\N" if v is None else str(v) for v in tail) + "\n"
            for first in range(1, count + 1, CHUNK):
                last = min(first + CHUNK, count + 1)
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    copy.write("".join(f"{head(key)}{end}" for key in range(first, last)))
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT max(id) FROM {name}))"
            )
        connection.commit()
        connection.autocommit = True
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def autopay_task(url: str, batch: int, as_of: datetime) -> JobDefinition:
    core = BillingCore(
        engine=bench_engine(url),
        hasher=IdentityHasher(IDENTITY_KEY),
        regions=load_regions(ROOT / "ivr" / "regions.yaml"),
        clock=FixedClock(as_of),
        autopay_batch_size=batch,
    )
    [task] = [d for d in billing_tasks(core, {}) if d.name == AUTOPAY]
    return task


def split(url: str, batch: int, as_of: datetime) -> str:
    """Run the task's own job here: it defers the batch jobs."""
    app = make_job_app(url, [autopay_task(url, batch, as_of)], clock=FixedClock(as_of))

    async def main() -> str:
        async with app.open_async():
            return await app.tasks[AUTOPAY]()

    return asyncio.run(main())


def work(url: str, batch: int, as_of: datetime, name: str, start) -> None:
    """One worker process: take batch jobs until none is left."""
    logging.basicConfig(level=logging.WARNING)
    app = make_job_app(url, [autopay_task(url, batch, as_of)], clock=FixedClock(as_of))

    async def main() -> None:
        async with app.open_async():
            start.wait()
            await app.run_worker_async(
                name=name,
                queues=["default"],
                wait=False,
                concurrency=1,
                install_signal_handlers=False,
                listen_notify=False,
                delete_jobs="successful",
            )

    asyncio.run(main())


def run_workers(url: str, batch: int, as_of: datetime, workers: int) -> float:
    """Start the worker processes, let them go at once; seconds until the last one exits."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers + 1)
    processes = [
        context.Process(target=work, args=(url, batch, as_of, f"bench-{n}", start))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    for process in processes:
        process.join()
    seconds = time.perf_counter() - began
    failed = [process.exitcode for process in processes if process.exitcode]
    if failed:
        raise RuntimeError(f"a worker exited with {failed}")
    return seconds


def counts(engine: Engine) -> tuple[int, int]:
    """(successful autopay payments, duplicates): member-months paid or charged twice."""
    member = func.split_part(SandboxCharge.idempotency_key, ":", 2)
    month = func.split_part(SandboxCharge.idempotency_key, ":", 3)
    with engine.connect() as connection:
        charged = connection.scalar(
            select(func.count())
            .select_from(Payment)
            .where(Payment.channel == "autopay", Payment.status == PaymentStatus.SUCCEEDED)
        )
        paid_twice = connection.scalar(
            select(func.count()).select_from(
                select(Payment.member_id)
                .where(Payment.channel == "autopay", Payment.status == PaymentStatus.SUCCEEDED)
                .group_by(Payment.member_id, func.split_part(Payment.idempotency_key, ":", 3))
                .having(func.count() > 1)
                .subquery()
            )
        )
        charged_twice = connection.scalar(
            select(func.count()).select_from(
                select(member)
                .where(SandboxCharge.idempotency_key.startswith("autopay:"))
                .group_by(member, month)
                .having(func.count() > 1)
                .subquery()
            )
        )
    return charged or 0, (paid_twice or 0) + (charged_twice or 0)


def run_side(workers: int, members: int, batch: int) -> Side:
    side = Side(workers, members)
    _month, as_of = due_moment()
    with scratch_database("postgresql") as url:
        engine = bench_engine(url)
        try:
            side.load_seconds = load(engine, members)
            began = time.perf_counter()
            side.split_line = split(url, batch, as_of)
            side.split_seconds = time.perf_counter() - began
            side.run_seconds = run_workers(url, batch, as_of, workers)
            side.charged, side.duplicates = counts(engine)
            # The run made again the same day: every batch again, nothing left to charge.
            split(url, batch, as_of)
            side.again_seconds = run_workers(url, batch, as_of, workers)
            after, duplicates = counts(engine)
            side.again_charged = after - side.charged
            side.duplicates = max(side.duplicates, duplicates)
        finally:
            engine.dispose()
    return side


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=100_000, help="members due on the day")
    parser.add_argument("--workers", type=int, default=4, help="worker processes, scaled side")
    parser.add_argument("--batch", type=int, default=500, help="member ids per batch job")
    args = parser.parse_args(argv)
    if not postgres_available():
        print(
            f"autopay_run: skipped: PostgreSQL is not reachable at {POSTGRES_SERVER_URL} "
            "(set IVR_BENCH_POSTGRES_URL); the run at scale needs its job tables"
        )
        return
    _month, as_of = due_moment()
    sides = [run_side(count, args.members, args.batch) for count in (1, args.workers)]
    print(
        f"Autopay run: {args.members:,} members due {as_of:%Y-%m-%d}, batches of "
        f"{args.batch} member ids, procrastinate on PostgreSQL, sandbox gateway"
    )
    print(f"({sides[0].split_line})")
    rows = [
        ("workers", lambda s: f"{s.workers}"),
        ("load (s)", lambda s: f"{s.load_seconds:.1f}"),
        ("split (s)", lambda s: f"{s.split_seconds:.1f}"),
        ("run (s)", lambda s: f"{s.run_seconds:.1f}"),
        ("charged", lambda s: f"{s.charged:,}"),
        ("charges per second", lambda s: f"{s.per_second:.0f}"),
        ("duplicates (must be 0)", lambda s: f"{s.duplicates}"),
        ("second run (s)", lambda s: f"{s.again_seconds:.1f}"),
        ("second run charged (must be 0)", lambda s: f"{s.again_charged}"),
    ]
    print(f"{'':<32}{'baseline':>12}{'scaled':>12}")
    for label, value in rows:
        print(f"{label:<32}{value(sides[0]):>12}{value(sides[1]):>12}")
    speedup = sides[1].per_second / sides[0].per_second if sides[0].per_second else 0.0
    print(f"{'speed-up':<32}{'':>12}{speedup:>11.2f}x")


if __name__ == "__main__":
    main()
