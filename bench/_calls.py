"""Realistic calls as replayable webhook requests, signed as Twilio signs them.

The virtual Twilio plays each kind of call once against the app in process; every request
it makes is kept as a template. A replayed call is that template with its own CallSid,
calling number and member (MRN and birth-date keys), signed again and written out as the
raw HTTP bytes to send, so a load generator only connects, writes and reads: its own cost
is the same whether the server is the app or the bare baseline.

Each replayed call identifies a member of its own, so a payment finds the bill unpaid and
every call takes exactly the path it was recorded on; the replay checks that each answer
leads where the recording's did (the Redirect or action it expects, whatever its token).

The app binds each answer to its prompt with a fresh token in the action URL (`?t=...`),
so a replayed call follows the app as Twilio does: a request whose recorded path carries a
token goes to the action URL the previous answer gave, with that answer's token, signed
for that URL. Only the path and the signature header are spliced in per request (the rest
of the bytes are prepared); a request whose previous answer gave no token (the bare
baseline's fixed answer, a status callback) is sent exactly as prepared.
"""

from __future__ import annotations

import base64
import hmac
import random
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from hashlib import sha1
from pathlib import Path
from urllib.parse import urlencode
from xml.sax.saxutils import escape

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
from ivr.kernel import TOKEN
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
    # Where the answer must send the call next to lead where the recorded one did, as the
    # TwiML names it: "redirect" (a <Redirect>'s text) or "action" (a <Gather>, <Pay> or
    # <Dial> action); None: not checked (the next request is not named in the answer).
    follow: str | None


@dataclass(frozen=True)
class Template:
    name: str
    steps: tuple[Step, ...]
    values: dict[str, str]  # the template's own MRN, birth-date keys ...: replaced per call


# What the app answers when an answer's token is not the one the call waits on.
REFUSED = b"could not take that answer"
# The X-Twilio-Signature of a URL and the request's parameters as the signature covers them
# (ivr_sim.signing.sign's HMAC-SHA1), from the key's pads hashed once; checked against
# sign() for every prepared request.
_MAC = hmac.new(AUTH_TOKEN.encode(), digestmod=sha1)


def _signature(signed: bytes) -> bytes:
    mac = _MAC.copy()
    mac.update(signed)
    return base64.b64encode(mac.digest())


@dataclass(frozen=True)
class _Splice:
    """A tokened request's bytes around its token and signature, prepared."""

    start: bytes  # "POST /path?t="
    middle: bytes  # the rest of the path, " HTTP/1.1", headers up to the signature's value
    end: bytes  # the rest of the headers and the body
    url_start: bytes  # the public URL up to the token, as signed
    url_end: bytes  # the rest of the URL and the parameters, as signed

    def wire(self, token: bytes) -> bytes:
        signature = _signature(self.url_start + token + self.url_end)
        return b"".join((self.start, token, self.middle, signature, self.end))


@dataclass(frozen=True)
class Request:
    """A request ready to send: the bytes on the wire and what its answer must contain."""

    path: str  # the route, its token left out: what reports name
    data: bytes  # as recorded: its path's token (if any) is the recording's
    after_caller: bool
    # Matches the answer's URL for the next request, the token as group 1 (None: not
    # checked); `leads` says where that is, for a report.
    expect: re.Pattern[bytes] | None
    leads: str | None
    splice: _Splice | None  # None: the path carries no token; always sent as `data`

    def wire(self, token: bytes | None) -> bytes:
        """The bytes to send, to the action URL with `token` (None: as recorded)."""
        if token is None or self.splice is None:
            return self.data
        return self.splice.wire(token)

    def answer(self, status: int, response: bytes) -> tuple[bytes | None, str | None]:
        """(the token the next request takes from this answer or None, why the answer is not
        the recorded one's or None)."""
        if status != 200:
            return None, f"{self.path}: HTTP {status}"
        if self.expect is None:
            return None, None
        found = self.expect.search(response)
        if found is not None:
            return found.group(1) or None, None
        if REFUSED in response:
            return None, f"{self.path}: answer refused (its token was not the awaited one)"
        return None, f"{self.path}: answer lacks {self.leads}"


@dataclass(frozen=True)
class PreparedCall:
    kind: str
    requests: tuple[Request, ...]


# -- the calls -----------------------------------------------------------------------------


def _identify(call: Call, birth_keys: str) -> None:
    call.press(member_mrn(TEMPLATE_MEMBER) + "#")
    call.press(birth_keys)


def _balances(call: Call) -> None:
    """Identify, hear the balances (a main menu key, at the payment offered first), hang up."""
    _identify(call, keypad_date(member_birth(TEMPLATE_MEMBER)))
    call.press("2")
    call.hang_up()


def _pay_by_card(call: Call) -> None:
    """Identify, pay the medical bill offered first with a new card through the sandbox."""
    _identify(call, keypad_date(member_birth(TEMPLATE_MEMBER)))
    call.press("1")  # the bill in full, by card: the <Pay> at once
    call.pay_card("4242424242424242", expiry="1230", cvc="123")
    call.press("1")  # pay now, at the read-back
    call.hang_up()


def _mistyped_then_recent(call: Call) -> None:
    """Get the birth date wrong once, then right; hear recent payments, hang up."""
    _identify(call, _wrong_birth_keys(TEMPLATE_MEMBER))
    _identify(call, keypad_date(member_birth(TEMPLATE_MEMBER)))
    call.press("4")
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
        follow = None
        if position + 1 < len(log):
            following, next_params = log[position + 1][1], log[position + 1][2]
            forms = {
                "redirect": f">{escape(following)}</Redirect>",
                "action": f'action="{escape(following)}"',
            }
            # Twilio takes an answer (keys, speech, a <Pay> result, a dialed call) to the
            # action; it follows a <Redirect> at once.
            answered = any(
                key in next_params for key in ("Digits", "SpeechResult", "Result", "DialCallStatus")
            )
            for form in ("action", "redirect") if answered else ("redirect", "action"):
                if forms[form] in answer:
                    follow = form
                    break
        steps.append(Step(method, path, params, after_caller, follow))
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
        requests.append(_request(step, params))
    # Each request's answer is checked for the URL of the request after it.
    for position, step in enumerate(template.steps[:-1]):
        if step.follow is not None:
            expect, leads = _expect(step.follow, template.steps[position + 1].path)
            requests[position] = replace(requests[position], expect=expect, leads=leads)
    return PreparedCall(template.name, tuple(requests))


def _token_split(path: str) -> tuple[str, str, str] | None:
    """(the path up to its token's value, the token, the rest), or None without a token."""
    base, mark, query = path.partition("?")
    if not mark:
        return None
    pairs = query.split("&")
    for index, pair in enumerate(pairs):
        name, _, value = pair.partition("=")
        if name == TOKEN:
            start = base + "?" + "".join(f"{p}&" for p in pairs[:index]) + f"{TOKEN}="
            return start, value, "".join(f"&{p}" for p in pairs[index + 1 :])
    return None


def _route(path: str) -> str:
    split = _token_split(path)
    if split is None:
        return path
    start, _token, end = split
    return (start[: -len(TOKEN) - 1] + end.lstrip("&")).rstrip("?&")


def _expect(form: str, following: str) -> tuple[re.Pattern[bytes], str]:
    """The pattern an answer must match to send the call on to `following` (any token)."""
    split = _token_split(following)
    if split is None:
        url = re.escape(escape(following).encode())
        group = b"()"  # no token to take: the next request is sent as prepared
    else:
        start, _token, end = split
        url = re.escape(escape(start).encode()) + b'([^"<&]+)' + re.escape(escape(end).encode())
        group = b""
    if form == "redirect":
        pattern = b">" + url + group + b"</Redirect>"
    else:
        pattern = b'action="' + url + group + b'"'
    route = _route(following)
    where = f"<Redirect>{route}" if form == "redirect" else f'action="{route}"'
    return re.compile(pattern), where


def _request(step: Step, params: dict[str, str]) -> Request:
    url = PUBLIC_BASE_URL + step.path
    body = urlencode(params).encode()
    signature = sign(AUTH_TOKEN, url, params)
    start = f"{step.method} {step.path} HTTP/1.1\r\nHost: bench.example.test\r\n"
    start += f"{SIGNATURE_HEADER}: "
    end = (
        "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    data = start.encode() + signature.encode() + end
    splice = None
    split = _token_split(step.path)
    if split is not None:
        path_start, token, path_end = split
        # What the signature covers after the URL: each parameter's name and value, sorted.
        signed = "".join(f"{name}{params[name]}" for name in sorted(params)).encode()
        splice = _Splice(
            start=f"{step.method} {path_start}".encode(),
            middle=(
                f"{path_end} HTTP/1.1\r\nHost: bench.example.test\r\n{SIGNATURE_HEADER}: "
            ).encode(),
            end=end,
            url_start=(PUBLIC_BASE_URL + path_start).encode(),
            url_end=path_end.encode() + signed,
        )
        if splice.wire(token.encode()) != data:
            raise RuntimeError(f"{step.path}: spliced request differs from the signed one")
    return Request(_route(step.path), data, step.after_caller, None, None, splice)


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
