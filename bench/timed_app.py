"""The app as gunicorn serves it (`wsgi:app`), wrapped to report its own time per request.

`gunicorn bench.timed_app:app`: every answer carries X-Server-Time-Us, the microseconds from
the moment the WSGI server hands the request to the app until the whole answer body is
made and the app's request has been torn down. What it leaves out is gunicorn's part:
accepting the connection, parsing the request, writing the answer. The app is not changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bench._support import SERVER_TIME_HEADER as HEADER
from ivr import create_app


class ServerTiming:
    """WSGI middleware: time the wrapped app, answer the same status, headers and body."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
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
        headers = [*answer["headers"], (HEADER, str(round(elapsed * 1e6)))]
        start_response(answer["status"], headers, answer["exc_info"])
        return chunks


app = ServerTiming(create_app())
