"""What the member owes: each medical bill, the total, and the premium."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.members import CoverageType
from billing_core.services.accounts import AccountSummary
from ivr.flows import plans
from ivr.flows.info import after_page, page
from ivr.kernel import Turn, step
from ivr.prompts import Prompt
from ivr.speech import Day, Money, Month

bp = Blueprint("balances", __name__, url_prefix="/voice/balances")


@step(bp, "", member=True)
def read(turn: Turn) -> VoiceResponse:
    """Read the member's balances."""
    call = turn.call
    summary = turn.billing.account_summary(call.member_id, channel="phone", call_sid=call.call_sid)
    return page(turn, balance_sentences(turn, summary), Prompt.BALANCES_AGAIN, after)


@step(bp, "/after", member=True, answer=True)
def after(turn: Turn) -> VoiceResponse:
    """Repeat the balances or go back to the main menu."""
    return after_page(turn, read)


def balance_sentences(turn: Turn, summary: AccountSummary) -> list[Say]:
    """Return the sentences that tell a member what they owe."""
    say = turn.say
    sentences = []
    bills = summary.bills
    if not bills:
        sentences.append(say(Prompt.NO_MEDICAL_BILLS))
    else:
        if len(bills) == 1:
            sentences.append(say(Prompt.ONE_MEDICAL_BILL))
        else:
            sentences.append(say(Prompt.MEDICAL_BILLS, count=len(bills)))
        for bill in bills:
            sentences.append(
                say(
                    Prompt.MEDICAL_BILL,
                    date_of_service=Day(bill.date_of_service),
                    facility=bill.facility,
                    balance=Money(bill.balance_cents),
                    due_date=Day(bill.due_date),
                )
            )
        if len(bills) > 1:
            sentences.append(say(Prompt.MEDICAL_TOTAL, total=Money(summary.medical_balance_cents)))
        plan = plans.plan_sentence(turn)
        if plan is not None:
            sentences.append(plan)

    if not summary.pays_premium_here:
        sentences.append(say(Prompt.PREMIUM_EMPLOYER))
        return sentences
    if summary.monthly_premium_cents:
        sentences.append(say(Prompt.PREMIUM_MONTHLY, amount=Money(summary.monthly_premium_cents)))
    if summary.premiums_due:
        for premium in summary.premiums_due:
            sentences.append(
                say(
                    Prompt.PREMIUM_DUE,
                    month=Month(premium.coverage_month),
                    balance=Money(premium.balance_cents),
                    due_date=Day(premium.due_date),
                )
            )
    else:
        sentences.append(say(Prompt.PREMIUM_PAID_UP))
    if summary.coverage_type is CoverageType.INDIVIDUAL_EXCHANGE:
        sentences.append(say(Prompt.PREMIUM_EXCHANGE_BINDER))
    return sentences
