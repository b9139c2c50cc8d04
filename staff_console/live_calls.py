"""The browser softphone's calls: each a virtual Twilio call on the voice app, in this process.

A call gets a voice app of its own (the console's settings and database, with its own
clock set to the time QA chose), as `ivr call` does, and is recorded by that app as any
call with IVR_RECORDINGS_DIR set, so it can be downloaded as a call script. Calls live in
the memory of the console's process: run the console as one process (threads are fine).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from flask import Flask

from billing_core.adapters.gateways.sandbox import (
    TEST_BANK_ACCOUNTS,
    TEST_CARDS,
    TEST_ROUTING_NUMBER,
)
from billing_core.domain.clock import ManualClock
from ivr.recording import SUFFIX
from ivr_sim.cli import app_with
from ivr_sim.errors import CallEnded, SimError
from ivr_sim.gather import GatherState
from ivr_sim.pay import PayField
from ivr_sim.recorded import recording_to_script
from ivr_sim.script import AppChannel
from ivr_sim.softphone import FIELD_NAMES, Softphone
from staff_console.flow_graph import FlowGraph

# Real card and account numbers never reach the console: only the sandbox's, and only
# through the card and bank forms, not the keypad.
SECRET_FIELDS = frozenset({"payment-card-number", "bank-account-number"})
# A call nobody touched for this long is hung up and forgotten.
IDLE_SECONDS = 30 * 60
# At most this many calls at once per console process (each holds a voice app).
MOST_CALLS = 20


class CallProblem(ValueError):
    """What QA asked cannot be done on this call; the words are safe to show."""


@dataclass
class Line:
    text: str
    language: str


@dataclass
class LiveCall:
    """One call from the browser: the softphone, its app, and what was heard so far."""

    id: str
    owner: str
    phone: Softphone
    channel: AppChannel
    app: Flask
    folder: Path
    zone: tzinfo
    lines: list[Line] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    touched: float = field(default_factory=time.monotonic)

    @property
    def call(self):
        return self.phone.call

    def act(self, action: str, values: dict[str, Any]) -> None:
        """Do what QA did: keys, speech, silence, a card or bank account, or hang up."""
        call = self.call
        if call.ended:
            raise CallProblem("the call has ended")
        try:
            if action == "keys":
                keys = str(values.get("keys", "")).replace(" ", "")
                if not keys or any(key not in "0123456789*#" for key in keys):
                    raise CallProblem("keys are 0 to 9, * and #")
                if isinstance(call.waiting, PayField) and call.waiting.field in SECRET_FIELDS:
                    raise CallProblem("the payment entry takes a sandbox card or bank account")
                call.press(keys)
            elif action == "say":
                words = str(values.get("text", "")).strip()
                if not words:
                    raise CallProblem("type what to say")
                call.say(words)
            elif action == "silence":
                call.silence()
            elif action == "card":
                number = str(values.get("number", "")).replace(" ", "")
                if number not in TEST_CARDS:
                    raise CallProblem("only the sandbox's test cards can be typed here")
                call.pay_card(
                    number,
                    expiry=str(values.get("expiry", "")),
                    cvc=str(values.get("cvc", "")),
                    postal=str(values.get("postal", "")),
                )
            elif action == "bank":
                routing, account = str(values.get("routing", "")), str(values.get("account", ""))
                if routing != TEST_ROUTING_NUMBER or account not in TEST_BANK_ACCOUNTS:
                    raise CallProblem("only the sandbox's test bank accounts can be typed here")
                call.pay_bank(routing, account)
            elif action == "hangup":
                call.hang_up()
            else:
                raise CallProblem(f"no such action: {action}")
        except CallEnded:
            pass
        except SimError as problem:
            raise CallProblem(str(problem)) from None
        finally:
            self._take_lines()
            self.touched = time.monotonic()

    def _take_lines(self) -> None:
        call = self.call
        new = zip(
            call.heard[len(self.lines) :], call.heard_languages[len(self.lines) :], strict=True
        )
        self.lines.extend(Line(text, language) for text, language in new)

    def state(self, graph: FlowGraph) -> dict[str, Any]:
        """The call as the page shows it: lines heard, what waits, the path through the map."""
        call = self.call
        path: list[str] = []
        for index, turn in enumerate(call.transcript):
            steps = self.channel.steps[index] if index < len(self.channel.steps) else ()
            for request_path in (turn.path, *steps):
                endpoint = graph.endpoint_of_path(request_path)
                if endpoint and (not path or path[-1] != endpoint):
                    path.append(endpoint)
        return {
            "id": self.id,
            "to": call.to,
            "from": call.from_,
            # The call's time as the line's region tells it.
            "at": self.phone.clock.now().astimezone(self.zone).strftime("%a %Y-%m-%d %H:%M %Z"),
            "lines": [{"text": line.text, "language": line.language} for line in self.lines],
            "waiting": _waiting(call.waiting),
            "dialed": list(call.dialed),
            "ended": call.ended,
            "end_reason": call.end_reason if call.ended else None,
            "path": path,
            "current": None if call.ended or not path else path[-1],
        }

    def script(self, voice: Flask, title: str) -> str:
        """The call so far as a call script (the members on file: the demo data)."""
        recordings = sorted(self.folder.glob(f"*{SUFFIX}"))
        if not recordings:
            raise CallProblem("nothing recorded yet")
        return recording_to_script(recordings, app=voice, title=title).text

    def close(self) -> None:
        if not self.call.ended:
            try:
                self.call.hang_up()
            except (CallEnded, SimError):
                pass
        self.channel.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class LiveCalls:
    """The calls the console's staff have going, by id; each only for who placed it."""

    def __init__(self, voice: Flask) -> None:
        self.voice = voice
        self._calls: dict[str, LiveCall] = {}
        self._lock = threading.Lock()

    def place(self, *, to: str, from_: str, at: datetime, owner: str) -> LiveCall:
        """Dial `to` from `from_` with the call's clock at `at`; the first prompts are heard."""
        self.sweep()
        with self._lock:
            if len(self._calls) >= MOST_CALLS:
                raise CallProblem("too many calls going on this console: hang one up")
        folder = Path(tempfile.mkdtemp(prefix="console-call-"))
        clock = ManualClock(at)
        core = self.voice.extensions["billing"]
        app = app_with(
            self.voice,
            CLOCK=clock,
            ENGINE=core.engine,
            IVR_RECORDINGS_DIR=str(folder),
            IVR_JOBS_LOCAL_WORKER=False,
        )
        channel = AppChannel(app)
        phone = Softphone(channel, to=to, from_=from_, clock=clock, write=lambda _text: None)
        zone = core.regions.for_dialed_number(to)[0].time_zone
        live = LiveCall(secrets.token_urlsafe(12), owner, phone, channel, app, folder, zone)
        with live.lock:
            phone.start()
            live._take_lines()
        with self._lock:
            self._calls[live.id] = live
        return live

    def get(self, call_id: str, owner: str) -> LiveCall | None:
        with self._lock:
            live = self._calls.get(call_id)
        return live if live is not None and live.owner == owner else None

    def forget(self, call_id: str) -> None:
        with self._lock:
            live = self._calls.pop(call_id, None)
        if live is not None:
            with live.lock:
                live.close()

    def sweep(self) -> None:
        """Hang up and forget the calls left idle."""
        now = time.monotonic()
        with self._lock:
            idle = [key for key, live in self._calls.items() if now - live.touched > IDLE_SECONDS]
        for key in idle:
            self.forget(key)


def _waiting(waiting: object) -> dict[str, Any] | None:
    """What the line waits for, as the keypad needs it."""
    if isinstance(waiting, GatherState):
        return {
            "kind": "gather",
            "input": waiting.input.split(),
            "num_digits": waiting.num_digits,
            "finish_on_key": waiting.finish_on_key,
            "language": waiting.language,
            "timeout": waiting.timeout,
        }
    if isinstance(waiting, PayField):
        return {
            "kind": "pay",
            "field": waiting.field,
            "field_name": FIELD_NAMES.get(waiting.field, waiting.field),
            "card": waiting.field in CARD_FIELDS,
        }
    return None


CARD_FIELDS = ("payment-card-number", "expiration-date", "security-code", "postal-code")
