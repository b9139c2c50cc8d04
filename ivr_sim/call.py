"""One virtual phone call, played against the voice app as Twilio would play it."""

from __future__ import annotations

import textwrap
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol
from urllib.parse import urljoin

from ivr_sim.errors import CallEnded, SimError, TwimlError
from ivr_sim.ids import new_sid
from ivr_sim.timing import speaking_seconds
from ivr_sim.transport import Transport
from ivr_sim.twiml import VERB_PARSERS, Dial, Verb, VerbParser, parse_twiml

API_VERSION = "2010-04-01"
# A flow that needs this many requests without hearing from the caller is looping.
MAX_REQUESTS_WITHOUT_INPUT = 50
VALID_KEYS = frozenset("0123456789*#")
# Parameters that are the same on every request: left out of the readable call log.
_IDENTITY_PARAMS = frozenset(
    {"CallSid", "AccountSid", "From", "To", "Called", "Caller", "Direction", "ApiVersion"}
)
_BODY_SHOWN = 2000


class Turn(NamedTuple):
    """One webhook request: its path, the parameters posted, the body answered, when."""

    path: str
    params: dict[str, str]
    twiml: str
    at: float


class PromptHeard(NamedTuple):
    """One <Pay> prompt the caller heard, and whether the app supplied it or Twilio did."""

    step: str
    attempt: int
    error_type: str | None
    card_type: str | None
    text: str
    built_in: bool


class AdvancingClock(Protocol):
    """A clock the call moves forward as virtual time passes, such as ManualClock."""

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, for a negative number) by `seconds`."""
        ...


class InputTarget(Protocol):
    """Whatever waits for the caller's input: a <Gather> (GatherState) or a <Pay> (PayField).

    A target may also have take_hang_up(call), run when the caller hangs up on it.
    """

    timeout: float
    barge_in: bool
    prompt_started: float
    prompt_ended: float

    def accepts(self, kind: str) -> bool:
        """Tell whether it listens for `kind` input ("dtmf" or "speech")."""
        ...

    def take_digits(self, call: Call, keys: str) -> None:
        """Receive keys typed from the call's current time on."""
        ...

    def take_speech(self, call: Call, text: str, confidence: float) -> None:
        """Receive speech starting at the call's current time."""
        ...

    def take_nothing(self, call: Call) -> None:
        """Finish without input after the timeout."""
        ...


# How long Twilio waits for a webhook's answer before giving up on it (error 11205).
WEBHOOK_DEADLINE_SECONDS = 15.0


class Call:
    """A call from a virtual caller; drive it with press, say, silence and hang_up."""

    def __init__(
        self,
        transport: Transport,
        *,
        to: str,
        from_: str,
        voice_path: str,
        status_path: str | None,
        account_sid: str,
        fallback_path: str | None = None,
        clock: AdvancingClock | None = None,
        verb_handlers: Mapping[str, VerbHandler] | None = None,
        verb_parsers: Mapping[str, VerbParser] | None = None,
    ) -> None:
        self.call_sid = new_sid("CA")
        self.account_sid = account_sid
        self.to = to
        self.from_ = from_
        self.voice_path = voice_path
        self.status_path = status_path
        # The number's Fallback URL: what Twilio requests when a webhook fails.
        self.fallback_path = fallback_path
        # Set to play the app (or its load balancer) failing the next request: HTTP 502.
        self.fail_next_request = False
        self.clock = clock
        # What a <Dial> reports: set before the Dial runs to play a busy or absent party.
        self.dial_outcome = "completed"
        self.dial_duration = 30.0
        self.dialed: list[str] = []
        # Set to play a <Pay> whose connector cannot be reached: payment-connector-error.
        self.pay_connector_down = False
        self.pay_reports_card_type = True
        # Every <Pay> prompt heard, marked when it was Twilio's built-in one, not the app's.
        self.pay_prompts: list[PromptHeard] = []
        # The <Parameter name value> children of each <Pay> run, as its connector got them.
        self.pay_parameters: list[dict[str, str]] = []
        self.ended = False
        self.end_reason: str | None = None
        self.max_requests_without_input = MAX_REQUESTS_WITHOUT_INPUT
        self._transport = transport
        self._handlers: dict[str, VerbHandler] = dict(VERB_HANDLERS)
        self._handlers.update(verb_handlers or {})
        self._parsers: dict[str, VerbParser] = dict(VERB_PARSERS)
        self._parsers.update(verb_parsers or {})
        self._time = 0.0
        self._heard: list[str] = []
        self._heard_languages: list[str] = []
        self._input_mark = 0
        self._transcript: list[Turn] = []
        self._log: list[str] = []
        self._queue: deque[Verb] = deque()
        self._last_verb: Verb | None = None
        self._document_url: str | None = None
        self._waiting: InputTarget | None = None
        self._started = False
        self._requested = False
        self.picked_up = False
        self._status_posted = False
        self._requests_since_input = 0

    # -- what a test reads -------------------------------------------------------------

    @property
    def heard(self) -> list[str]:
        """Every line spoken to the caller, in order, over the whole call."""
        return list(self._heard)

    @property
    def heard_languages(self) -> list[str]:
        """The language each line of `heard` was spoken in (<Say language>, en-US unset)."""
        return list(self._heard_languages)

    @property
    def heard_since_input(self) -> list[str]:
        """Lines spoken since the caller's last press, say, silence or hang-up."""
        return self._heard[self._input_mark :]

    @property
    def text_since_input(self) -> str:
        """The lines spoken since the caller's last input, joined with spaces."""
        return " ".join(self.heard_since_input)

    @property
    def transcript(self) -> list[Turn]:
        """Every request made to the app, status callback included, in order."""
        return list(self._transcript)

    @property
    def waiting(self) -> InputTarget | None:
        """What waits for the caller (a GatherState, or a PayField during <Pay>), or None."""
        return self._waiting

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the call started."""
        # Rounded so sums of tenths read as tenths; the clock gets the exact amounts.
        return round(self._time, 6)

    @property
    def document_url(self) -> str:
        """The absolute URL of the TwiML document now running."""
        return self._document_url or self._transport.public_url(self.voice_path)

    # -- what the caller does ----------------------------------------------------------

    def start(self) -> None:
        """Post the voice webhook and run until a Gather waits or the call ends."""
        if self._started:
            raise SimError("this call has already started")
        self._started = True
        self.note(f"call from {self.from_} to {self.to}")
        self.fetch(self._transport.public_url(self.voice_path))
        self._run()

    def press(self, keys: str, delay: float = 1.0) -> None:
        """Type `keys` starting `delay` seconds after the waiting prompt finished."""
        if not keys or not set(keys) <= VALID_KEYS:
            raise ValueError(f"keys must be made of 0-9, * and #, not {keys!r}")
        self._give("dtmf", delay, f"presses {keys}", lambda target: target.take_digits(self, keys))

    def say(self, text: str, delay: float = 1.0, confidence: float = 0.9) -> None:
        """Speak `text` starting `delay` seconds after the waiting prompt finished."""
        if not text.strip():
            raise ValueError("say() needs words; use silence() for a caller who says nothing")
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
        self._give(
            "speech",
            delay,
            f'says "{text}"',
            lambda target: target.take_speech(self, text, confidence),
        )

    def silence(self) -> None:
        """Say nothing: the waiting Gather times out."""
        target = self._begin_input("stays silent")
        self._time_out(target)
        self._run()

    def hang_up(self) -> None:
        """Hang up; a <Pay> reports it to its action URL, then the status callback is posted."""
        self._check_live()
        self._mark_input("hangs up")
        target, self._waiting = self._waiting, None
        take_hang_up: Callable[[Call], None] | None = getattr(target, "take_hang_up", None)
        try:
            if take_hang_up is not None:
                take_hang_up(self)
        finally:
            self.end("caller-hung-up")

    def pay_card(
        self,
        number: str,
        expiry: str = "1230",
        cvc: str = "123",
        postal: str = "94612",
        delay: float = 1.0,
    ) -> None:
        """Type a card into the waiting <Pay>: each field it asks for, in order, then #."""
        values = {
            "payment-card-number": number.replace(" ", "").replace("-", ""),
            "expiration-date": expiry,
            "security-code": cvc,
            "postal-code": postal,
        }
        self._type_into_pay(values, delay, "pay_card")

    def pay_bank(self, routing: str, account: str, delay: float = 1.0) -> None:
        """Type a bank account into the waiting <Pay>: routing number, account number, #."""
        values = {"bank-routing-number": routing, "bank-account-number": account}
        self._type_into_pay(values, delay, "pay_bank")

    def _type_into_pay(self, values: Mapping[str, str], delay: float, what: str) -> None:
        if self.ended:
            raise CallEnded(f"the call has ended ({self.end_reason}); the caller cannot act")
        type_fields = getattr(self._waiting, "type_fields", None)
        if type_fields is None:
            raise SimError(f"{what} needs a <Pay> waiting for the caller; nothing is")
        type_fields(self, values, delay, what)

    # -- what verb handlers use --------------------------------------------------------

    def run_verb(self, verb: Verb) -> None:
        """Run one verb through its registered handler."""
        handler = self._handlers.get(verb.name)
        if handler is None:
            raise self._error(f"<{verb.name}> has no handler: the virtual Twilio cannot run it")
        if verb.name != "Reject":
            # Twilio answers the call when it runs its first verb other than <Reject>.
            self.picked_up = True
        handler(self, verb)

    def speak(self, text: str, extra_seconds: float = 0.0, language: str | None = None) -> None:
        """Say `text` to the caller, taking the time it takes to speak."""
        if text:
            self._heard.append(text)
            # Twilio's <Say> speaks en-US when no language is given.
            self._heard_languages.append(language or "en-US")
            self.note(f'caller hears "{text}"')
        self.advance(speaking_seconds(text) + extra_seconds)

    def advance(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass, moving the clock along."""
        if seconds > 0:
            self._move_to(self._time + seconds)

    def wait_for(self, target: InputTarget | None) -> None:
        """Stop running verbs until the caller gives input to `target`; None stops waiting."""
        self._waiting = target

    def resolve(self, url: str) -> str:
        """Resolve a URL from TwiML against the current document, as Twilio does."""
        return urljoin(self.document_url, url.strip())

    def fetch(
        self, url: str, method: str = "POST", params: Mapping[str, str] | None = None
    ) -> None:
        """Request the next TwiML document; its verbs replace the rest of the current one."""
        absolute = self.resolve(url)
        self._requests_since_input += 1
        if self._requests_since_input > self.max_requests_without_input:
            raise self._error(
                f"{self.max_requests_without_input} requests without any input from the "
                f"caller: is a <Redirect> looping? Next would be {method} {absolute}"
            )
        sent = self._params(params or {})
        status, body = self._send(method, absolute, sent)
        self._requested = True
        if status != 200 and self.fallback_path is not None:
            # Twilio's error 11200 (HTTP retrieval failure): it asks the Fallback URL instead,
            # with the call's parameters and what failed.
            failed = {**sent, "ErrorCode": "11200", "ErrorUrl": absolute}
            absolute = self.resolve(self.fallback_path)
            status, body = self._send("POST", absolute, failed)
            sent = failed
        if status != 200:
            raise self._error(f"{method} {absolute} answered HTTP {status}", sent, body)
        try:
            verbs = parse_twiml(body, self._parsers)
        except TwimlError as exc:
            raise self._error(
                f"{method} {absolute} answered TwiML Twilio would not run: {exc}", sent, body
            ) from None
        self._document_url = absolute
        self._queue = deque(verbs)

    def notify(
        self,
        url: str,
        params: Mapping[str, str],
        method: str = "POST",
        *,
        call_params: bool = True,
    ) -> None:
        """Tell the app something (a <Pay> statusCallback, say): its answer is checked, not run."""
        absolute = self.resolve(url)
        sent = self._params(params) if call_params else dict(params)
        status, body = self._send(method, absolute, sent)
        if not 200 <= status < 300:
            raise self._error(f"{method} {absolute} answered HTTP {status}", sent, body)

    def end(self, reason: str, status: str = "completed") -> None:
        """End the call for `reason` and post the status callback once."""
        if self.ended:
            return
        self.ended = True
        self.end_reason = reason
        self._waiting = None
        self._queue.clear()
        self.note(f"call ends: {reason}")
        try:
            self._post_status(status)
        finally:
            self._transport.close()

    def note(self, text: str) -> None:
        """Add a line to the readable call log that errors show."""
        self._log.append(f"[{self._time:7.1f}s] {text}")

    # -- inner workings ----------------------------------------------------------------

    def _run(self) -> None:
        # Verbs run until one waits for the caller or the call ends.
        while not self.ended and self._waiting is None:
            if not self._queue:
                last = self._last_verb
                after_dial = isinstance(last, Dial) and last.action is None
                self.end("dial" if after_dial else "completed")
                return
            verb = self._queue.popleft()
            self._last_verb = verb
            self.run_verb(verb)

    def _give(
        self, kind: str, delay: float, description: str, deliver: Callable[[InputTarget], None]
    ) -> None:
        target = self._begin_input(f"{description}, {delay:g}s after the prompt")
        remaining = delay
        while True:
            if target.accepts(kind) and remaining <= target.timeout:
                self._waiting = None
                self._move_to(self._arrival(target, remaining))
                deliver(target)
                self._run()
                return
            # The caller is still silent when the timeout runs out, or speaks in a way this
            # Gather does not listen for: it ends empty and the flow moves on without them.
            prompt_ended = target.prompt_ended
            self._time_out(target)
            self._run()
            following = self._waiting
            if self.ended or following is None or not target.accepts(kind):
                return
            # The delay counted from the old prompt's end; count it from the new one's.
            remaining -= self._time - prompt_ended
            target = following

    @staticmethod
    def _arrival(target: InputTarget, remaining: float) -> float:
        # A negative remaining delay means the caller cut into the prompt (barge-in),
        # which can start no earlier than the prompt itself.
        if remaining >= 0:
            return target.prompt_ended + remaining
        if not target.barge_in:
            return target.prompt_ended
        return max(target.prompt_started, target.prompt_ended + remaining)

    def _time_out(self, target: InputTarget) -> None:
        self._waiting = None
        self._move_to(target.prompt_ended + target.timeout)
        self.note("the caller's time to answer runs out")
        target.take_nothing(self)

    def _begin_input(self, description: str) -> InputTarget:
        self._check_live()
        if self._waiting is None:
            raise SimError("nothing on the call is waiting for the caller's input")
        target = self._waiting
        self._mark_input(description)
        return target

    def _check_live(self) -> None:
        if self.ended:
            raise CallEnded(f"the call has ended ({self.end_reason}); the caller cannot act")

    def _mark_input(self, description: str) -> None:
        self._input_mark = len(self._heard)
        self._requests_since_input = 0
        self.note(f"caller {description}")

    def _move_to(self, when: float) -> None:
        # The only way virtual time changes, so the app's clock always agrees with it.
        delta = when - self._time
        self._time = when
        if self.clock is not None and delta:
            self.clock.advance(delta)

    def _params(self, extra: Mapping[str, str]) -> dict[str, str]:
        params = {
            "CallSid": self.call_sid,
            "AccountSid": self.account_sid,
            "From": self.from_,
            "To": self.to,
            "Called": self.to,
            "Caller": self.from_,
            "Direction": "inbound",
            "CallStatus": "in-progress" if self._requested else "ringing",
            "ApiVersion": API_VERSION,
        }
        params.update(extra)
        return params

    def _send(self, method: str, url: str, params: dict[str, str]) -> tuple[int, str]:
        path = self._transport.path_of(url)
        shown = " ".join(f"{k}={v}" for k, v in params.items() if k not in _IDENTITY_PARAMS)
        self.note(f"{method} {path} {shown}".rstrip())
        if self.fail_next_request:
            self.fail_next_request = False
            self.note("  -> HTTP 502 (the app did not answer)")
            return 502, ""
        started = time.monotonic()
        try:
            status, body = self._transport.send(method, url, params)
        except Exception as exc:
            raise self._error(f"{method} {url} failed: {exc!r}", params) from exc
        self._transcript.append(Turn(path, dict(params), body, self.elapsed))
        if time.monotonic() - started > WEBHOOK_DEADLINE_SECONDS:
            # Twilio stops waiting after 15 seconds: whatever came later is never played.
            self.note(f"  -> no answer within {WEBHOOK_DEADLINE_SECONDS} s")
            return 504, ""
        self.note(f"  -> HTTP {status}")
        return status, body

    def _post_status(self, status: str) -> None:
        if self._status_posted or self.status_path is None:
            return
        self._status_posted = True
        params = self._params({})
        params["CallStatus"] = status
        # A call that was never picked up (rejected) lasted no time at all.
        params["CallDuration"] = str(int(self._time + 0.5) if self.picked_up else 0)
        url = self._transport.public_url(self.status_path)
        code, body = self._send("POST", url, params)
        if not 200 <= code < 300:
            raise self._error(f"status callback POST {url} answered HTTP {code}", params, body)

    def _error(
        self, problem: str, params: Mapping[str, str] | None = None, body: str | None = None
    ) -> SimError:
        parts = [problem]
        if params is not None:
            parts.append("Parameters: " + ", ".join(f"{k}={v}" for k, v in params.items()))
        if body is not None:
            shown = body if len(body) <= _BODY_SHOWN else body[:_BODY_SHOWN] + " ..."
            parts.append("Response body:\n" + textwrap.indent(shown or "(empty)", "  "))
        parts.append("Call so far:\n" + "\n".join("  " + line for line in self._log))
        return SimError("\n".join(parts))

    def __repr__(self) -> str:
        state = f"ended: {self.end_reason}" if self.ended else "live"
        return f"<Call {self.call_sid} {self.from_} -> {self.to}, {state}, {self._time:.1f}s>"


# A handler runs one verb on the call. It may speak, let time pass, fetch the next document,
# end the call, or leave the call waiting for the caller (Call.wait_for).
VerbHandler = Callable[["Call", Any], None]
# The handler of each verb a call runs; ivr_sim.handlers and ivr_sim.pay register theirs.
VERB_HANDLERS: dict[str, VerbHandler] = {}
