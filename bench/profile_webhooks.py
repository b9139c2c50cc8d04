"""Where a webhook's time goes: the recorded call mix played in process, timed and profiled.

Not a benchmark with a target: the evidence behind the capacity and latency figures. The
calls of bench/_calls.py are played through the app's own WSGI callable (Flask's test
client, no HTTP server) against a scratch SQLite or PostgreSQL database: first unprofiled
(wall and CPU time per webhook, slowest webhooks), then under cProfile, to split the time
between the signature check, loading and saving the call state, the flow itself (billing
core included) and the rest, and to show how much of it is database commits.

`python -m bench.profile_webhooks [--backend sqlite|postgresql] [--calls 100]`
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections import Counter, defaultdict
from urllib.parse import parse_qsl

from sqlalchemy import event

from bench._calls import PreparedCall, prepare_calls, record_templates
from bench._support import (
    AUTH_TOKEN,
    IDENTITY_KEY,
    PUBLIC_BASE_URL,
    add_members,
    bench_engine,
    scratch_database,
)
from ivr_sim.signing import SIGNATURE_HEADER

# (what, file the function is in, function name): cumulative time of each, as a share.
PARTS = (
    ("signature check", "ivr/security.py", "require_twilio_signature"),
    ("call state: load", "ivr/call_state.py", "load"),
    ("call state: save", "ivr/call_state.py", "save"),
    ("the flow's handler (billing core too)", "flask/app.py", "dispatch_request"),
)


class _Statements:
    """Counts SQL statements and commits, per webhook path, through engine events."""

    def __init__(self, engine) -> None:
        self.path = ""
        self.statements: dict[str, int] = defaultdict(int)
        self.commits: dict[str, int] = defaultdict(int)
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_args) -> None:
        self.statements[self.path] += 1

    def _commit(self, *_args) -> None:
        self.commits[self.path] += 1


def _play(
    client,
    calls: list[PreparedCall],
    timings: dict[str, list[float]] | None,
    counter: _Statements | None = None,
) -> int:
    played = 0
    for call in calls:
        token = None  # from the previous answer: the action URL Twilio would follow
        for request in call.requests:
            head, body = request.wire(token).split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            path = lines[0].split(" ")[1]
            signature = next(
                line.split(": ", 1)[1] for line in lines if line.startswith(SIGNATURE_HEADER)
            )
            if counter is not None:
                counter.path = request.path
            started = time.perf_counter()
            response = client.post(
                path,
                base_url=PUBLIC_BASE_URL,
                data=dict(parse_qsl(body.decode(), keep_blank_values=True)),
                headers={SIGNATURE_HEADER: signature},
            )
            if timings is not None:
                timings[request.path].append(time.perf_counter() - started)
            token, problem = request.answer(response.status_code, response.get_data())
            if problem is not None:
                raise RuntimeError(problem)
            played += 1
    return played


def _cumulative(stats: pstats.Stats, filename: str, function: str) -> float:
    total = 0.0
    for (file, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        if file.endswith(filename) and name == function:
            total += cumulative
    return total


def _commits(stats: pstats.Stats) -> float:
    total = 0.0
    for (file, _line, name), (_cc, _nc, tottime, cumulative, _callers) in stats.stats.items():
        if "commit' of 'sqlite3.Connection" in name:
            total += tottime
        elif file.endswith("psycopg/connection.py") and name == "commit":
            total += cumulative
    return total


def main(argv: list[str] | None = None) -> None:
    from ivr import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--calls", type=int, default=100, help="calls timed, and as many profiled")
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions")
    args = parser.parse_args(argv)
    warm = 20
    calls = prepare_calls(record_templates(), 1, 2 * warm + 2 * args.calls)
    with scratch_database(args.backend) as url:
        engine = bench_engine(url)
        add_members(engine, 1, len(calls))
        app = create_app(
            {
                "ENGINE": engine,
                "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "IVR_IDENTITY_KEY": IDENTITY_KEY,
                "IVR_LOG_LEVEL": "WARNING",
            }
        )
        client = app.test_client()
        _play(client, calls[:warm], None)
        counter = _Statements(engine)
        _play(client, calls[warm : 2 * warm], None, counter)
        event.remove(engine, "before_cursor_execute", counter._statement)
        event.remove(engine, "commit", counter._commit)
        counted = Counter(r.path for call in calls[warm : 2 * warm] for r in call.requests)
        timings: dict[str, list[float]] = defaultdict(list)
        wall, cpu = time.perf_counter(), time.process_time()
        played = _play(client, calls[2 * warm : 2 * warm + args.calls], timings)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        profile = cProfile.Profile()
        profile.enable()
        _play(client, calls[2 * warm + args.calls :], None)
        profile.disable()
        engine.dispose()

    stats = pstats.Stats(profile)
    whole = _cumulative(stats, "flask/app.py", "wsgi_app")
    print(f"Where a webhook's time goes ({args.backend}, in process, no HTTP server)")
    print(f"{args.calls} calls of the mix, {played} webhooks, one at a time")
    print(f"  wall time per webhook   {wall / played * 1000:6.2f} ms")
    print(f"  CPU time per webhook    {cpu / played * 1000:6.2f} ms  (the rest is waiting: I/O)")
    print("share of the app's wall time, under cProfile (which inflates Python code):")
    accounted = 0.0
    for label, filename, function in PARTS:
        share = _cumulative(stats, filename, function) / whole
        accounted += share
        print(f"  {label:<40}{share:>6.0%}")
    print(f"  {'Flask, werkzeug, TwiML answer, the rest':<40}{1 - accounted:>6.0%}")
    print(f"  {'of all of it: database commits':<40}{_commits(stats) / whole:>6.0%}")
    slowest = sorted(
        ((statistics.fmean(values), path, len(values)) for path, values in timings.items()),
        reverse=True,
    )[:5]
    print(f"{'slowest webhooks':<36}{'mean wall':>10}{'SQL statements':>16}{'commits':>9}")
    for mean, path, _n in slowest:
        print(
            f"  {path:<34}{mean * 1000:>7.1f} ms{counter.statements[path] / counted[path]:>16.1f}"
            f"{counter.commits[path] / counted[path]:>9.1f}"
        )
    total = sum(counted.values())
    print(
        f"  {'every webhook, on average':<34}{wall / played * 1000:>7.1f} ms"
        f"{sum(counter.statements.values()) / total:>16.1f}"
        f"{sum(counter.commits.values()) / total:>9.1f}"
    )
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
