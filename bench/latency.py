"""Latency: server time per webhook for 50 concurrent calls whose callers take their time.

The app runs under gunicorn wrapped in bench/timed_app.py, which adds X-Server-Time-Us to
every answer: the app's own time for the request (gunicorn's accept, parse and write are
left out; the client's round trip, which includes them and any queueing, is shown too).
CALLERS callers each play calls one after another from the mix recorded off the virtual
Twilio (bench/_calls.py: balances, a card payment, a mistyped birth date), thinking a random
1 to 5 s, with real sleeps, before every answer, typed card, hang-up and new call; Twilio's
redirects follow at once. Each call has its own member, CallSid and calling number.
Server time leaves out what the app waited on the payment gateway (X-Gateway-Time-Us),
reported apart. Targets: p99 server time at most 15 ms for ordinary webhooks and
40 ms for the payment confirmation (the answer that charges the card), on a 2-core machine,
SQLite and PostgreSQL alike.

`python -m bench.latency [--callers 50] [--duration 35] [--think 1 5] [--workers 4]`
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from bench._calls import prepare_calls, record_templates
from bench._load import Sample, pace, saturate
from bench._support import (
    AUTH_TOKEN,
    IDENTITY_KEY,
    PUBLIC_BASE_URL,
    CpuSnapshot,
    CpuUse,
    ServerConfig,
    add_members,
    bench_engine,
    database_backend_pids,
    gunicorn,
    percentile,
    postgres_available,
    scratch_database,
)

TARGET_P99_MS = 15.0
TARGET_CONFIRMATION_P99_MS = 40.0
# The answer that charges: its p99 has a target of its own.
CONFIRMATION_PATH = "/voice/pay/confirm/answer"


def is_confirmation(sample: Sample) -> bool:
    return sample.path.split("?", 1)[0] == CONFIRMATION_PATH or sample.gateway_seconds > 0


NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def run_backend(backend: str, calls, config: ServerConfig, args) -> dict:
    env = {
        "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "IVR_IDENTITY_KEY": IDENTITY_KEY,
    }
    with scratch_database(backend) as url:
        engine = bench_engine(url)
        add_members(engine, 1, len(calls))
        engine.dispose()
        with gunicorn("bench.timed_app:app", {**env, "DATABASE_URL": url}, config) as server:
            source = iter(calls)
            # Warm every worker up (imports, connections, caches) before measuring.
            saturate(server, source, clients=config.workers, warmup=0.0, window=2.0, check=True)
            watched = server.worker_pids()
            if backend == "postgresql":
                watched += database_backend_pids(url)
            before = CpuSnapshot.take(watched)
            samples, started = pace(
                server,
                source,
                callers=args.callers,
                duration=args.duration,
                think=(args.think[0], args.think[1]),
            )
            after = CpuSnapshot.take(watched)
    return {"samples": samples, "calls": started, "cpu": CpuUse.between(before, after)}


def _ms(samples: list[Sample], fraction: float, attribute: str = "server_seconds") -> float:
    return percentile([getattr(s, attribute) for s in samples], fraction) * 1000


def report(results: dict[str, dict], config: ServerConfig, args) -> None:
    names = list(results)
    print("Latency: server time per webhook, concurrent calls with callers who take their time")
    print(
        f"({args.callers} callers at once, {args.think[0]:g}-{args.think[1]:g} s of thought before"
        f" each key press, card, hang-up and call; {config.describe()};"
    )
    print(
        f" {args.duration:g} s per backend; server time: the app's own, from a WSGI wrapper;"
        " round trip: at the client)"
    )
    print(f"{'':<28}" + "".join(f"{NAMES[n]:>14}" for n in names) + f"{'target':>10}")

    def row(label: str, cells: list[str], target: str = "") -> None:
        print(f"{label:<28}" + "".join(f"{cell:>14}" for cell in cells) + f"{target:>10}")

    row(
        "calls / webhooks measured",
        [f"{r['calls']} / {len(r['samples'])}" for r in results.values()],
    )
    row(
        "webhooks/s",
        [f"{len(r['samples']) / args.duration:.1f}" for r in results.values()],
    )
    for label, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
        row(
            f"server time {label}",
            [f"{_ms(r['samples'], fraction):.1f} ms" for r in results.values()],
        )
    kinds = (
        ("ordinary", lambda s: not is_confirmation(s), TARGET_P99_MS),
        ("confirmation", is_confirmation, TARGET_CONFIRMATION_P99_MS),
    )
    for kind, chosen, target in kinds:
        picked = {name: [s for s in r["samples"] if chosen(s)] for name, r in results.items()}
        row(f"{kind}: webhooks", [str(len(picked[n])) for n in names])
        for label, fraction in (("p50", 0.50), ("p99", 0.99)):
            row(
                f"  server time {label}",
                [f"{_ms(picked[n], fraction):.1f} ms" if picked[n] else "-" for n in names],
                f"<= {target:.0f} ms" if label == "p99" else "",
            )
    charged = {
        name: [s for s in r["samples"] if s.gateway_seconds > 0] for name, r in results.items()
    }
    for label, fraction in (("p50", 0.50), ("p99", 0.99)):
        row(
            f"  gateway time {label} (apart)",
            [
                f"{_ms(charged[n], fraction, 'gateway_seconds'):.1f} ms" if charged[n] else "-"
                for n in names
            ],
        )
    for label, fraction in (("p50", 0.50), ("p99", 0.99)):
        row(
            f"round trip {label}",
            [
                f"{_ms(r['samples'], fraction, 'round_trip_seconds'):.1f} ms"
                for r in results.values()
            ],
        )
    row(
        f"cores busy, of {next(iter(results.values()))['cpu'].cores}",
        [f"{r['cpu'].busy:.2f}" for r in results.values()],
    )
    row(
        "  of which other processes'",
        [f"{r['cpu'].others:.2f}" for r in results.values()],
    )
    row(
        "answers off the recorded path",
        [str(sum(1 for s in r["samples"] if s.problem)) for r in results.values()],
    )
    row(
        "  of which refused (token)",
        [str(sum(1 for s in r["samples"] if s.refused)) for r in results.values()],
    )
    for name in names:
        by_path: dict[str, list[Sample]] = defaultdict(list)
        for sample in results[name]["samples"]:
            by_path[sample.path].append(sample)
        slowest = sorted(
            ((_ms(samples, 0.99), path, len(samples)) for path, samples in by_path.items()),
            reverse=True,
        )[:3]
        print(
            f"{NAMES[name]} slowest webhooks (p99): "
            + ", ".join(f"{path} {ms:.0f} ms (n={n})" for ms, path, n in slowest)
        )
        problems = [s.problem for s in results[name]["samples"] if s.problem]
        if problems:
            print(f"{NAMES[name]}: e.g. {'; '.join(problems[:3])}")
    if "postgresql" not in results:
        print("PostgreSQL: n/a (server not reachable)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--duration", type=float, default=35.0, help="seconds per backend")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 5.0), metavar=("MIN", "MAX"))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--calls", type=int, default=600, help="prepared calls (members)")
    args = parser.parse_args(argv)
    config = ServerConfig(args.workers, args.worker_class, args.threads)
    templates = record_templates()
    calls = prepare_calls(templates, 1, args.calls)
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    results = {backend: run_backend(backend, calls, config, args) for backend in backends}
    report(results, config, args)


if __name__ == "__main__":
    main()
