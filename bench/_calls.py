"""Realistic calls as replayable webhook requests, signed as Twilio signs them.

The virtual Twilio plays each kind of call once against the app in process; every request
it makes is kept as a template. A replayed call is that template with its own CallSid,
calling number and member (MRN and birth-date keys), signed again and written out as the
raw HTTP bytes to send, so a load generator only connects, writes and reads: its own cost
is the same whether the server is the app or the bare baseline.

Each replayed call identifies a member of its own, so a payment finds the bill unpaid and
every call takes exactly the path it was recorded on; the replay checks that each answer
leads where the recording's did (the Redirect or action it expects).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench._support import (
    AUTH_TOKEN,
    IDENTITY_KEY,
    PAY_LINE,
    PUBLIC_BASE_URL,
    add_members,
    keypad_date,
    member_birth,
    member_mrn,
)
from billing_core.adapters.db import make_engine
from billing_core.adapters.migrate import upgrade as migrate
from ivr_sim import VirtualTwilio
from ivr_sim.call import Call
from ivr_sim.ids import new_sid
from ivr_sim.signing import SIGNATURE_HEADER, sign
from ivr_sim.transport import FlaskTransport

# The member the templates are recorded with; replayed calls use members 1 and up.
TEMPLATE_MEMBER = 0
TEMPLATE_CALLER = "+14155550123"


@dataclass(frozen=True)
class Step:
    """One recorded webhook request."""

    method: str
    path: str
    params: dict[str, str]
    # True when Twilio sends it after the caller did something (answered a prompt, typed a
    # card, hung up, or dialed); False for a <Redirect> Twilio follows at once.
    after_caller: bool
    # What the answer must contain to lead where the recorded one did (None: not checked).
    expect: str | None


@dataclass(frozen=True)
class Template:
    name: str
    steps: tuple[Step, ...]
    values: dict[str, str]  # the template's own MRN, birth-date keys ...: replaced per call


@dataclass(frozen=True)
class Request:
    """A request ready to send: the bytes on the wire and what its answer must contain."""

    path: str
    data: bytes
    after_caller: bool
    expect: bytes | None


@dataclass(frozen=True)
class PreparedCall:
    kind: str
    requests: tuple[Request, ...]


# -- the calls -----------------------------------------------------------------------------


def _identify(call: Call, birth_keys: str) -> None:
    call.press(member_mrn(TEMPLATE_MEMBER) + "#")
    call.press(birth_keys)


def _balances(call: Call) -> None:
    """Identify, hear the balances, hang up."""
    _identify(call, keypad_date(member_birth(TEMPLATE_MEMBER)))
    call.press("2")
    call.hang_up()


def _pay_by_card(call: Call) -> None:
    """Identify, pay the medical bill in full with a new card through the sandbox, hang up."""
    _identify(call, keypad_date(member_birth(TEMPLATE_MEMBER)))
    call.press("1")  # make a payment
    call.press("1")  # the medical bill
    call.press("1")  # the full balance
    call.press("1")  # a credit or debit card
    call.pay_card("4242424242424242", expiry="1230", cvc="123", postal="94612")
    call.press("1")  # pay now
    call.hang_up()


def _mistyped_then_recent(call: Call) -> None:
    """Get the birth date wrong once, then right; hear recent payments, hang up."""
    _identify(call, _wrong_birth_keys(TEMPLATE_MEMBER))
    _identify(call, keypad_date(member_birth(TEMPLATE_MEMBER)))
    call.press("3")
    call.hang_up()


def _wrong_birth_keys(index: int) -> str:
    return keypad_date(member_birth(index) - timedelta(days=400))


CALLS: dict[str, Callable[[Call], None]] = {
    "balances": _balances,
    "pay by card": _pay_by_card,
    "mistyped, recent payments": _mistyped_then_recent,
}
# The mix replayed, in this order over and over: two in five calls pay by card.
MIX = ("balances", "pay by card", "balances", "pay by card", "mistyped, recent payments")


# -- recording -----------------------------------------------------------------------------


class _Recorder(FlaskTransport):
    """A FlaskTransport that keeps every request it carries, with the answer."""

    def __init__(self, app, log: list) -> None:
        super().__init__(app, PUBLIC_BASE_URL, AUTH_TOKEN)
        self.log = log

    def _deliver(self, method, base, path, body, headers):
        status, answer = super()._deliver(method, base, path, body, headers)
        self.log.append((method, path, dict(body), status, answer))
        return status, answer

    def fresh(self) -> _Recorder:
        return _Recorder(self.app, self.log)


def record_templates() -> dict[str, Template]:
    """Play each kind of call once against the app in process; return them as templates."""
    from ivr import create_app

    templates = {}
    with tempfile.TemporaryDirectory(prefix="ivr_bench_rec_") as folder:
        url = f"sqlite:///{Path(folder) / 'record.sqlite3'}"
        migrate(url)
        engine = make_engine(url)
        app = create_app(
            {
                "TESTING": True,
                "ENGINE": engine,
                "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "IVR_IDENTITY_KEY": IDENTITY_KEY,
                "IVR_LOG_LEVEL": "WARNING",
            }
        )
        add_members(engine, TEMPLATE_MEMBER, 1)
        for name, play in CALLS.items():
            log: list = []
            twilio = VirtualTwilio(_Recorder(app, log))
            call = twilio.call(to=PAY_LINE, from_=TEMPLATE_CALLER)
            play(call)
            twilio.close()
            templates[name] = _template(name, log)
        engine.dispose()
    return templates


def _template(name: str, log: list) -> Template:
    steps = []
    for position, (method, path, params, status, answer) in enumerate(log):
        if status != 200:
            raise RuntimeError(f"recording {name!r}: {method} {path} answered {status}")
        # Twilio follows a <Redirect> (or a <Gather> that falls through to one) at once;
        # an answer with keys or a <Pay> result, the call's start and its end wait for the
        # caller.
        after_caller = (
            position == 0
            or params.get("CallStatus") == "completed"
            or any(key in params for key in ("Digits", "SpeechResult", "Result"))
        )
        expect = None
        if position + 1 < len(log):
            following = log[position + 1][1]
            for form in (f">{following}</Redirect>", f'action="{following}"'):
                if form in answer:
                    expect = form
                    break
        steps.append(Step(method, path, params, after_caller, expect))
    birth = member_birth(TEMPLATE_MEMBER)
    values = {
        "mrn": member_mrn(TEMPLATE_MEMBER),
        "birth": keypad_date(birth),
        "wrong birth": _wrong_birth_keys(TEMPLATE_MEMBER),
    }
    return Template(name, tuple(steps), values)


# -- replaying -----------------------------------------------------------------------------


def prepare_call(template: Template, member: int, caller: str) -> PreparedCall:
    """The template as a new call from `caller` by bench member `member`, signed."""
    call_sid = new_sid("CA")
    digits = {
        template.values["mrn"]: member_mrn(member),
        template.values["birth"]: keypad_date(member_birth(member)),
        template.values["wrong birth"]: _wrong_birth_keys(member),
    }
    requests = []
    for step in template.steps:
        params = dict(step.params)
        params["CallSid"] = call_sid
        for key in ("From", "Caller"):
            if key in params:
                params[key] = caller
        if "Digits" in params:
            params["Digits"] = digits.get(params["Digits"], params["Digits"])
        url = PUBLIC_BASE_URL + step.path
        body = urlencode(params).encode()
        head = (
            f"{step.method} {step.path} HTTP/1.1\r\n"
            f"Host: bench.example.test\r\n"
            f"{SIGNATURE_HEADER}: {sign(AUTH_TOKEN, url, params)}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        expect = step.expect.encode() if step.expect else None
        requests.append(Request(step.path, head + body, step.after_caller, expect))
    return PreparedCall(template.name, tuple(requests))


def prepare_calls(
    templates: dict[str, Template], first_member: int, count: int, seed: int = 7
) -> list[PreparedCall]:
    """`count` calls in the MIX, by members first_member .. first_member+count-1."""
    rng = random.Random(seed)
    calls = []
    for offset in range(count):
        template = templates[MIX[offset % len(MIX)]]
        caller = f"+1415{rng.randrange(2_000_000, 9_999_999):07d}"
        calls.append(prepare_call(template, first_member + offset, caller))
    return calls


def describe_mix(templates: dict[str, Template]) -> str:
    counts: dict[str, int] = {}
    for name in MIX:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(
        f"{counts[name]}/{len(MIX)} {name} ({len(templates[name].steps)} webhooks)"
        for name in counts
    )


def cycle(calls: list[PreparedCall]) -> Iterator[PreparedCall]:
    """The calls over and over: only for a server that keeps no state (the baseline)."""
    while True:
        yield from calls
