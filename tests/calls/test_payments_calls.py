"""Paying on the phone: card and bank, in full and in part, exactly once, no card data kept."""

from __future__ import annotations

import io
import logging
import re
from datetime import date
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from billing_core.adapters.models import Base, Payment, SandboxCharge
from billing_core.domain.payments import PaymentStatus
from ivr import create_app, logs
from tests.calls.phrases import PAID
from tests.members import add_member

NCAL = "+18773659900"
CALLER = "+14155550123"


@pytest.fixture
def member(core) -> int:
    return add_member(
        core,
        mrn="60000006",
        birth_date=date(1985, 2, 14),
        first_name="Maya",
        bills=[
            ("B-100", date(2026, 9, 14), "Oakland Medical Center", 25000, 5000, date(2026, 12, 15)),
            ("B-200", date(2026, 10, 2), "Richmond Medical Center", 8000, 0, date(2027, 1, 5)),
        ],
        premiums=[(date(2027, 1, 1), 41200, 0)],
    )


def identified(twilio, *, to_menu: bool = True):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press("60000006#")
    call.press("02141985")
    assert call.heard_since_input[0] == "Thank you, Maya."
    if to_menu and "For the main menu, press 9." in call.heard_since_input:
        call.press("9")  # past the offer to pay first: the menus these tests go through
    return call


def balances(core, member_id):
    summary = core.account_summary(member_id, channel="test")
    return [bill.balance_cents for bill in summary.bills], summary.premium_balance_cents


def test_paying_a_bill_in_full_by_card_speaks_a_confirmation_number(twilio, core, member):
    call = identified(twilio)
    call.press("1")
    assert call.heard_since_input == [
        "For your 9/14/2026 visit at Oakland Medical Center, $200.00, press 1.",
        "For your 10/2/2026 visit at Richmond Medical Center, $80.00, press 2.",
        "For all your medical bills, $280.00, press 3.",
        "For your premium, $412.00, press 4.",
    ]
    call.press("1")  # in full: another amount is asked for at the read-back, if at all
    assert call.heard_since_input == [
        "For a credit or debit card, press 1.",
        "For a bank account, press 2.",
    ]
    call.press("1")
    assert call.heard_since_input[0] == "Enter your card number, then press pound."
    call.pay_card("4242424242424242", expiry="1230", cvc="123", postal="94612")
    assert call.heard_since_input[-3:] == [
        "You are paying $200.00 for your 9/14 visit with your Visa ending in 4242.",
        "To pay now, press 1. To change the amount, press 2. To change how you pay, press 3. "
        "To cancel, press 4.",
        "To pay on a later date instead, press 5.",
    ]
    call.press("1")
    said = call.heard_since_input
    assert said[0].startswith(PAID)
    confirmation = said[0].removeprefix(PAID).rstrip(".")
    assert len(confirmation) == 10 and confirmation.isdigit()
    assert balances(core, member) == ([8000], 41200)
    assert said[1:] == [
        "To hear the confirmation number again, press star.",
        "To get a text receipt at the number you are calling from, press 1.",
        "To save your Visa ending in 4242 for next time, press 2.",
        "To return to the main menu, press 9.",
    ]
    call.press("*")
    assert call.heard_since_input[0] == f"{PAID}{confirmation}."


def choose(call, *keys):
    for key in keys:
        call.press(key)


def test_paying_part_of_a_bill_by_card_leaves_the_rest(twilio, core, member):
    call = identified(twilio)
    choose(call, "1", "1", "1")  # pay, the first bill, a new card
    call.pay_card("5555555555554444")
    call.press("2")  # another amount, at the read-back
    assert call.heard_since_input[0] == (
        "Say the amount, or enter the dollars, then press star, then the cents, then press pound."
    )
    call.press("75*25#")
    assert call.heard_since_input[-3].startswith("You are paying $75.25 for your 9/14 visit")
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)
    assert balances(core, member) == ([12475, 8000], 41200)
    call.hang_up()
    next_call = identified(twilio)
    next_call.press("2")  # balances
    assert next_call.heard_since_input[:4] == [
        "You have 2 medical bills.",
        "For your visit on 9/14/2026 at Oakland Medical Center, you owe $124.75, due 12/15/2026.",
        "For your visit on 10/2/2026 at Richmond Medical Center, you owe $80.00, due 1/5/2027.",
        "Your total medical balance is $204.75.",
    ]


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ("0#", "The amount must be more than zero."),
        ("0*00#", "The amount must be more than zero."),
        ("250*01#", "That is more than you owe. You can pay up to $200.00."),
        ("99999999999999#", "That amount is too large."),
        ("12*5#", "The cents must be two digits."),
        ("1*2*3#", "Sorry, that is not an amount."),
        ("*#", "Sorry, that is not an amount."),
        ("#", "Sorry, I did not hear your answer."),
    ],
)
def test_a_wrong_amount_gets_its_reason_and_a_new_try(twilio, core, member, keys, reason):
    call = identified(twilio)
    choose(call, "1", "1", "1")
    call.pay_card("4242424242424242")
    call.press("2")  # another amount, at the read-back
    call.press(keys)
    assert call.heard_since_input[0].startswith(reason)
    assert call.heard_since_input[1] == (
        "Say the amount, or enter the dollars, then press star, then the cents, then press pound."
    )
    call.press("10#")
    assert call.heard_since_input[-3].startswith("You are paying $10.00 for your 9/14 visit")
    assert balances(core, member) == ([20000, 8000], 41200)


def test_paying_all_bills_by_bank_reads_and_records_the_ach_authorization(twilio, core, member):
    call = identified(twilio)
    choose(call, "1", "3", "2")  # pay, all the bills in full, a bank account
    assert call.heard_since_input == [
        "For a checking account, press 1. For a savings account, press 2."
    ]
    call.press("1")
    assert call.heard_since_input[0] == (
        "Enter your bank's nine digit routing number, then press pound."
    )
    call.pay_bank("110000000", "000123456789")
    said = call.heard_since_input[-4:]
    assert said[0] == (
        "You are paying $280.00 for all your medical bills with your checking account ending in 89."
    )
    assert said[1] == (
        "By pressing 1, you, Maya Tester, authorize Kaiser Permanente to make a one-time "
        "electronic debit of "
        "$280.00 from your checking account ending in 89, on 11/27/2026. If you have "
        "questions about this payment, call (800) 218-1059."
    )
    call.press("1")
    assert call.heard_since_input[0].startswith(
        "Bank payment submitted: your confirmation number is "
    )
    assert call.heard_since_input[0].endswith(". It usually takes 1 to 3 business days.")
    assert balances(core, member) == ([], 41200)
    from billing_core.adapters.models import AchAuthorizationRecord

    with core.unit_of_work() as uow:
        record = uow.session.scalars(select(AchAuthorizationRecord)).one()
        assert (record.amount_cents, record.account_last4, record.call_sid) == (
            28000,
            "89",
            call.call_sid,
        )
        assert "one-time electronic debit of $280.00" in record.text


def test_paying_the_premium_by_card(twilio, core, member):
    call = identified(twilio)
    choose(call, "1", "4", "1")  # pay, the premium in full, a new card
    call.pay_card("378282246310005", cvc="1234")
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)
    assert balances(core, member) == ([20000, 8000], 0)


def test_a_saved_card_pays_on_a_later_call(twilio, core, member):
    first = identified(twilio)
    choose(first, "1", "2", "1")  # pay, the Richmond bill in full, a new card
    first.pay_card("4242424242424242")
    first.press("1")
    assert first.heard_since_input[0].startswith(PAID)
    first.press("2")  # save the card
    assert first.heard_since_input[0] == "Your Visa ending in 4242 is saved for next time."
    first.hang_up()
    # The next call offers what is owed with the saved card first: one key pays it.
    later = identified(twilio, to_menu=False)
    assert later.heard_since_input[1:] == [
        "To pay $200.00 for your 9/14 visit with your Visa ending in 4242, press 1.",
        "For the main menu, press 9.",
    ]
    later.press("1")
    assert later.heard_since_input[0].startswith(PAID)
    assert balances(core, member) == ([], 41200)
    # A third call: the premium is what is left, and the main menu is a key away.
    third = identified(twilio, to_menu=False)
    assert third.heard_since_input[1].startswith("To pay $412.00 for your premium with")
    third.press("9")
    assert third.heard_since_input[0] == "Main menu."
    third.press("1")  # pay, through the menu: the saved card is offered with the others
    assert third.heard_since_input[:2] == [
        "The balance is $412.00.",
        "To pay with your Visa ending in 4242, press 1.",
    ]


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("4000000000000002", "The payment was declined."),
        ("4000000000009995", "The payment was declined for insufficient funds."),
        ("4000000000000069", "The card has expired."),
        ("4000000000000127", "The security code did not match."),
        ("4000000000000119", "We could not process the payment. Nothing was charged."),
    ],
)
def test_each_decline_is_explained_with_another_way_to_pay(twilio, core, member, card, reason):
    call = identified(twilio)
    choose(call, "1", "1", "1")  # pay, the first bill in full, a new card
    call.pay_card(card)
    call.press("1")
    assert call.heard_since_input == [
        reason,
        "To try another payment method, press 1. To return to the main menu, press 9.",
    ]
    call.press("1")
    assert call.heard_since_input[0] == "For a credit or debit card, press 1."
    call.press("1")
    call.pay_card("4242424242424242")
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)
    assert balances(core, member) == ([8000], 41200)


def test_a_gateway_timeout_is_confirmed_later_and_never_taken_twice(twilio, core, member):
    call = identified(twilio)
    choose(call, "1", "1", "1")  # pay, the first bill in full, a new card
    call.pay_card("4000000000000341")
    call.press("1")
    said = call.heard_since_input
    assert said[0] == (
        "We are still confirming your payment of $200.00. It will not be taken "
        "twice. We will send you a receipt once it is confirmed."
    )
    with core.unit_of_work() as uow:
        assert uow.session.scalars(select(Payment.status)).all() == [PaymentStatus.UNKNOWN]
    report = core.reconcile()
    assert len(report.succeeded) == 1
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SandboxCharge)) == 1
    assert balances(core, member) == ([8000], 41200)


@pytest.mark.parametrize(
    ("press", "heard"),
    [
        ("*", "Entry canceled. Nothing was charged."),
    ],
)
def test_cancelling_card_entry_goes_back_to_the_payment_methods(twilio, member, press, heard):
    call = identified(twilio)
    choose(call, "1", "1", "1")  # pay, the first bill in full, a new card
    call.press(press)
    assert call.heard_since_input[0] == heard
    assert call.heard_since_input[1] == "For a credit or debit card, press 1."


def test_a_payment_processor_outage_during_card_entry_is_explained(twilio, member):
    call = identified(twilio)
    choose(call, "1", "1", "1")
    call.pay_connector_down = True
    call.press("1")
    call.pay_card("4242424242424242")
    assert call.heard_since_input[-3] == (
        "We cannot reach our payment processor right now. Nothing was charged."
    )


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_card_or_account_number_is_kept_in_logs_or_any_table(
    twilio, core, member, caplog, log_format, request
):
    caplog.set_level(logging.DEBUG)
    # The lines as the app writes them (IVR_LOG_FORMAT), CallSid and step included.
    written = io.StringIO()
    handler = logs.handler(log_format, written)
    logging.getLogger().addHandler(handler)
    request.addfinalizer(lambda: logging.getLogger().removeHandler(handler))
    call = identified(twilio)
    choose(call, "1", "1", "1")  # pay, the first bill, a new card
    call.pay_card("4242424242424242", expiry="1230", cvc="987", postal="94612")
    choose(call, "2", "20*00#")  # another amount, at the read-back
    call.press("1")
    call.press("2")  # save the card
    call.press("9")
    choose(call, "1", "1", "3")  # the saved card is 1, a new card 2, a bank account 3
    call.press("1")
    call.pay_bank("110000000", "000123456789")
    choose(call, "2", "20*00#")
    call.press("1")
    assert balances(core, member) == ([16000, 8000], 41200)
    secrets = [
        "4242424242424242",
        "000123456789",
        "123456789",
        "60000006",
        "02141985",
        "1985-02-14",
    ]
    assert written.getvalue()
    logged = "\n".join(record.getMessage() for record in caplog.records) + written.getvalue()
    with core.unit_of_work() as uow:
        stored = "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in uow.session.execute(table.select()).all()
        )
    for secret in secrets:
        assert secret not in logged
        assert secret not in stored
    # The security code as a value of its own: confirmation numbers and CallSids may hold
    # the same three digits inside them, and row ids and amounts (numbers, not text) may
    # be 987 on a database that has run many tests.
    security_code = re.compile(r"(?<![0-9a-f])987(?![0-9a-f])")
    assert not security_code.search(logged)
    with core.unit_of_work() as uow:
        stored_text = "\n".join(
            repr(value)
            for table in Base.metadata.sorted_tables
            for row in uow.session.execute(table.select()).all()
            for value in row
            if isinstance(value, str | dict | list)
        )
    assert not security_code.search(stored_text)


@pytest.mark.parametrize("asked", [False, True])
def test_the_zip_code_is_asked_only_when_the_setting_says_so(twilio, core, member, app, asked):
    if asked:
        app.config["IVR_PAY_POSTAL_CODE"] = True  # a gateway that verifies it
    call = identified(twilio)
    choose(call, "1", "1", "1")  # pay, the first bill in full, a new card
    pay = ElementTree.fromstring(call.transcript[-1].twiml).find("Pay")
    assert pay.get("postalCode") == ("true" if asked else "false")
    prompted = {prompt.get("for") for prompt in pay.findall("Prompt")}
    assert ("postal-code" in prompted) is asked
    call.pay_card("4242424242424242", expiry="1230", cvc="123", postal="94612")
    heard = [prompt.text for prompt in call.pay_prompts]
    assert heard.count("Enter the billing ZIP code.") == (1 if asked else 0)
    call.press("1")
    assert call.heard_since_input[0].startswith(PAID)


def test_an_unset_zip_setting_follows_the_gateway(tmp_path):
    from billing_core.adapters.gateways.sandbox import SandboxGateway
    from billing_core.adapters.gateways.stripe_gateway import StripeGateway

    assert SandboxGateway.verifies_postal_code is False
    assert StripeGateway.verifies_postal_code is True
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'z.sqlite3'}"})
    assert app.config["IVR_PAY_POSTAL_CODE"] is False
    database = f"sqlite:///{tmp_path / 'z.sqlite3'}"
    stripe = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database,
            "IVR_GATEWAY": "stripe",
            "IVR_STRIPE_API_KEY": "sk_test_unused",
        }
    )
    assert stripe.config["IVR_PAY_POSTAL_CODE"] is True
    chosen = create_app({"TESTING": True, "DATABASE_URL": database, "IVR_PAY_POSTAL_CODE": True})
    assert chosen.config["IVR_PAY_POSTAL_CODE"] is True
