"""What the caller did on a recorded call, worked out from the requests the app received."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from billing_core.adapters.gateways.sandbox import (
    TEST_BANK_ACCOUNTS,
    TEST_CARDS,
    TEST_ROUTING_NUMBER,
)
from ivr.recording import REDACTED
from ivr_sim.errors import TwimlError
from ivr_sim.recorded.reading import RecordedTurn, Recording
from ivr_sim.script import STATUS_PATH
from ivr_sim.twiml import Dial, Gather, Hangup, Redirect, parse_twiml

if TYPE_CHECKING:
    from billing_core.adapters.feed import MemberRecord
    from billing_core.domain.identity import IdentityHasher

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass
class DerivedStep:
    """A step worked out from a recording, with a note for the script's reader."""

    action: str
    value: Any = None
    note: str | None = None


class Identities:
    """Puts identification entries back from the members a script will have on file."""

    def __init__(self, members: Iterable[MemberRecord], hasher: IdentityHasher) -> None:
        self.by_digest = {hasher.mrn(member.mrn): member for member in members}
        self.member: MemberRecord | None = None

    def keys(self, note: Mapping[str, Any]) -> tuple[str, str]:
        """Return the keys to enter for a redacted entry, and a note saying what they are."""
        field_name = note.get("field")
        shape = str(note.get("shape", ""))
        if field_name == "mrn":
            if note.get("outcome") == "invalid":
                self.member = None
                return "12", "an incomplete MRN, as the caller entered (the entry is redacted)"
            member = self.by_digest.get(note.get("mrn_digest", ""))
            self.member = member
            if member is not None:
                return member.mrn, f"the MRN of {member.first_name} {member.last_name}"
            return "9" * max(len(shape), 8), (
                "an MRN no member here has: FILL IN if the caller was a member on file"
            )
        if field_name == "birth_date":
            outcome = note.get("outcome")
            member = self.member
            if outcome == "identified" and member is not None:
                return member.birth_date.strftime("%m%d%Y"), f"{member.first_name}'s birth date"
            if outcome == "identified":
                return "01011970", "FILL IN: the birth date of the member who called"
            if outcome == "not-matched":
                wrong = "01011970"
                if member is not None and member.birth_date.strftime("%m%d%Y") == wrong:
                    wrong = "01021970"
                return wrong, "a birth date that does not match, as on the recorded call"
            return "99999999", "not a date, as the caller entered (the entry is redacted)"
        return shape or "9", "a redacted entry, in its shape"


def waits_for(twiml: str) -> tuple[str, Any]:
    """What a TwiML document leaves the call waiting for: gather, pay, dial, or nothing."""
    try:
        verbs = parse_twiml(twiml)
    except TwimlError:
        return "end", None
    for verb in verbs:
        if isinstance(verb, Gather):
            return "gather", verb
        if verb.name == "Pay":
            return "pay", verb
        if isinstance(verb, Dial):
            return ("dial", verb) if verb.action else ("end", verb)
        if isinstance(verb, Hangup):
            return "end", verb
        if isinstance(verb, Redirect):
            return "redirect", verb
    return "end", None


def _card_number(outcome: str | None, last4: str | None) -> str | None:
    for number, (_brand, card_outcome) in TEST_CARDS.items():
        if card_outcome == outcome and number.endswith(last4 or "-"):
            return number
    return None


def _bank_account(outcome: str | None, last4: str | None) -> str | None:
    for account, account_outcome in TEST_BANK_ACCOUNTS.items():
        if account_outcome == outcome and account.endswith(last4 or "-"):
            return account
    return None


def _pay_steps(turn: RecordedTurn, verb: Any, at: datetime) -> list[DerivedStep]:
    bank = getattr(verb, "payment_method", "credit-card") == "ach-debit"
    result = turn.params.get("Result", "")
    token = turn.redacted.get("PaymentToken", {})
    expiry = f"12{(at.year + 4) % 100:02d}"
    if bank:
        account = _bank_account(token.get("outcome"), token.get("last4"))
        entry: dict[str, Any] = {"bank": {"routing": TEST_ROUTING_NUMBER}}
        entry["bank"]["account"] = account or "000123456789"
        kind = getattr(verb, "bank_account_type", "")
        entry["bank"]["type"] = "savings" if "savings" in kind else "checking"
        found = account is not None
    else:
        number = _card_number(token.get("outcome"), token.get("last4"))
        card = number or "4242424242424242"
        entry = {"card": {"number": card, "expiry": expiry}}
        if card.startswith(("34", "37")):
            entry["card"]["cvc"] = "1234"
        found = number is not None
    if result == "success":
        note = None if found else "a test card or account standing in for the recorded one"
        return [DerivedStep("pay", entry, note)]
    if result == "caller-interrupted-with-star":
        return [DerivedStep("press", "*", "the caller cancels the entry with star")]
    if result == "caller-hung-up":
        return [DerivedStep("hang-up", None, "the caller hangs up during the entry")]
    if result == "too-many-failed-attempts":
        if bank:
            bad = {"bank": {"routing": "123456789", "account": "000123456789"}}
        else:
            bad = {"card": {"number": "4242424242424241", "expiry": expiry}}
        return [DerivedStep("pay", bad, "digits that fail every attempt, as on the recorded call")]
    if result in ("payment-connector-error", "internal-error"):
        return [
            DerivedStep("connector", "down", "the payment processor could not be reached"),
            DerivedStep("pay", entry),
            DerivedStep("connector", "up"),
        ]
    return [DerivedStep("pay", entry, f"the recorded <Pay> ended with {result or 'no result'}")]


def derive_steps(
    recording: Recording, identities: Identities
) -> tuple[list[DerivedStep], str | None]:
    """Work out what the caller did from the requests the app received."""
    steps: list[DerivedStep] = []
    call_dial_outcome: str | None = None
    last_input: int | None = None
    waits, verb = "redirect", None
    for index, turn in enumerate(recording.turns):
        if index == 0:
            waits, verb = waits_for(turn.twiml)
            continue
        if turn.bare_path == STATUS_PATH:
            if waits in ("gather", "pay"):
                steps.append(DerivedStep("hang-up"))
            waits, verb = "end", None
            continue
        if waits == "gather":
            last_input = len(steps)
            steps.append(_gather_step(turn, identities))
        elif waits == "pay":
            last_input = len(steps)
            steps.extend(_pay_steps(turn, verb, recording.started))
        elif waits == "dial":
            outcome = turn.params.get("DialCallStatus", "completed")
            if outcome not in ("completed", "answered"):
                if last_input is None:
                    call_dial_outcome = outcome
                else:
                    note = "the specialist's line does not take the call"
                    steps.insert(last_input, DerivedStep("dial_outcome", outcome, note))
                    last_input += 1
        waits, verb = waits_for(turn.twiml)
    return steps, call_dial_outcome


def _gather_step(turn: RecordedTurn, identities: Identities) -> DerivedStep:
    params = turn.params
    finished = params.get("FinishedOnKey", "")
    if "Digits" in params:
        keys, note = params["Digits"], None
        if keys == REDACTED:
            keys, note = identities.keys(turn.redacted.get("Digits", {}))
        keys += finished if finished in ("#", "*") else ""
        if not keys:
            return DerivedStep("silence", None, "an empty entry")
        return DerivedStep("press", keys, note)
    if "SpeechResult" in params:
        speech, note = params["SpeechResult"], None
        if speech == REDACTED:
            keys, note = identities.keys(turn.redacted.get("SpeechResult", {}))
            speech = " ".join(DIGIT_WORDS[int(d)] for d in keys if d.isdigit()) or "hello"
        return DerivedStep("say", speech, note)
    return DerivedStep("silence")
