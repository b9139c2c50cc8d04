"""Capacity: server CPU per webhook with the server saturated, the app next to a stateful floor.

The app (`wsgi:app`) and the floor (bench/floor_app.py: signature check, one Core read and
one upsert of a state row, a fixed <Gather>) run on each database, SQLite and PostgreSQL,
under the same gunicorn, same workers, on this machine, and take turns under the same load:
CLIENTS calls at once, back to back, no pauses. The bare baseline (bench/baseline_app.py:
the signature check alone) runs too, for scale. The calls are a realistic mix recorded from
the virtual Twilio (bench/_calls.py): identify and hear the balances; identify and pay the
bill offered first with a new card through the sandbox gateway; mistype the birth date
once, then hear the recent payments. Each replayed call has its own CallSid, calling number
and member and is signed as Twilio signs it; every answer of the app is checked against the
recording. CPU is read from the gunicorn workers' (and PostgreSQL backends') own counters,
so the load generator's cost does not count. Target: the app's server CPU per
webhook at most twice the floor's, on each database.

`python -m bench.capacity [--workers 4] [--worker-class sync] [--clients 16] [--window 8]`
"""

from __future__ import annotations

import argparse
import statistics
from contextlib import ExitStack

from bench._calls import cycle, describe_mix, prepare_calls, record_templates
from bench._load import Saturation, saturate
from bench._support import (
    AUTH_TOKEN,
    IDENTITY_KEY,
    PUBLIC_BASE_URL,
    ServerConfig,
    add_members,
    bench_engine,
    create_floor_table,
    database_backend_pids,
    gunicorn,
    postgres_available,
    scratch_database,
)

TARGET_CPU_RATIO = 2.0
COLUMNS = {
    "baseline": "baseline",
    "floor-sqlite": "floor SQLite",
    "sqlite": "app SQLite",
    "floor-postgresql": "floor PG",
    "postgresql": "app PG",
}


def _database_pids(url: str):
    return lambda: database_backend_pids(url)


def run(args: argparse.Namespace) -> tuple[dict[str, list[Saturation]], str, ServerConfig]:
    config = ServerConfig(args.workers, args.worker_class, args.threads)
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    templates = record_templates()
    # The same calls serve both databases (each has the same members); the baseline keeps
    # no state, so it replays a short list over and over.
    calls = prepare_calls(templates, 1, args.calls)
    env = {
        "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "IVR_IDENTITY_KEY": IDENTITY_KEY,
    }
    results: dict[str, list[Saturation]] = {}
    with ExitStack() as stack:
        urls = {backend: stack.enter_context(scratch_database(backend)) for backend in backends}
        for url in urls.values():
            engine = bench_engine(url)
            add_members(engine, 1, args.calls)
            engine.dispose()
            create_floor_table(url)
        servers = {"baseline": stack.enter_context(gunicorn("bench.baseline_app:app", env, config))}
        for backend, url in urls.items():
            with_db = {**env, "DATABASE_URL": url}
            servers[f"floor-{backend}"] = stack.enter_context(
                gunicorn("bench.floor_app:app", with_db, config)
            )
            servers[backend] = stack.enter_context(gunicorn("wsgi:app", with_db, config))
        sources = {backend: iter(calls) for backend in backends}
        results = {name: [] for name in servers}
        for _round in range(args.rounds):
            for name, server in servers.items():
                app = name in sources
                database = name.removeprefix("floor-")
                results[name].append(
                    saturate(
                        server,
                        sources[name] if app else cycle(calls[:100]),
                        clients=args.clients,
                        warmup=args.warmup,
                        window=args.window,
                        check=app,
                        database_pids=(
                            _database_pids(urls[database]) if database == "postgresql" else None
                        ),
                    )
                )
    return results, describe_mix(templates), config


def _mean(rounds: list[Saturation], value) -> float:
    return statistics.fmean(value(r) for r in rounds)


def _cpu_ms(rounds: list[Saturation], attribute: str) -> float:
    requests = sum(r.requests for r in rounds)
    return sum(getattr(r, attribute) for r in rounds) / requests * 1000 if requests else 0.0


def _server_cpu_ms(rounds: list[Saturation]) -> float:
    """Server CPU per webhook: the gunicorn workers' and the database backends' serving them."""
    return _cpu_ms(rounds, "server_cpu") + _cpu_ms(rounds, "database_cpu")


def report(results: dict[str, list[Saturation]], mix: str, config: ServerConfig, args) -> None:
    names = list(results)
    cores = results["baseline"][0].machine.cores
    print("Capacity: server CPU per webhook with the server saturated, the app next to its floor")
    print(
        f"({config.describe()}; {args.clients} calls at once, back to back, no pauses; "
        f"{args.rounds} rounds of {args.warmup:g} s warm-up + {args.window:g} s measured"
    )
    print(
        " per server, servers taking turns; floor: signature check + one Core read and one"
        " upsert of a state row + a fixed <Gather>; baseline: the signature check alone)"
    )
    print(f"Calls replayed: {mix}")
    print(f"{'':<40}" + "".join(f"{COLUMNS[name]:>14}" for name in names) + f"{'target':>10}")

    def row(label: str, cells: list[str], target: str = "") -> None:
        print(f"{label:<40}" + "".join(f"{cell:>14}" for cell in cells) + f"{target:>10}")

    def floor_of(name: str) -> str | None:
        return f"floor-{name}" if name in ("sqlite", "postgresql") else None

    row(
        "webhooks/s (mean of rounds)", [f"{_mean(results[n], lambda r: r.rate):.1f}" for n in names]
    )
    row("  each round", [" / ".join(f"{r.rate:.0f}" for r in results[n]) for n in names])
    row("server CPU ms per webhook", [f"{_server_cpu_ms(results[n]):.2f}" for n in names])
    row("  gunicorn workers", [f"{_cpu_ms(results[n], 'server_cpu'):.2f}" for n in names])
    row(
        "  PostgreSQL backends",
        [
            "-" if "postgresql" not in n else f"{_cpu_ms(results[n], 'database_cpu'):.2f}"
            for n in names
        ],
    )
    row(
        "app / floor, server CPU per webhook",
        [
            f"{_server_cpu_ms(results[n]) / _server_cpu_ms(results[f]):.2f}"
            if (f := floor_of(n)) in results
            else "-"
            for n in names
        ],
        f"<= {TARGET_CPU_RATIO:.1f}",
    )
    row(
        "load generator CPU ms per webhook",
        [f"{_cpu_ms(results[n], 'client_cpu'):.2f}" for n in names],
    )
    row(
        f"cores busy, of {cores}",
        [f"{_mean(results[n], lambda r: r.machine.busy):.2f}" for n in names],
    )
    row(
        "  of which other processes' (not bench)",
        [f"{_mean(results[n], lambda r: r.machine.others):.2f}" for n in names],
    )
    row(
        "answers off the recorded path",
        [
            str(sum(r.problems for r in results[n])) if n in COLUMNS and floor_of(n) else "-"
            for n in names
        ],
    )
    row(
        "  of which refused (stale prompt token)",
        [str(sum(r.refused for r in results[n])) if floor_of(n) else "-" for n in names],
    )
    for name in names:
        examples = [e for r in results[name] for e in r.examples]
        if examples:
            print(f"{COLUMNS[name]}: e.g. {'; '.join(examples[:3])}")
        if any(r.exhausted for r in results[name]):
            print(f"{COLUMNS[name]}: ran out of prepared calls; raise --calls (rate is a floor)")
    if "postgresql" not in results:
        print("PostgreSQL: n/a (server not reachable)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--clients", type=int, default=16, help="calls played at once")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not counted")
    parser.add_argument("--window", type=float, default=8.0, help="seconds measured")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=1500, help="prepared calls (members)")
    args = parser.parse_args(argv)
    results, mix, config = run(args)
    report(results, mix, config, args)


if __name__ == "__main__":
    main()
