"""Member lookup and balance reads at 1,000 and at 1,000,000 members: the same cost?

Two databases per backend, one with 1,000 members and one with 1,000,000, each member with
a medical bill and a premium invoice (so 3 million rows in the large one), written straight
into the tables with the app's keyed digests (billing_core.domain.identity). Then N rounds through
the billing core, alternating between the two databases so both see the same background
load: BillingCore.identify (MRN digest and birth date of a random member, as the keypad
step does; a write transaction: lock-out guards and an audit row) and
BillingCore.account_summary (bills and premiums, plus an audit row).
Target (DESIGN §7): the same cost at both sizes, a ratio of about 1.

`python -m bench.lookup_scaling [--large N] [--postgres-large N] [--calls N]`
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bench._support import (
    IDENTITY_KEY,
    ROOT,
    CpuSnapshot,
    CpuUse,
    add_members,
    bench_engine,
    database_backend_pids,
    member_birth,
    member_digests,
    member_mrn,
    postgres_available,
    scratch_database,
)
from billing_core.adapters.models import Member
from billing_core.adapters.regions_file import load_regions
from billing_core.core import BillingCore
from billing_core.domain.clock import SystemClock
from billing_core.domain.identity import IdentityHasher

SMALL = 1_000
TARGET_RATIO = 1.0
CHUNK = 100_000


CALLS = (
    ("identify", "BillingCore.identify"),
    ("summary", "BillingCore.account_summary"),
    ("reads", "their reads alone"),
)


@dataclass
class Timings:
    identify: list[float] = field(default_factory=list)
    summary: list[float] = field(default_factory=list)
    reads: list[float] = field(default_factory=list)


def digests_for(count: int) -> list[tuple[str, str]]:
    """The digests of members 0 .. count-1, hashed on every core."""
    chunks = [(start, min(CHUNK, count - start)) for start in range(0, count, CHUNK)]
    with ProcessPoolExecutor() as pool:
        parts = pool.map(member_digests, *zip(*chunks, strict=True))
        return [pair for part in parts for pair in part]


def _core(engine) -> BillingCore:
    return BillingCore(
        engine=engine,
        hasher=IdentityHasher(IDENTITY_KEY),
        regions=load_regions(ROOT / "ivr" / "regions.yaml"),
        clock=SystemClock(),
    )


def _one(core: BillingCore, index: int, caller: str) -> tuple[float, float, float]:
    """Time identify, account_summary, and the same reads without the writes around them."""
    mrn_digest = core.mrn_digest(member_mrn(index))
    birth = member_birth(index)
    started = time.perf_counter()
    member = core.identify(mrn_digest=mrn_digest, birth_date=birth, caller=caller, channel="bench")
    identified = time.perf_counter()
    core.account_summary(member.member_id, channel="bench")
    summarized = time.perf_counter()
    if member.member_id != index + 1:
        raise RuntimeError(f"member {index} identified as id {member.member_id}")
    # The part that depends on the number of members: the member by MRN digest, then the
    # member with bills and premiums by id; no lock-out guards, audit rows or commit.
    with core.session_factory() as session:
        reads_started = time.perf_counter()
        found = session.scalars(select(Member).where(Member.mrn_digest == mrn_digest)).one()
        session.expunge_all()
        session.scalars(
            select(Member)
            .where(Member.id == found.id)
            .options(selectinload(Member.bills), selectinload(Member.premiums))
        ).one()
        reads = time.perf_counter() - reads_started
        session.rollback()
    return identified - started, summarized - identified, reads


WARM_UP = 50


def measure(
    cores: dict[int, BillingCore],
    calls: int,
    watched: Callable[[], list[int]] = list,
    seed: int = 5,
) -> tuple[dict[int, Timings], CpuUse]:
    """Alternate calls between the databases; a few unmeasured ones warm each up first.

    Also return how busy the machine was while the calls were timed (`watched`: the
    database server processes serving them, counted apart from other processes).
    """
    rng = random.Random(seed)
    timings = {size: Timings() for size in cores}
    before = pids = None
    for round_number in range(calls + WARM_UP):
        if round_number == WARM_UP:
            pids = watched()
            before = CpuSnapshot.take(pids)
        for size, core in cores.items():
            caller = f"+1415{rng.randrange(2_000_000, 9_999_999):07d}"
            identify, summary, reads = _one(core, rng.randrange(size), caller)
            if round_number >= WARM_UP:
                timings[size].identify.append(identify)
                timings[size].summary.append(summary)
                timings[size].reads.append(reads)
    return timings, CpuUse.between(before, CpuSnapshot.take(pids))


def run_backend(
    backend: str, large: int, digests: list[tuple[str, str]], calls: int
) -> tuple[dict[int, Timings], float, CpuUse]:
    """Return the timings at SMALL and `large` members, the seconds the load took, CPU use."""
    with scratch_database(backend) as small_url, scratch_database(backend) as large_url:
        small_engine, large_engine = bench_engine(small_url), bench_engine(large_url)

        def watched() -> list[int]:
            if backend != "postgresql":
                return []
            return database_backend_pids(small_url) + database_backend_pids(large_url)

        try:
            add_members(small_engine, 0, SMALL, digests=digests[:SMALL])
            started = time.perf_counter()
            add_members(large_engine, 0, large, digests=digests[:large])
            loaded = time.perf_counter() - started
            timings, cpu = measure(
                {SMALL: _core(small_engine), large: _core(large_engine)}, calls, watched
            )
        finally:
            small_engine.dispose()
            large_engine.dispose()
    return timings, loaded, cpu


def _us(values: list[float]) -> float:
    return statistics.median(values) * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--large", type=int, default=1_000_000, help="members, SQLite")
    parser.add_argument(
        "--postgres-large", type=int, default=None, help="members, PostgreSQL (default: --large)"
    )
    parser.add_argument("--calls", type=int, default=600, help="calls timed at each size")
    args = parser.parse_args(argv)
    sizes = {"sqlite": args.large, "postgresql": args.postgres_large or args.large}
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])

    started = time.perf_counter()
    digests = digests_for(max(sizes[b] for b in backends))
    hashed = time.perf_counter() - started
    results = {}
    for backend in backends:
        results[backend] = run_backend(backend, sizes[backend], digests, args.calls)

    print("Member lookup and balance reads: time per call at 1,000 members and at a large size")
    print(
        f"(median of {args.calls} calls at each size, alternating between the two databases; "
        "random members, each with a bill and a premium)"
    )
    print(
        f"{'backend':<12}{'call':<30}{'1,000':>10}{'large':>10}{'members':>11}"
        f"{'ratio':>8}{'target':>8}"
    )
    for backend, (timings, _loaded, _cpu) in results.items():
        large = sizes[backend]
        name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
        for attribute, label in CALLS:
            small_us = _us(getattr(timings[SMALL], attribute))
            large_us = _us(getattr(timings[large], attribute))
            print(
                f"{name:<12}{label:<30}{small_us:>8.0f}µs{large_us:>8.0f}µs{large:>11,}"
                f"{large_us / small_us:>8.2f}{TARGET_RATIO:>8.1f}"
            )
    print("(their reads alone: the member by MRN digest, then with bills and premiums by id;")
    print(" no lock-out guards, audit rows or commit: the part a bigger table could slow)")
    for backend, (timings, loaded, cpu) in results.items():
        large = sizes[backend]
        means = ", ".join(
            f"{attribute} {statistics.fmean(getattr(timings[SMALL], attribute)) * 1e6:.0f}"
            f"/{statistics.fmean(getattr(timings[large], attribute)) * 1e6:.0f}µs"
            for attribute, _label in CALLS
        )
        print(f"{backend}: {large:,} members loaded in {loaded:.1f}s; mean at 1,000/large: {means}")
        print(
            f"{backend}: while timed, {cpu.busy:.2f} of {cpu.cores} cores busy: this benchmark "
            f"{cpu.own:.2f}, its database server processes {cpu.watched:.2f}, "
            f"other processes {cpu.others:.2f}"
        )
    print(f"digests of {max(sizes[b] for b in backends):,} members computed in {hashed:.1f}s")
    if "postgresql" not in results:
        print("PostgreSQL: n/a (server not reachable)")


if __name__ == "__main__":
    main()
