"""Spoken requests at a menu: "I want to pay my premium" goes where the keys would.

A request heard for sure (ivr.intents) goes straight on; one guessed from a misheard word
is read back first ("Did you want to pay your premium? Press 1 or say yes."). Only once
the caller is identified: before that, speech is digits, language, relay and specialist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.commands import understood
from ivr.flows import (
    agent,
    autopay,
    balances,
    documents,
    notices,
    paperless,
    pay,
    plans,
    questions,
    recent,
    scheduled,
    ways_to_pay,
)
from ivr.intents import intents_for
from ivr.kernel import (
    MAIN_MENU,
    SPOKEN_REQUEST,
    Step,
    Turn,
    agreed,
    ask,
    go,
    goodbye,
    step,
    words_said,
)
from ivr.prompts import Prompt
from ivr.speech import Fragment
from ivr.spoken_amounts import spoken_cents

bp = Blueprint("spoken", __name__, url_prefix="/voice/spoken")


@dataclass(frozen=True)
class Request:
    """Where a request leads (with the values its step takes), and how the read-back names it."""

    leads_to: Step
    named: Prompt
    values: Mapping[str, str] = field(default_factory=dict)


def question(name: str, named: Prompt) -> Request:
    return Request(questions.answer, named, {"question": name})


@step(bp, "/goodbye", member=True)
def farewell(turn: Turn) -> VoiceResponse:
    """End the call the caller said they were done with."""
    return goodbye(turn)


REQUESTS: dict[str, Request] = {
    "pay": Request(pay.choose_target, Prompt.REQUEST_PAY),
    "pay_premium": Request(pay.premium, Prompt.REQUEST_PAY_PREMIUM),
    "balances": Request(balances.read, Prompt.REQUEST_BALANCES),
    "autopay": Request(autopay.overview, Prompt.REQUEST_AUTOPAY),
    "scheduled": Request(scheduled.overview, Prompt.REQUEST_SCHEDULED),
    "plans": Request(plans.overview, Prompt.REQUEST_PLANS),
    "history": Request(recent.read, Prompt.REQUEST_HISTORY),
    "statements": Request(documents.statements, Prompt.REQUEST_STATEMENTS),
    "paperless": Request(paperless.overview, Prompt.REQUEST_PAPERLESS),
    "notices": Request(notices.menu, Prompt.REQUEST_NOTICES),
    "ways_to_pay": Request(ways_to_pay.read, Prompt.REQUEST_WAYS_TO_PAY),
    "specialist": Request(agent.transfer, Prompt.REQUEST_SPECIALIST),
    "goodbye": Request(farewell, Prompt.REQUEST_GOODBYE),
    "questions": Request(questions.menu, Prompt.REQUEST_QUESTIONS),
    "question_premium_change": question("premium_change", Prompt.REQUEST_QUESTION_PREMIUM_CHANGE),
    "question_statements": question("statements", Prompt.REQUEST_QUESTION_STATEMENTS),
    "question_due": question("due", Prompt.REQUEST_QUESTION_DUE),
    "question_first_payment": question("first_payment", Prompt.REQUEST_QUESTION_FIRST_PAYMENT),
    "question_history": question("history", Prompt.REQUEST_QUESTION_HISTORY),
    "question_paperless": question("paperless", Prompt.REQUEST_QUESTION_PAPERLESS),
}


@SPOKEN_REQUEST.bind
def request(turn: Turn) -> VoiceResponse | None:
    """Go where a spoken request leads (read back first if unsure); None if none was made."""
    speech = words_said(turn)
    if not speech or understood(speech) != "?":
        return None  # keys, silence, or words that are keys ("two", "agent"): as keys
    try:
        confidence = float(turn.form.get("Confidence", ""))
    except ValueError:
        confidence = None
    match = intents_for(turn.call.language).match(speech, confidence)
    if match is None or match.intent not in REQUESTS:
        return None
    turn.requests.append(f"{turn.call.language}:{match.intent}")
    turn.call.silences = 0
    if match.intent in ("pay", "pay_premium"):
        turn.call.spoken_amount = spoken_cents(speech, turn.call.language) or None
    if match.sure:
        return lead_to(turn, REQUESTS[match.intent])
    turn.call.spoken = match.intent
    return go(turn, confirm)


def lead_to(turn: Turn, wanted: Request) -> VoiceResponse:
    return go(turn, wanted.leads_to, **wanted.values)


@step(bp, "/confirm", member=True)
def confirm(turn: Turn) -> VoiceResponse:
    """Ask whether the request guessed is the one meant."""
    heard = REQUESTS.get(turn.call.spoken or "")
    if heard is None:
        return go(turn, MAIN_MENU)
    asked = turn.say(Prompt.SPOKEN_CONFIRM, request=Fragment(heard.named))
    return ask(turn, [asked], confirm_answer, num_digits=1)


@step(bp, "/confirm/answer", member=True, answer=True)
def confirm_answer(turn: Turn) -> VoiceResponse:
    """Go on to the request on 1 or yes; back to the main menu on 2 or no."""
    heard = REQUESTS.get(turn.call.spoken or "")
    if heard is None:
        return go(turn, MAIN_MENU)
    declined = agreed(turn, "spoken_confirm", confirm, declined=MAIN_MENU)
    if declined is not None:
        return declined  # no (2), silence, or another key
    turn.call.spoken = None
    return lead_to(turn, heard)
