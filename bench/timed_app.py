"""The app as gunicorn serves it (`wsgi:app`), wrapped to report its own time per request.

`gunicorn bench.timed_app:app`: every answer carries X-Server-Time-Us, the microseconds from
the moment the WSGI server hands the request to the app until the whole answer body is
made and the app's request has been torn down, and X-Gateway-Time-Us, the part of it spent
waiting on the payment gateway (a card charged at the confirmation), so that server time
can be told apart from the gateway's. What it leaves out is gunicorn's part: accepting the
connection, parsing the request, writing the answer. The app is not changed: its billing
core's gateway is wrapped from outside.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from bench._support import GATEWAY_TIME_HEADER, SERVER_TIME_HEADER
from ivr import create_app


class GatewayClock:
    """Wraps a payment gateway: every call to it is timed, per thread (one request each)."""

    def __init__(self, gateway: Any) -> None:
        self._gateway = gateway
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._gateway, name)
        if not callable(found):
            return found

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return found(*args, **kwargs)
            finally:
                self._local.seconds = self.spent() + time.perf_counter() - started

        return timed

    def spent(self) -> float:
        return getattr(self._local, "seconds", 0.0)

    def reset(self) -> None:
        self._local.seconds = 0.0


class ServerTiming:
    """WSGI middleware: time the wrapped app, answer the same status, headers and body."""

    def __init__(self, app: Callable, gateway: GatewayClock) -> None:
        self.app = app
        self.gateway = gateway

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        self.gateway.reset()
        started = time.perf_counter()
        answer: dict = {}
        chunks: list[bytes] = []

        def capture(status, headers, exc_info=None):
            answer["status"], answer["headers"], answer["exc_info"] = status, headers, exc_info
            return chunks.append

        result = self.app(environ, capture)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        elapsed = time.perf_counter() - started
        headers = [
            *answer["headers"],
            (SERVER_TIME_HEADER, str(round(elapsed * 1e6))),
            (GATEWAY_TIME_HEADER, str(round(self.gateway.spent() * 1e6))),
        ]
        start_response(answer["status"], headers, answer["exc_info"])
        return chunks


def timed_app() -> ServerTiming:
    flask_app = create_app()
    core = flask_app.extensions["billing"]
    core.gateway = clock = GatewayClock(core.gateway)
    return ServerTiming(flask_app, clock)


app = timed_app()
