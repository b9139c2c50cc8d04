"""Statements, paperless billing and notices: the menu that leads to each, and the documents.

A statement or letter asked for is made by the billing core from the same records the
phone reads, and emailed (paperless members, or no mailing address) or queued for mail.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from billing_core.domain.documents import Delivery, DocumentKind
from billing_core.domain.exceptions import DocumentNotDeliverable
from ivr.flows import notices, paperless
from ivr.kernel import (
    MAIN_MENU,
    Turn,
    answered,
    ask,
    choice,
    done,
    global_key,
    go,
    no_answer,
    offer,
    retry,
    step,
)
from ivr.prompts import Prompt
from ivr.speech import Fragment

bp = Blueprint("documents", __name__, url_prefix="/voice/documents")
log = logging.getLogger(__name__)

# The documents a caller can have sent, by key, with what each is called.
DOCUMENTS = {
    "1": (DocumentKind.PREMIUM_STATEMENT, Prompt.DOC_NAME_PREMIUM_STATEMENT),
    "2": (DocumentKind.BILL_STATEMENT, Prompt.DOC_NAME_BILL_STATEMENT),
    "3": (DocumentKind.PAYMENT_HISTORY, Prompt.DOC_NAME_PAYMENT_HISTORY),
    "4": (DocumentKind.TAX_LETTER, Prompt.DOC_NAME_TAX_LETTER),
}


@step(bp, "/statements", member=True)
def statements(turn: Turn) -> VoiceResponse:
    """Offer each statement and letter."""
    last_year = turn.region.local_time(turn.billing.clock.now()).year - 1
    options = [
        turn.say(Prompt.DOC_PREMIUM_STATEMENT),
        turn.say(Prompt.DOC_BILL_STATEMENT),
        turn.say(Prompt.DOC_PAYMENT_HISTORY),
        turn.say(Prompt.DOC_TAX_LETTER, year=str(last_year)),
        turn.say(Prompt.MENU_BACK),
    ]
    return ask(turn, options, statements_answer, num_digits=1)


@step(bp, "/statements/answer", member=True, answer=True)
def statements_answer(turn: Turn) -> VoiceResponse:
    """Have the document chosen sent, and say how it is coming."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "documents_kind", statements)
    if digits not in DOCUMENTS:
        return global_key(turn, digits, statements) or retry(
            turn, "documents_kind", statements, Prompt.NOT_A_CHOICE
        )
    done(turn, "documents_kind")
    kind, name = DOCUMENTS[digits]
    call = turn.call
    try:
        sent = turn.billing.request_document(
            call.member_id, kind.value, channel="phone", call_sid=call.call_sid
        )
    except DocumentNotDeliverable:
        return go(turn, MAIN_MENU, turn.say(Prompt.DOC_NOT_DELIVERABLE))
    log.info("call %s: document %s by %s", call.call_sid, kind.value, sent.delivery.value)
    said = Prompt.DOC_EMAILED if sent.delivery is Delivery.EMAIL else Prompt.DOC_MAILED
    return go(turn, MAIN_MENU, turn.say(said, document=Fragment(name)))


# What each key of this menu does; the menu offers only these.
CHOICES = {
    "1": statements,
    "2": paperless.overview,
    "3": notices.menu,
}
OPTIONS = (
    Prompt.DOCUMENTS_STATEMENTS,
    Prompt.DOCUMENTS_PAPERLESS,
    Prompt.DOCUMENTS_NOTICES,
    Prompt.MENU_BACK,
)


@step(bp, "", member=True)
def menu(turn: Turn) -> VoiceResponse:
    """Offer statements and letters, paperless billing, and the choice of how notices go."""
    return offer(turn, OPTIONS, choose)


@step(bp, "/choose", member=True, answer=True)
def choose(turn: Turn) -> VoiceResponse:
    """Go where the key pressed leads."""
    return choice(turn, CHOICES, "documents", menu)
