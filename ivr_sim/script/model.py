"""The call-script model: steps, calls, scripts, and the names scripts use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

# Paths of the steps an answer ran without a request of its own.
STEPS_HEADER = "X-IVR-Steps"
VOICE_PATH = "/voice"
STATUS_PATH = "/voice/status"
# The Fallback URL the README has set on every pay-line number.
FALLBACK_PATH = "/voice/fallback"
DEFAULT_FROM = "+14155550100"
DEFAULT_BASE_URL = "https://ivr.invalid"
DEFAULT_ROUTING = "110000000"
SCRIPT_SUFFIXES = (".yaml", ".yml")

# Parameters the same on every request of a call: left out of the readable log.
CALL_PARAMS = frozenset(
    {
        "CallSid",
        "AccountSid",
        "From",
        "To",
        "Called",
        "Caller",
        "Direction",
        "ApiVersion",
        "CallStatus",
    }
)
DURATION_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
KEYS_PATTERN = re.compile(r"[0-9*#]+")


INPUT_ACTIONS = frozenset({"press", "say", "silence", "pay", "hang-up"})
CHECK_ACTIONS = frozenset({"hear", "hear_all", "not_hear", "expect"})
OTHER_ACTIONS = frozenset({"advance", "connector", "dial_outcome", "fault"})
# Extra keys a step may carry besides its action.
STEP_OPTIONS: dict[str, frozenset[str]] = {
    "press": frozenset({"delay"}),
    "say": frozenset({"delay", "confidence"}),
    "silence": frozenset({"delay"}),
    "pay": frozenset(),
    "hang-up": frozenset(),
    "hear": frozenset(),
    "hear_all": frozenset(),
    "not_hear": frozenset(),
    "expect": frozenset(),
    "advance": frozenset(),
    "connector": frozenset(),
    "dial_outcome": frozenset(),
    "fault": frozenset(),
}
ACTION_ALIASES = {"hang_up": "hang-up", "hangup": "hang-up", "hang up": "hang-up"}
EXPECT_KEYS = frozenset(
    {
        "ended",
        "hangup",
        "end_reason",
        "dialed",
        "balance",
        "payments",
        "saved_methods",
        "autopay",
        "plan",
        "texts",
        "documents",
        "heard",
        "never_heard",
    }
)
# The jobs a `run:` item between calls runs, as the job worker does.
JOBS = ("plans", "autopay", "scheduled", "reconcile", "reminders")
# What a `plan:` expectation checks, and the plan statuses it knows (`none`: no plan at all).
PLAN_KEYS = frozenset({"mrn", "status", "months", "paid", "left", "method_last4"})
PLAN_STATUSES = ("active", "completed", "lapsed", "cancelled", "none")
DIAL_OUTCOMES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
FAULTS = ("database", "call-state", "app", "none")


@dataclass(frozen=True)
class Step:
    """One step of a call: something the caller does, a check, or a change of conditions."""

    action: str
    value: Any
    options: Mapping[str, Any]
    line: int | None
    written: str  # the step as written, on one line, for messages

    @property
    def is_input(self) -> bool:
        return self.action in INPUT_ACTIONS


@dataclass(frozen=True)
class CallSpec:
    """One call of a script: who dials what, when, and its steps (end expectations last)."""

    dial: str
    from_: str
    at: datetime | None
    steps: tuple[Step, ...]
    line: int | None
    title: str = ""
    dial_outcome: str = "completed"


@dataclass(frozen=True)
class Advance:
    """Time passing between calls."""

    seconds: float
    line: int | None


@dataclass(frozen=True)
class RunJob:
    """A daily job run once between calls, at the script clock's time."""

    job: str
    line: int | None


@dataclass(frozen=True)
class TextMessage:
    """A text message sent to one of the plan's numbers between calls (STOP, START, HELP)."""

    sender: str
    to: str
    body: str
    line: int | None


ScriptItem = CallSpec | Advance | RunJob | TextMessage


@dataclass(frozen=True)
class CallScript:
    """A whole script: its calls (and the time and daily jobs between them), members, start time."""

    title: str
    name: str
    at: datetime
    items: tuple[ScriptItem, ...]
    members: Any = None  # None: the demo data; else a feed document, list or file path
    source: str = ""
    base_dir: Path | None = None
    # A flow bug the script shows: it is expected to fail until the bug is fixed.
    known_bug: str | None = None
    # The app's settings for this script's calls (IVR_PAY_POSTAL_CODE: true), restored after.
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def calls(self) -> list[CallSpec]:
        return [item for item in self.items if isinstance(item, CallSpec)]
