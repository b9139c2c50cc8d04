"""Caller time: how long a member spends on the phone to pay, measured in spoken audio.

Each call runs through the virtual Twilio. Every sentence the caller hears (each <Say>,
<Pay> prompts included, in its language, say-as digits read one by one) is synthesised
with espeak-ng at 160 words a minute and its WAV length read. To that: 0.8 s to react
before each answer, 0.5 s per key and 0.3 s per webhook. Two callers: one listens to every
prompt, one presses as soon as the sentence naming their option (or asking for their
entry) has been spoken. The clock stops when the confirmation number has been heard.

Targets (English, pressing early): a new card within 75 s, a saved method within 40 s.
Vendors quote 2 to 4 minutes for an IVR card payment: that is the baseline. The "today"
columns apply the earlier word-count estimate (150 words a minute, 1 s to react, 0.3 s a
key) to the same calls. Without espeak-ng the benchmark says how to install it and skips.
"""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from bench import _speech
from billing_core.adapters.db import make_engine
from billing_core.adapters.migrate import upgrade as migrate
from billing_core.domain.clock import ManualClock
from ivr import create_app
from ivr_sim import VirtualTwilio
from ivr_sim.call import Call
from ivr_sim.timing import speaking_seconds
from ivr_sim.twiml import render_ssml
from tests.members import add_member

NCAL = "+18773659900"
TARGETS = {"new card": 75.0, "saved card": 40.0}
VENDOR_BASELINE = (120.0, 240.0)
CONFIRMATION = re.compile(r"confirmation number is|número de confirmación es", re.IGNORECASE)
ENTRY = r"\b(enter|ingrese)\b"
CARD = {
    "payment-card-number": "4242424242424242",
    "expiration-date": "1230",
    "security-code": "123",
    "postal-code": "94612",
}
BANK = {"bank-routing-number": "110000000", "bank-account-number": "000123456789"}


@dataclass(frozen=True)
class Pace:
    """The caller's and the line's fixed costs, in seconds."""

    react: float = 0.8
    key: float = 0.5
    webhook: float = 0.3


TODAY_PACE = Pace(react=1.0, key=0.3, webhook=0.0)


@dataclass(frozen=True)
class Sentence:
    """One sentence the caller hears, as spoken, in an espeak-ng voice."""

    text: str
    voice: str
    pause: float = 0.0  # SSML breaks in it


@dataclass(frozen=True)
class Step:
    """What the caller hears before acting, what they press, the webhooks it waited on.

    `cue` is the index of the sentence naming the caller's option: a caller pressing early
    stops listening after it. None: they need every sentence. The last step has no keys:
    its sentences end with the confirmation number.
    """

    heard: tuple[Sentence, ...]
    keys: int
    webhooks: int
    cue: int | None = None


def step_seconds(
    step: Step, seconds: Callable[[Sentence], float], pace: Pace, *, early: bool
) -> float:
    """Return the seconds one step takes: audio, reacting, keys and webhooks."""
    heard = step.heard
    if early and step.cue is not None:
        heard = heard[: step.cue + 1]
    audio = sum(seconds(sentence) + sentence.pause for sentence in heard)
    acting = pace.react + pace.key * step.keys if step.keys else 0.0
    return step.webhooks * pace.webhook + audio + acting


def caller_seconds(
    steps: Iterable[Step], seconds: Callable[[Sentence], float], pace: Pace, *, early: bool
) -> float:
    """Return a caller's seconds from dialling to the end of the last step."""
    return sum(step_seconds(step, seconds, pace, early=early) for step in steps)


class Listener:
    """Drive a virtual call and write down, step by step, what the caller heard and did."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.steps: list[Step] = []
        self._spoken: dict[str, tuple[str, str, float]] = {}
        self._voice = "en-us"
        self._seen = 0

    def press(self, keys: str, cue: int | str | None = None) -> None:
        """Press `keys` after the prompt; `cue`: the sentence naming them (index or pattern)."""
        heard = self.heard()
        index = cue if isinstance(cue, int) else None
        if isinstance(cue, str):
            index = next(
                (i for i, s in enumerate(heard) if re.search(cue, s.text, re.IGNORECASE)), None
            )
            if index is None:
                raise AssertionError(f"no sentence matches {cue!r} in {heard}")
        self.steps.append(Step(tuple(heard), len(keys), self._webhooks(), index))
        self.call.press(keys)

    def pay(self, values: dict[str, str]) -> None:
        """Type each field the waiting <Pay> asks for, as its prompt asks, then #."""
        while (field := getattr(self.call.waiting, "field", None)) is not None:
            self.press(values[field] + "#", cue=ENTRY)

    def finish(self) -> None:
        """End the caller's time at the sentence giving the confirmation number."""
        heard = self.heard()
        end = next(i for i, s in enumerate(heard) if CONFIRMATION.search(s.text))
        self.steps.append(Step(tuple(heard[: end + 1]), 0, self._webhooks()))

    def _webhooks(self) -> int:
        # Requests the caller waited on: the ones answered with TwiML, not status callbacks.
        turns = self.call.transcript
        new = turns[self._seen :]
        self._seen = len(turns)
        for turn in new:
            self._learn(turn.twiml)
        return sum("<Response" in turn.twiml for turn in new)

    def _learn(self, twiml: str) -> None:
        # The heard text has say-as flattened; the TwiML keeps it, and each <Say>'s language.
        try:
            root = ET.fromstring(twiml)
        except ET.ParseError:
            return
        for say in root.iter("Say"):
            voice = _speech.espeak_voice(say.get("language"))
            written = render_ssml(say)[0]
            spoken, breaks = _speech.render_say(say, voice)
            self._spoken[written] = (spoken, voice, breaks)

    def heard(self) -> list[Sentence]:
        """Return the sentences heard since the caller last acted."""
        self._learn_new()
        heard: list[Sentence] = []
        for line in self.call.heard_since_input:
            spoken, voice, breaks = self._spoken.get(
                line, (_speech.speakable(line, self._voice), self._voice, 0.0)
            )
            self._voice = voice
            parts = _speech.sentences(spoken)
            for i, part in enumerate(parts):
                heard.append(Sentence(part, voice, breaks if i == len(parts) - 1 else 0.0))
        return heard

    def _learn_new(self) -> None:
        for turn in self.call.transcript[self._seen :]:
            self._learn(turn.twiml)


def _app(folder: Path):
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    migrate(url)
    clock = ManualClock(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    app = create_app(
        {
            "TESTING": True,
            "ENGINE": make_engine(url),
            "CLOCK": clock,
            "IVR_PUBLIC_BASE_URL": "https://bench.example.test",
        }
    )
    core = app.extensions["billing"]
    add_member(
        core,
        mrn="10000001",
        birth_date=date(1980, 4, 12),
        first_name="Ana",
        bills=[("B-1", date(2026, 9, 14), "Oakland Medical Center", 25000, 0, date(2026, 12, 15))],
        premiums=[],
    )
    return app, clock


# What the caller listens for, most specific first: (pattern, keys). None as keys means the
# key the sentence names. Matching what is said, not a fixed key list, keeps the scenarios
# right when menus are reordered or a step is added or skipped.
KEY = re.compile(r"\b(?:press|oprima) (\d)\b", re.IGNORECASE)
IDENTIFY: tuple[tuple[str, str | None], ...] = (
    (r"medical record number|expediente médico", "10000001#"),
    (r"birth date|fecha de nacimiento", "04121980"),
)
AUTHORIZE = (r"\bto (pay now|authorize this payment)\b|\bpara (pagar ahora|autorizar)", None)
METHODS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "new card": ((r"credit or debit card|tarjeta de crédito", None),),
    "saved card": ((r"ending in|terminada en", None),),
    "bank": ((r"bank account|cuenta bancaria", None), (r"checking|cheques", None)),
}
FULL = (r"\b(full|total)\b", None)
PAY = (r"make a payment|hacer un pago", None)
# A sentence offering to pay (such as a snapshot's "To pay it now, press 1") that is not
# another amount, a later date or another way to pay.
OTHER_WAYS = re.compile(r"another|later|mail|otro|posterior|correo", re.IGNORECASE)
# What a bank payer passes over: an offer to pay by card.
CARD_OFFER = re.compile(r"\bcard\b|tarjeta", re.IGNORECASE)
MAIN_MENU = re.compile(r"main menu|menú principal", re.IGNORECASE)
MAX_STEPS = 40


def choose(
    heard: Sequence[Sentence],
    wants: Sequence[tuple[str, str | None]],
    avoid: re.Pattern[str] | None = None,
) -> tuple[str, int] | None:
    """Return the keys the caller presses and the index of the sentence that asks for them."""
    for pattern, keys in wants:
        for index, sentence in enumerate(heard):
            if not re.search(pattern, sentence.text, re.IGNORECASE):
                continue
            if keys is not None:
                return keys, index
            named = KEY.search(sentence.text)
            if named is not None:
                return named.group(1), index
    for index, sentence in enumerate(heard):
        named = KEY.search(sentence.text)
        offers = re.search(r"\b(pay|pagar)\b", sentence.text, re.IGNORECASE)
        if named and offers and not OTHER_WAYS.search(sentence.text):
            if avoid is None or not avoid.search(sentence.text):
                return named.group(1), index
    for index, sentence in enumerate(heard):
        # Offered nothing the caller wants here: the main menu has it.
        named = KEY.search(sentence.text)
        if named and MAIN_MENU.search(sentence.text):
            return named.group(1), index
    return None


def pay_in_full(
    twilio: VirtualTwilio, *, method: str, spanish: bool = False, relay: bool = False
) -> list[Step]:
    """Pay the full balance with `method` ("new card", "saved card" or "bank"); return steps."""
    listener = Listener(twilio.call(to=NCAL, from_="+14155550123"))
    greeting: list[tuple[str, str | None]] = []
    if spanish:
        greeting.append((r"para español", None))
    if relay:
        greeting.append((r"for relay", None))
    fields = BANK if method == "bank" else CARD
    while len(listener.steps) < MAX_STEPS:
        if getattr(listener.call.waiting, "field", None) is not None:
            listener.pay(fields)
            continue
        heard = listener.heard()
        if any(CONFIRMATION.search(sentence.text) for sentence in heard):
            break
        wants = [*greeting, *IDENTIFY, AUTHORIZE, *METHODS[method], FULL, PAY]
        chosen = choose(heard, wants, avoid=CARD_OFFER if method == "bank" else None)
        if chosen is None:
            raise RuntimeError(f"{method}: nothing to press in {[s.text for s in heard]}")
        keys, index = chosen
        if (
            greeting
            and index < len(heard)
            and re.search(greeting[0][0], heard[index].text, re.IGNORECASE)
        ):
            greeting.pop(0)
        listener.press(keys, cue=index)
    else:
        raise RuntimeError(f"{method}: no confirmation number after {MAX_STEPS} steps")
    listener.finish()
    if method == "new card" and not (spanish or relay):
        listener.call.press("2")  # save the card for the saved-card call
    listener.call.hang_up()
    return listener.steps


def _reset(app, *, forget_cards: bool) -> None:
    """Put the bill back to unpaid (and forget saved methods) so each run pays the same."""
    from billing_core.adapters.models import MedicalBill, SavedPaymentMethod

    with app.extensions["billing"].unit_of_work() as uow:
        for bill in uow.session.query(MedicalBill):
            bill.paid_cents = 0
        if forget_cards:
            uow.session.query(SavedPaymentMethod).delete()
        uow.commit()


SCENARIOS: tuple[tuple[str, dict[str, object]], ...] = (
    ("new card", {"method": "new card"}),
    ("saved card", {"method": "saved card"}),
    ("bank", {"method": "bank"}),
    ("Spanish, new card", {"method": "new card", "spanish": True}),
    ("relay, new card", {"method": "new card", "relay": True}),
    ("new card, ZIP asked", {"method": "new card"}),
)
# Scenarios run with a setting changed: a gateway that verifies the ZIP code (Stripe's
# default here) makes <Pay> ask for it.
SETTINGS: dict[str, dict[str, object]] = {"new card, ZIP asked": {"IVR_PAY_POSTAL_CODE": True}}


def record_calls() -> list[tuple[str, list[Step]]]:
    """Run every scenario through the virtual Twilio; return each one's steps."""
    calls = []
    with tempfile.TemporaryDirectory() as folder:
        app, clock = _app(Path(folder))
        with VirtualTwilio.for_app(app, clock=clock) as twilio:
            for name, options in SCENARIOS:
                changed = SETTINGS.get(name, {})
                saved = {key: app.config[key] for key in changed}
                app.config.update(changed)
                try:
                    calls.append((name, pay_in_full(twilio, **options)))  # type: ignore[arg-type]
                finally:
                    app.config.update(saved)
                _reset(app, forget_cards=name != "new card")
    return calls


def word_count_seconds(sentence: Sentence) -> float:
    """Return the earlier estimate of a sentence's length: words at 150 a minute."""
    return speaking_seconds(sentence.text)


def table(
    calls: Sequence[tuple[str, list[Step]]], seconds: Callable[[Sentence], float]
) -> list[str]:
    """Return the printed rows: measured, today's estimate, target and baseline."""
    low, high = VENDOR_BASELINE
    lines = [
        f"{'scenario':<19}{'listens':>9}{'early':>8}{'today':>15}{'target':>8}"
        f"{'vendors':>10}{'answers':>9}{'keys':>6}",
        f"{'':<19}{'(s)':>9}{'(s)':>8}{'listens/early':>15}{'early':>8}{'(s)':>10}",
    ]
    for name, steps in calls:
        listens = caller_seconds(steps, seconds, Pace(), early=False)
        early = caller_seconds(steps, seconds, Pace(), early=True)
        old_listens = caller_seconds(steps, word_count_seconds, TODAY_PACE, early=False)
        old_early = caller_seconds(steps, word_count_seconds, TODAY_PACE, early=True)
        target = TARGETS.get(name)
        shown_target = f"{target:.0f}" if target is not None else "-"
        answers = sum(1 for step in steps if step.keys)
        keys = sum(step.keys for step in steps)
        lines.append(
            f"{name:<19}{listens:>9.1f}{early:>8.1f}{old_listens:>8.1f}/{old_early:<6.1f}"
            f"{shown_target:>8}{low:>6.0f}-{high:.0f}{answers:>9}{keys:>6}"
        )
    return lines


def main() -> None:
    if not _speech.available():
        print(f"caller_time: skipped: {_speech.ESPEAK} is not on PATH; install it with")
        print(f"  {_speech.INSTALL_HINT}")
        return
    calls = record_calls()
    synthesiser = _speech.Synthesiser()
    try:
        rows = table(calls, lambda s: synthesiser.seconds(s.text, s.voice))
        count = synthesiser.synthesised
    finally:
        synthesiser.close()
    print("Caller time, full-balance payment, dial to hearing the confirmation number")
    print(
        f"(espeak-ng at {_speech.WORDS_PER_MINUTE} words/min, {count} sentences synthesised; "
        f"{Pace.react} s to react, {Pace.key} s a key, {Pace.webhook} s a webhook; "
        "today: 150 words/min, 1 s, 0.3 s a key)"
    )
    for line in rows:
        print(line)


if __name__ == "__main__":
    main()
