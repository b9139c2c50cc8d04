"""Log lines as text (the default) or one JSON object a line (IVR_LOG_FORMAT=json).

A JSON line carries time, level, logger and message, and the call's CallSid and step
when it was written while answering a webhook. Neither format adds anything a caller
keyed or said: the message is what the code wrote, and the code never writes that.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO

from flask import g, has_request_context, request

from ivr.calls import call_sid_of

TEXT = "text"
JSON = "json"
FORMATS = (TEXT, JSON)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class CallContext(logging.Filter):
    """Give each record the CallSid and step of the webhook being answered, where there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            state = g.get("call")
            call_sid = state.call_sid if state is not None else call_sid_of(request.form)
            if call_sid and not hasattr(record, "call_sid"):
                record.call_sid = call_sid
            if request.endpoint and not hasattr(record, "step"):
                record.step = request.endpoint
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, call_sid, step, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("call_sid", "step"):
            value = getattr(record, key, None)
            if value:
                line[key] = str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing to the stream (stderr) in the format: text or json."""
    if log_format not in FORMATS:
        raise RuntimeError(f"IVR_LOG_FORMAT must be text or json, not {log_format!r}")
    made = logging.StreamHandler(stream or sys.stderr)
    made.addFilter(CallContext())
    made.setFormatter(JsonFormatter() if log_format == JSON else logging.Formatter(TEXT_FORMAT))
    return made


def configure(level: str, log_format: str, *, testing: bool) -> None:
    """Set the level of the app's loggers, and write lines to stderr in the format.

    Where the host set logging up already (a root handler), its handlers stay, switched
    to JSON when that is the format, so every line of the process reads the same way.
    Under tests the handlers are pytest's and stay as they are.
    """
    numeric = getattr(logging, str(level).upper(), logging.INFO)
    for name in ("ivr", "billing_core"):
        logging.getLogger(name).setLevel(numeric)
    log_format = str(log_format).lower()
    made = handler(log_format)  # a bad format stops the start-up, under tests too
    if testing:
        return
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(made)
    elif log_format == JSON:
        for existing in root.handlers:
            if not isinstance(existing.formatter, JsonFormatter):
                existing.setFormatter(JsonFormatter())
                existing.addFilter(CallContext())
