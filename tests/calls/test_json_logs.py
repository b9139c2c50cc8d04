"""IVR_LOG_FORMAT=json: every line one JSON object, with the call and step, and no caller input."""

from __future__ import annotations

import io
import json
import logging
from datetime import date

import pytest

from ivr import logs
from tests.calls.phrases import PAID
from tests.members import add_member

NCAL = "+18773659900"
CALLER = "+14155550123"
MRN = "60000006"


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn=MRN,
        birth_date=date(1985, 2, 14),
        first_name="Maya",
        bills=[
            ("B-100", date(2026, 9, 14), "Oakland Medical Center", 25000, 5000, date(2026, 12, 15)),
        ],
    )


@pytest.fixture
def json_lines(request):
    """What the root logger writes in JSON while the test runs, as a text stream."""
    written = io.StringIO()
    handler = logs.handler("json", written)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield written
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_whole_call_logs_json_lines_with_its_call_and_steps_and_no_caller_input(
    app, twilio, member, json_lines
):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press(MRN + "#")
    call.press("01011990")  # a wrong birth date first
    call.press(MRN + "#")
    call.press("02141985")
    call.press("1")  # the bill offered right after identification, in full, by card
    call.pay_card("4000000000009995", cvc="987")  # declined
    call.press("1")
    call.press("1")  # another card
    call.press("1")
    call.pay_card("4242424242424242", cvc="987")
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)
    call.hang_up()

    text = json_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)
        assert set(line) <= {"time", "level", "logger", "message", "call_sid", "step", "exception"}
        assert line["time"].endswith("+00:00")
    of_the_call = [line for line in lines if line.get("call_sid") == call.call_sid]
    assert {line["step"] for line in of_the_call} <= set(app.view_functions)
    assert f"call {call.call_sid} ended (completed)" in [line["message"] for line in of_the_call]
    assert any(line["step"] == "status.call_status" for line in of_the_call)
    for caller_input in (
        MRN,
        "01011990",
        "02141985",
        "1985-02-14",
        "4242424242424242",
        "4000000000009995",
        "4155550123",
        "Maya",
    ):
        assert caller_input not in text


def test_a_line_written_outside_any_webhook_has_no_call(json_lines):
    logging.getLogger("ivr.jobs").warning("job %s: %s", "outbox", "sent 2")
    (line,) = [json.loads(text) for text in json_lines.getvalue().splitlines()]
    assert line["message"] == "job outbox: sent 2"
    assert line["logger"] == "ivr.jobs" and line["level"] == "WARNING"
    assert "call_sid" not in line and "step" not in line


def test_a_failure_is_one_json_line_with_its_traceback(json_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("ivr.calls").exception("call %s: %s failed", "CA1", "ValueError")
    (line,) = [json.loads(text) for text in json_lines.getvalue().splitlines()]
    assert line["message"] == "call CA1: ValueError failed"
    assert "Traceback" in line["exception"] and "ValueError: boom" in line["exception"]


def test_with_nothing_set_up_the_app_writes_json_to_stderr(capsys, monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    logs.configure("INFO", "JSON", testing=False)
    (handler,) = root.handlers
    logging.getLogger("ivr.flows.status").info("call %s ended (%s)", "CA1", "completed")
    handler.flush()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "call CA1 ended (completed)"


def test_an_unknown_log_format_stops_the_start_up(core, clock):
    from ivr import create_app

    with pytest.raises(RuntimeError, match="IVR_LOG_FORMAT must be text or json, not 'xml'"):
        create_app(
            {"TESTING": True, "ENGINE": core.engine, "CLOCK": clock, "IVR_LOG_FORMAT": "xml"}
        )


def test_in_json_the_hosts_own_handlers_write_json_too(monkeypatch):
    written = io.StringIO()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [logging.StreamHandler(written)])
    logs.configure("INFO", "json", testing=False)
    assert len(root.handlers) == 1  # the host's handler, not a second one
    logging.getLogger("ivr.flows.status").warning("call %s ended (%s)", "CA1", "busy")
    assert json.loads(written.getvalue())["message"] == "call CA1 ended (busy)"
