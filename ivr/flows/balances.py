"""What the member owes: each bill, the total, the premium, any credit; a bill's details."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.members import CoverageType
from billing_core.services.accounts import AccountSummary, BillLine
from ivr.flows import plans
from ivr.flows.info import after_page, page
from ivr.kernel import MAIN_MENU, Turn, answered, ask, done, global_key, go, no_answer, retry, step
from ivr.prompts import Prompt
from ivr.speech import Day, Money, Month

bp = Blueprint("balances", __name__, url_prefix="/voice/balances")

# The key that asks for a bill's details, after the balances and after a bill's details.
DETAILS_KEY = "1"
# Keys 1 to 8 choose a bill: 9, 0 and star work everywhere.
MOST_BILLS_OFFERED = 8


@step(bp, "", member=True)
def read(turn: Turn) -> VoiceResponse:
    """Read the member's balances; with medical bills, offer a bill's details."""
    summary = _summary(turn)
    sentences = balance_sentences(turn, summary)
    if not summary.bills:
        return page(turn, sentences, Prompt.BALANCES_AGAIN, after)
    options = [
        turn.say(Prompt.BALANCES_AGAIN),
        turn.say(Prompt.BILL_DETAILS_OFFER),
        turn.say(Prompt.MENU_BACK),
    ]
    return ask(turn, options, after, num_digits=1, lead=sentences)


@step(bp, "/after", member=True, answer=True)
def after(turn: Turn) -> VoiceResponse:
    """Repeat the balances, read a bill's details, or go back to the main menu."""
    if answered(turn) == DETAILS_KEY:
        return go(turn, choose_bill)
    return after_page(turn, read)


@step(bp, "/bills", member=True)
def choose_bill(turn: Turn) -> VoiceResponse:
    """Ask which bill to detail; with one bill, read its details at once."""
    bills = _summary(turn).bills[:MOST_BILLS_OFFERED]
    if not bills:
        # No bill was offered (or the last one was paid meanwhile): as for any other key.
        return go(turn, MAIN_MENU, turn.say(Prompt.NOT_A_CHOICE))
    turn.call.balances.bill_numbers = [bill.bill_number for bill in bills]
    if len(bills) == 1:
        turn.call.balances.bill = bills[0].bill_number
        return go(turn, details)
    options = [
        turn.say(
            Prompt.PAY_WHICH_BILL,
            date_of_service=Day(bill.date_of_service),
            facility=bill.facility,
            balance=Money(bill.balance_cents),
            key=str(key),
        )
        for key, bill in enumerate(bills, start=1)
    ]
    return ask(turn, options, chosen_bill, num_digits=1)


@step(bp, "/bills/chosen", member=True, answer=True)
def chosen_bill(turn: Turn) -> VoiceResponse:
    """Read the details of the bill whose key was pressed."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "bill_details", choose_bill)
    numbers = turn.call.balances.bill_numbers or []
    if digits.isdigit() and 1 <= int(digits) <= len(numbers):
        done(turn, "bill_details")
        turn.call.balances.bill = numbers[int(digits) - 1]
        return go(turn, details)
    handled = global_key(turn, digits, choose_bill)
    if handled is not None:
        return handled
    return retry(turn, "bill_details", choose_bill, Prompt.NOT_A_CHOICE)


@step(bp, "/bill", member=True)
def details(turn: Turn) -> VoiceResponse:
    """Read one bill: provider, billed, insurance and adjustments, paid, balance, due date."""
    summary = _summary(turn)
    bill = next((b for b in summary.bills if b.bill_number == turn.call.balances.bill), None)
    if bill is None:
        # Paid off since it was offered (on another call, say): back to the balances.
        return go(turn, read)
    options = [turn.say(Prompt.BILL_DETAILS_AGAIN)]
    if len(summary.bills) > 1:
        options.append(turn.say(Prompt.BILL_DETAILS_ANOTHER))
    options.append(turn.say(Prompt.MENU_BACK))
    return ask(turn, options, after_details, num_digits=1, lead=bill_details(turn, bill))


@step(bp, "/bill/after", member=True, answer=True)
def after_details(turn: Turn) -> VoiceResponse:
    """Repeat the bill's details, choose another bill, or go back to the main menu."""
    digits = answered(turn)
    if digits == DETAILS_KEY and len(turn.call.balances.bill_numbers or []) > 1:
        return go(turn, choose_bill)
    if digits:
        handled = global_key(turn, digits, details)
        if handled is not None:
            return handled
        return go(turn, MAIN_MENU, turn.say(Prompt.NOT_A_CHOICE))
    return go(turn, MAIN_MENU)


def _summary(turn: Turn) -> AccountSummary:
    call = turn.call
    return turn.billing.account_summary(call.member_id, channel="phone", call_sid=call.call_sid)


def bill_details(turn: Turn, bill: BillLine) -> list[Say]:
    """Return the sentences that tell a member everything about one bill."""
    say = turn.say
    sentences = [
        say(
            Prompt.BILL_DETAILS_VISIT,
            bill_number=bill.bill_number,
            date_of_service=Day(bill.date_of_service),
            facility=bill.facility,
            provider=bill.provider,
        ),
        say(Prompt.BILL_DETAILS_BILLED, amount=Money(bill.amount_cents)),
        say(Prompt.BILL_DETAILS_ADJUSTMENTS, amount=Money(bill.adjustments_cents)),
        say(Prompt.BILL_DETAILS_PAID, amount=Money(bill.paid_cents)),
    ]
    owed = Prompt.BILL_DETAILS_PAST_DUE if bill.past_due else Prompt.BILL_DETAILS_BALANCE
    sentences.append(say(owed, balance=Money(bill.balance_cents), due_date=Day(bill.due_date)))
    return sentences


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
                    Prompt.MEDICAL_BILL_PAST_DUE if bill.past_due else Prompt.MEDICAL_BILL,
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
        return sentences + credit_sentences(turn, summary)
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
    return sentences + credit_sentences(turn, summary)


def credit_sentences(turn: Turn, summary: AccountSummary) -> list[Say]:
    """Say the account credit the billing system holds, and that it is not taken off here."""
    if summary.credit_cents <= 0:
        return []
    return [
        turn.say(Prompt.ACCOUNT_CREDIT, amount=Money(summary.credit_cents)),
        turn.say(Prompt.ACCOUNT_CREDIT_APPLIED),
    ]
