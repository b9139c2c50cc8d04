"""Spoken requests at a menu: "I want to pay my premium" goes where the keys would.

A request heard for sure (ivr.intents) goes straight on; one guessed from a misheard word
is read back first ("Did you want to pay your premium? Press 1 or say yes."). Only once
the caller is identified: before that, speech is digits, language, relay and specialist.
"""

from __future__ import annotations

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
    answered,
    ask,
    done,
    global_key,
    go,
    no_answer,
    retry,
    step,
    words_said,
)
from ivr.prompts import Prompt
from ivr.speech import Fragment
from ivr.spoken_amounts import spoken_cents

bp = Blueprint("spoken", __name__, url_prefix="/voice/spoken")

# Where each request leads, and how the read-back names it.
REQUESTS: dict[str, tuple[Step, Prompt]] = {
    "pay": (pay.choose_target, Prompt.REQUEST_PAY),
    "pay_premium": (pay.premium, Prompt.REQUEST_PAY_PREMIUM),
    "balances": (balances.read, Prompt.REQUEST_BALANCES),
    "autopay": (autopay.overview, Prompt.REQUEST_AUTOPAY),
    "scheduled": (scheduled.overview, Prompt.REQUEST_SCHEDULED),
    "plans": (plans.overview, Prompt.REQUEST_PLANS),
    "history": (recent.read, Prompt.REQUEST_HISTORY),
    "statements": (documents.statements, Prompt.REQUEST_STATEMENTS),
    "paperless": (paperless.overview, Prompt.REQUEST_PAPERLESS),
    "notices": (notices.menu, Prompt.REQUEST_NOTICES),
    "ways_to_pay": (ways_to_pay.read, Prompt.REQUEST_WAYS_TO_PAY),
    "specialist": (agent.transfer, Prompt.REQUEST_SPECIALIST),
}


@SPOKEN_REQUEST.bind
def request(turn: Turn, where: str) -> VoiceResponse | None:
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
    done(turn, where)
    turn.call.silences = 0
    if match.intent in ("pay", "pay_premium"):
        turn.call.spoken_amount = spoken_cents(speech, turn.call.language) or None
    if match.sure:
        return go(turn, REQUESTS[match.intent][0])
    turn.call.spoken = match.intent
    return go(turn, confirm)


@step(bp, "/confirm", member=True)
def confirm(turn: Turn) -> VoiceResponse:
    """Ask whether the request guessed is the one meant."""
    heard = REQUESTS.get(turn.call.spoken or "")
    if heard is None:
        return go(turn, MAIN_MENU)
    asked = turn.say(Prompt.SPOKEN_CONFIRM, request=Fragment(heard[1]))
    return ask(turn, [asked], confirm_answer, num_digits=1)


@step(bp, "/confirm/answer", member=True, answer=True)
def confirm_answer(turn: Turn) -> VoiceResponse:
    """Go on to the request on 1 or yes; back to the main menu on 2 or no."""
    heard = REQUESTS.get(turn.call.spoken or "")
    if heard is None:
        return go(turn, MAIN_MENU)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "spoken_confirm", confirm)
    if digits in ("1", "2"):
        done(turn, "spoken_confirm")
        turn.call.spoken = None
        return go(turn, heard[0] if digits == "1" else MAIN_MENU)
    return global_key(turn, digits, confirm) or retry(
        turn, "spoken_confirm", confirm, Prompt.NOT_A_CHOICE
    )
