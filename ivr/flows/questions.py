"""Questions about your bill: short answers, with the caller's own facts, then a next step.

The same answers are reached from this menu and by asking in one's own words ("why did
my premium go up?", ivr/flows/spoken.py). Each answer says what is true for everyone,
then what is true for the caller (their premium, their state's due date, whether they
joined through the exchange, whether paperless billing is on), and offers the next step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.documents import Delivery
from billing_core.domain.members import CoverageType
from billing_core.domain.premiums import FirstOfCoverageMonth
from billing_core.services.accounts import AccountSummary
from ivr.flows import balances, documents, paperless, pay, recent
from ivr.kernel import (
    Step,
    Turn,
    agreed,
    answered,
    ask,
    done,
    global_key,
    go,
    no_answer,
    offer,
    retry,
    step,
)
from ivr.prompts import Prompt
from ivr.speech import Day, Money, Month

bp = Blueprint("questions", __name__, url_prefix="/voice/questions")

Facts = Callable[[Turn, AccountSummary], list[Prompt | Say]]


@dataclass(frozen=True)
class Answer:
    """One question's answer: what is true for everyone, the caller's facts, the next step."""

    says: Prompt
    facts: Facts
    next_prompt: Prompt
    next_step: Step


def premium_facts(turn: Turn, summary: AccountSummary) -> list[Prompt | Say]:
    if not summary.pays_premium_here:
        return [Prompt.ANSWER_PREMIUM_EMPLOYER]
    if summary.monthly_premium_cents is None:
        return []
    return [turn.say(Prompt.ANSWER_PREMIUM_NOW, amount=Money(summary.monthly_premium_cents))]


def statement_facts(turn: Turn, summary: AccountSummary) -> list[Prompt | Say]:
    delivery = turn.billing.document_delivery(summary.member_id)
    if delivery is Delivery.MAIL:
        return [Prompt.ANSWER_STATEMENTS_MAILED]
    if delivery is None:
        return [Prompt.ANSWER_STATEMENTS_NOWHERE]
    if turn.billing.message_preferences(summary.member_id).paperless:
        return [Prompt.ANSWER_STATEMENTS_EMAILED]
    return [Prompt.ANSWER_STATEMENTS_NO_ADDRESS]


def due_facts(turn: Turn, summary: AccountSummary) -> list[Prompt | Say]:
    if not summary.pays_premium_here:
        return [Prompt.ANSWER_PREMIUM_EMPLOYER]
    policy = turn.region.premium_due
    rule = policy.state_overrides.get(summary.state, policy.rule)
    facts: list[Prompt | Say] = []
    if isinstance(rule, FirstOfCoverageMonth):
        facts.append(Prompt.ANSWER_DUE_FIRST)
    owed = [line for line in summary.premiums_due if line.balance_cents > 0]
    if not owed:
        return [*facts, Prompt.ANSWER_DUE_NOTHING]
    first = owed[0]
    due = turn.say(
        Prompt.PREMIUM_DUE,
        month=Month(first.coverage_month),
        balance=Money(first.balance_cents),
        due_date=Day(first.due_date),
    )
    return [*facts, due]


def first_payment_facts(turn: Turn, summary: AccountSummary) -> list[Prompt | Say]:
    if summary.coverage_type is CoverageType.INDIVIDUAL_EXCHANGE:
        return [Prompt.ANSWER_FIRST_PAYMENT_EXCHANGE]
    return [Prompt.ANSWER_FIRST_PAYMENT_OTHER]


def paperless_facts(turn: Turn, summary: AccountSummary) -> list[Prompt | Say]:
    if turn.billing.message_preferences(summary.member_id).paperless:
        return [Prompt.ANSWER_PAPERLESS_ON]
    return [Prompt.ANSWER_PAPERLESS_OFF]


def no_facts(turn: Turn, summary: AccountSummary) -> list[Prompt | Say]:
    return []


# The catalog: each question by name, in the order of the menu's keys.
ANSWERS: dict[str, Answer] = {
    "premium_change": Answer(
        Prompt.ANSWER_PREMIUM_CHANGE, premium_facts, Prompt.NEXT_BALANCES, balances.read
    ),
    "statements": Answer(
        Prompt.ANSWER_STATEMENTS, statement_facts, Prompt.NEXT_STATEMENT, documents.statements
    ),
    "due": Answer(Prompt.ANSWER_DUE, due_facts, Prompt.NEXT_PAY_PREMIUM, pay.premium),
    "first_payment": Answer(
        Prompt.ANSWER_FIRST_PAYMENT, first_payment_facts, Prompt.MENU_PAY, pay.choose_target
    ),
    "history": Answer(Prompt.ANSWER_HISTORY, no_facts, Prompt.NEXT_HISTORY, recent.read),
    "paperless": Answer(
        Prompt.ANSWER_PAPERLESS, paperless_facts, Prompt.NEXT_PAPERLESS, paperless.overview
    ),
}
OPTIONS = (
    Prompt.QUESTIONS_MENU,
    Prompt.QUESTION_PREMIUM_CHANGE,
    Prompt.QUESTION_STATEMENTS,
    Prompt.QUESTION_DUE,
    Prompt.QUESTION_FIRST_PAYMENT,
    Prompt.QUESTION_HISTORY,
    Prompt.QUESTION_PAPERLESS,
    Prompt.MENU_BACK,
)
KEYS = {str(key): name for key, name in enumerate(ANSWERS, start=1)}


@step(bp, "", member=True)
def menu(turn: Turn) -> VoiceResponse:
    """Offer the questions members ask most."""
    return offer(turn, OPTIONS, choose)


@step(bp, "/choose", member=True, answer=True)
def choose(turn: Turn) -> VoiceResponse:
    """Answer the question chosen."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "questions", menu)
    if digits in KEYS:
        done(turn, "questions")
        return go(turn, answer, question=KEYS[digits])
    return global_key(turn, digits, menu) or retry(turn, "questions", menu, Prompt.NOT_A_CHOICE)


@step(bp, "/answer", member=True)
def answer(turn: Turn, question: str = "") -> VoiceResponse:
    """Answer one question, with the caller's facts, and offer the next step."""
    call = turn.call
    call.question = question or call.question  # asked again (*, silence): the one before
    found = ANSWERS.get(call.question or "")
    if found is None:
        return go(turn, menu)
    summary = turn.billing.account_summary(call.member_id, channel="phone", call_sid=call.call_sid)
    says = [turn.say(found.says)]
    for fact in found.facts(turn, summary):
        says.append(turn.say(fact) if isinstance(fact, Prompt) else fact)
    options = [
        turn.say(found.next_prompt),
        turn.say(Prompt.QUESTIONS_MORE),
        turn.say(Prompt.HEAR_AGAIN),
        turn.say(Prompt.MENU_BACK),
    ]
    return ask(turn, options, after, num_digits=1, lead=says)


@step(bp, "/after", member=True, answer=True)
def after(turn: Turn) -> VoiceResponse:
    """Take the next step, another question, the answer again, or the main menu."""
    found = ANSWERS.get(turn.call.question or "")
    if found is None:
        return go(turn, menu)
    declined = agreed(turn, "question_answer", answer, declined=menu)
    if declined is not None:
        return declined  # another question (2), the answer again, silence, or a wrong key
    turn.call.question = None
    return go(turn, found.next_step)
