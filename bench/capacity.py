"""Capacity: webhooks per second with the server saturated, next to a bare Flask baseline.

The app (`wsgi:app`, on SQLite and on PostgreSQL) and the baseline (bench/baseline_app.py:
signature check, fixed <Gather>) run under the same gunicorn, same workers, on this machine,
and take turns under the same load: CLIENTS calls at once, back to back, no pauses. The calls
are a realistic mix recorded from the virtual Twilio (bench/_calls.py): identify and hear the
balances; identify and pay the bill in full with a new card through the sandbox gateway;
mistype the birth date once, then hear the recent payments. Each replayed call has its own
CallSid, calling number and member and is signed as Twilio signs it; every answer of the app
is checked against the recording. Target (DESIGN §7): the app reaches at least half the
baseline's rate.

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
    database_backend_pids,
    gunicorn,
    postgres_available,
    scratch_database,
)

TARGET_RATIO = 0.5
BACKEND_NAMES = {"sqlite": "app SQLite", "postgresql": "app PostgreSQL"}


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
        servers = {"baseline": stack.enter_context(gunicorn("bench.baseline_app:app", env, config))}
        for backend, url in urls.items():
            servers[backend] = stack.enter_context(
                gunicorn("wsgi:app", {**env, "DATABASE_URL": url}, config)
            )
        sources = {backend: iter(calls) for backend in backends}
        results = {name: [] for name in servers}
        for _round in range(args.rounds):
            for name, server in servers.items():
                baseline = name == "baseline"
                results[name].append(
                    saturate(
                        server,
                        cycle(calls[:100]) if baseline else sources[name],
                        clients=args.clients,
                        warmup=args.warmup,
                        window=args.window,
                        check=not baseline,
                        database_pids=_database_pids(urls[name]) if name == "postgresql" else None,
                    )
                )
    return results, describe_mix(templates), config


def _mean(rounds: list[Saturation], value) -> float:
    return statistics.fmean(value(r) for r in rounds)


def _cpu_ms(rounds: list[Saturation], attribute: str) -> float:
    requests = sum(r.requests for r in rounds)
    return sum(getattr(r, attribute) for r in rounds) / requests * 1000 if requests else 0.0


def report(results: dict[str, list[Saturation]], mix: str, config: ServerConfig, args) -> None:
    names = list(results)
    base = _mean(results["baseline"], lambda r: r.rate)
    base_cpu = _cpu_ms(results["baseline"], "server_cpu")
    cores = results["baseline"][0].machine.cores
    print("Capacity: webhooks per second with the server saturated, app next to a bare baseline")
    print(
        f"({config.describe()}; {args.clients} calls at once, back to back, no pauses; "
        f"{args.rounds} rounds of {args.warmup:g} s warm-up + {args.window:g} s measured"
    )
    print(" per server, servers taking turns; baseline: signature check + a fixed <Gather>)")
    print(f"Calls replayed: {mix}")
    columns = {"baseline": "baseline", **BACKEND_NAMES}
    print(f"{'':<40}" + "".join(f"{columns[name]:>16}" for name in names) + f"{'target':>10}")

    def row(label: str, cells: list[str], target: str = "") -> None:
        print(f"{label:<40}" + "".join(f"{cell:>16}" for cell in cells) + f"{target:>10}")

    row(
        "webhooks/s (mean of rounds)", [f"{_mean(results[n], lambda r: r.rate):.1f}" for n in names]
    )
    row(
        "  each round",
        [" / ".join(f"{r.rate:.0f}" for r in results[n]) for n in names],
    )
    row(
        "app / baseline",
        ["-"] + [f"{_mean(results[n], lambda r: r.rate) / base:.2f}" for n in names[1:]],
        f">= {TARGET_RATIO:.2f}",
    )
    row(
        "CPU ms per webhook: gunicorn workers",
        [f"{_cpu_ms(results[n], 'server_cpu'):.2f}" for n in names],
    )
    row(
        "                    PostgreSQL backends",
        ["-" if n != "postgresql" else f"{_cpu_ms(results[n], 'database_cpu'):.2f}" for n in names],
    )
    row(
        "                    load generator",
        [f"{_cpu_ms(results[n], 'client_cpu'):.2f}" for n in names],
    )
    app_cpu = {
        n: _cpu_ms(results[n], "server_cpu") + _cpu_ms(results[n], "database_cpu") for n in names
    }
    row(
        "app / baseline by server CPU per webhook",
        ["-"] + [f"{base_cpu / app_cpu[n]:.2f}" for n in names[1:]],
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
        ["-" if n == "baseline" else str(sum(r.problems for r in results[n])) for n in names],
    )
    row(
        "  of which refused (stale prompt token)",
        ["-" if n == "baseline" else str(sum(r.refused for r in results[n])) for n in names],
    )
    for name in names:
        examples = [e for r in results[name] for e in r.examples]
        if examples:
            print(f"{columns[name]}: e.g. {'; '.join(examples[:3])}")
        if any(r.exhausted for r in results[name]):
            print(f"{columns[name]}: ran out of prepared calls; raise --calls (rate is a floor)")
    if "postgresql" not in results:
        print("app PostgreSQL: n/a (server not reachable)")


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
