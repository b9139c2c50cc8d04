"""Load generators: threads that send prepared webhook requests over raw sockets.

Each request is a new connection (Connection: close), as gunicorn's sync workers answer
anyway; the client only connects, writes the prepared bytes (with the path's token and the
signature spliced in from the previous answer, as Twilio follows the action URL it was
given) and reads to the end, so its own CPU cost per request is small and the same for
every server it loads.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from bench._calls import REFUSED, PreparedCall
from bench._support import (
    GATEWAY_TIME_HEADER,
    SERVER_TIME_HEADER,
    CpuSnapshot,
    CpuUse,
    Server,
    process_cpu_seconds,
    raw_request,
)

_SERVER_TIME = b"\r\n" + SERVER_TIME_HEADER.lower().encode() + b": "
_GATEWAY_TIME = b"\r\n" + GATEWAY_TIME_HEADER.lower().encode() + b": "


class _Calls:
    """Hands out the next call to play, to any number of threads."""

    def __init__(self, calls: Iterator[PreparedCall]) -> None:
        self._calls = calls
        self._lock = threading.Lock()
        self.handed_out = 0
        self.exhausted = False

    def next(self) -> PreparedCall | None:
        with self._lock:
            call = next(self._calls, None)
            if call is None:
                self.exhausted = True
            else:
                self.handed_out += 1
            return call


def _refused(response: bytes) -> bool:
    return REFUSED in response


@dataclass
class Saturation:
    """What a closed loop of clients got from one server in the measured window."""

    requests: int = 0
    seconds: float = 0.0
    problems: int = 0
    refused: int = 0  # answers the app refused: a token not the one the call waits on
    examples: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # CPU seconds of the gunicorn workers in the window
    client_cpu: float = 0.0  # of this process: the load generator
    database_cpu: float = 0.0  # of the PostgreSQL backends serving the app's connections
    machine: CpuUse | None = None
    exhausted: bool = False

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def saturate(
    server: Server,
    calls: Iterator[PreparedCall],
    *,
    clients: int,
    warmup: float,
    window: float,
    check: bool,
    database_pids: Callable[[], Sequence[int]] | None = None,
) -> Saturation:
    """Play calls back to back from `clients` threads, no pauses; count the window's answers.

    Requests answered during the first `warmup` seconds are not counted. `check` compares
    each answer with the recording (only meaningful for the app, not the baseline).
    """
    source = _Calls(calls)
    result = Saturation()
    lock = threading.Lock()
    started = time.monotonic()
    opens, closes = started + warmup, started + warmup + window
    stop = threading.Event()

    def client() -> None:
        counted, problems, refused, examples = 0, 0, 0, []
        while not stop.is_set():
            call = source.next()
            if call is None:
                break
            token = None  # from the previous answer: where Twilio would go next
            for request in call.requests:
                if stop.is_set():
                    break
                try:
                    status, response = raw_request(server.address, request.wire(token))
                except OSError as error:
                    status, response = 0, str(error).encode()
                done = time.monotonic()
                token, problem = request.answer(status, response)
                if opens <= done < closes:
                    counted += 1
                    if not check:
                        problem = None if status == 200 else f"{request.path}: HTTP {status}"
                    elif _refused(response):
                        refused += 1
                    if problem is not None:
                        problems += 1
                        if len(examples) < 3:
                            examples.append(problem)
                elif done >= closes:
                    stop.set()
        with lock:
            result.requests += counted
            result.problems += problems
            result.refused += refused
            result.examples.extend(examples[: 3 - len(result.examples)])

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, opens - time.monotonic()))
    workers = server.worker_pids()
    backends = list(database_pids()) if database_pids else []
    before = CpuSnapshot.take([*workers, *backends])
    server_before = sum(process_cpu_seconds(pid) for pid in workers)
    time.sleep(max(0.0, closes - time.monotonic()))
    server_after = sum(process_cpu_seconds(pid) for pid in workers)
    after = CpuSnapshot.take([*workers, *backends])
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    result.seconds = after.wall - before.wall
    result.server_cpu = server_after - server_before
    result.client_cpu = after.own - before.own
    result.database_cpu = (after.watched - before.watched) - result.server_cpu
    result.machine = CpuUse.between(before, after)
    result.exhausted = source.exhausted
    return result


@dataclass(frozen=True)
class Sample:
    """One request of a paced call: when it was answered and how long it took."""

    at: float
    # The app's own time (X-Server-Time-Us), less what it waited on the payment gateway.
    server_seconds: float
    round_trip_seconds: float  # at the client: connect, send, queue, app, answer
    path: str
    problem: str | None
    refused: bool  # the app refused the answer: its token was not the awaited one
    gateway_seconds: float = 0.0  # X-Gateway-Time-Us: waiting on the payment gateway


def pace(
    server: Server,
    calls: Iterator[PreparedCall],
    *,
    callers: int,
    duration: float,
    think: tuple[float, float],
    seed: int = 11,
) -> tuple[list[Sample], int]:
    """`callers` callers, each playing calls one after another for `duration` seconds.

    Before each request that waits for the caller (an answer, a typed card, a hang-up, the
    next call) the caller thinks for a uniform random `think` seconds, with real sleeps;
    redirects follow at once, as Twilio follows them. Returns the samples and the number of
    calls started.
    """
    source = _Calls(calls)
    samples: list[Sample] = []
    lock = threading.Lock()
    started = time.monotonic()
    ends = started + duration

    def caller(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        mine: list[Sample] = []
        # Callers do not all start at once: each dials a random moment into the first pause.
        time.sleep(rng.uniform(0.0, think[1]))
        while time.monotonic() < ends:
            call = source.next()
            if call is None:
                break
            token = None  # from the previous answer: where Twilio would go next
            for request in call.requests:
                if request.after_caller and request is not call.requests[0]:
                    time.sleep(rng.uniform(*think))
                if time.monotonic() >= ends:
                    break
                data = request.wire(token)
                sent = time.perf_counter()
                try:
                    status, response = raw_request(server.address, data)
                except OSError as error:
                    status, response = 0, str(error).encode()
                round_trip = time.perf_counter() - sent
                token, problem = request.answer(status, response)
                gateway = _header_seconds(response, _GATEWAY_TIME)
                gateway = 0.0 if math.isnan(gateway) else gateway  # no header: no gateway
                mine.append(
                    Sample(
                        time.monotonic() - started,
                        _header_seconds(response, _SERVER_TIME) - gateway,
                        round_trip,
                        request.path,
                        problem,
                        _refused(response),
                        gateway,
                    )
                )
            else:
                # Between calls: the next caller on this line dials after a pause too.
                time.sleep(rng.uniform(*think))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=caller, args=(n,), daemon=True) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 120)
    return samples, source.handed_out


def _header_seconds(response: bytes, header: bytes) -> float:
    """Seconds from a header in microseconds (bench/timed_app.py), NaN when absent."""
    head = response.split(b"\r\n\r\n", 1)[0].lower()
    where = head.find(header)
    if where < 0:
        return float("nan")
    value = head[where + len(header) :].split(b"\r\n", 1)[0]
    return int(value) / 1e6
