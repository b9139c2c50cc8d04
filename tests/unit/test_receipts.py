"""Receipt texts: plain language in English and Spanish, card named by brand and last 4 only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from billing_core.domain.money import format_amount
from billing_core.services.outbox import EMAIL, SMS
from billing_core.services.receipts import (
    Receipt,
    email_body,
    email_subject,
    is_e164,
    receipt_for,
    receipt_messages,
    sms_text,
)

BILL = Receipt(
    language="en",
    first_name="Ana",
    amount_cents=123450,
    target_kind="bill",
    bill_number="B-200",
    method_kind="card",
    method_brand="visa",
    method_last4="4242",
    confirmation_number="4823019576",
    paid_on=date(2026, 11, 27),
)


def test_a_text_receipt_says_amount_bill_card_ending_date_and_confirmation():
    assert sms_text(BILL) == (
        "Payment received: $1,234.50 for medical bill B-200, paid with Visa ending in 4242 "
        "on November 27, 2026. Confirmation number: 4823019576. Thank you."
    )


def test_a_spanish_text_receipt_is_written_in_spanish():
    assert sms_text(replace(BILL, language="es")) == (
        "Pago recibido: $1,234.50 para la factura médica B-200, pagado con tarjeta Visa "
        "terminada en 4242 el 27 de noviembre de 2026. Número de confirmación: 4823019576. "
        "Gracias."
    )


def test_an_email_receipt_lists_each_detail_on_its_own_line():
    body = email_body(BILL)
    assert body.startswith("Hello Ana,\n\nWe received your payment.")
    for line in (
        "Amount paid: $1,234.50",
        "Paid for: medical bill B-200",
        "Paid with: Visa ending in 4242",
        "Date: November 27, 2026",
        "Confirmation number: 4823019576",
    ):
        assert f"\n{line}\n" in body
    assert email_subject(BILL) == "Your payment receipt, confirmation 4823019576"


def test_a_spanish_email_receipt_has_a_spanish_subject_and_body():
    receipt = replace(BILL, language="es", target_kind="premium", bill_number=None)
    assert email_subject(receipt) == "Recibo de su pago, confirmación 4823019576"
    body = email_body(receipt)
    assert body.startswith("Hola, Ana:")
    assert "\nPagado para: su prima\n" in body
    assert "\nFecha: 27 de noviembre de 2026\n" in body


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"target_kind": "all_bills", "bill_number": None}, "for your medical bills"),
        ({"target_kind": "premium", "bill_number": None}, "for your premium"),
        ({"method_brand": "amex", "method_last4": "0005"}, "American Express ending in 0005"),
        ({"method_brand": None}, "paid with card ending in 4242"),
        (
            {"method_kind": "bank", "method_brand": "consumer-savings", "method_last4": "6789"},
            "from savings account ending in 6789",
        ),
        (
            {"method_kind": "bank", "method_brand": None, "method_last4": "6789"},
            "from bank account ending in 6789",
        ),
        ({"amount_cents": 5}, "Payment received: $0.05 for"),
    ],
)
def test_a_receipt_names_what_was_paid_and_how_in_plain_words(changes, said):
    assert said in sms_text(replace(BILL, **changes))


def test_nothing_but_a_known_brand_and_four_digits_of_the_method_reaches_a_receipt():
    odd = replace(BILL, method_brand="4242424242424242", method_last4="42424242")
    text = sms_text(odd) + email_body(odd)
    assert "4242424242424242" not in text and "42424242" not in text
    assert "paid with card on" in sms_text(odd)


def test_an_unknown_language_gets_the_english_receipt():
    assert sms_text(replace(BILL, language="fr")) == sms_text(BILL)


def test_money_is_formatted_for_each_language():
    assert format_amount(4550, "en") == "$45.50"
    assert format_amount(100000, "es") == "$1,000.00"


def test_the_receipt_is_dated_in_the_members_time_zone():
    # 05:30 UTC on 28 November: already the 28th in New York, still the 27th in California.
    paid_at = datetime(2026, 11, 28, 5, 30, tzinfo=UTC)
    payment = SimpleNamespace(
        amount_cents=12000,
        target_kind="bill",
        target_reference="B-200",
        method_kind="card",
        method_brand="visa",
        method_last4="4242",
        confirmation_number="4823019576",
    )

    def paid_on(state: str) -> date:
        member = SimpleNamespace(language="es", first_name="Ana", state=state)
        return receipt_for(payment, member, paid_at=paid_at).paid_on

    assert paid_on("CA") == date(2026, 11, 27)
    assert paid_on("NY") == date(2026, 11, 28)
    assert paid_on("HI") == date(2026, 11, 27)


def test_receipts_go_by_text_and_email_under_one_key_each():
    messages = receipt_messages(BILL, payment_id=17, phone="+15105550123", email="ana@example.org")
    assert [(m.kind, m.recipient, m.dedupe_key) for m in messages] == [
        (SMS, "+15105550123", "receipt:17:sms"),
        (EMAIL, "ana@example.org", "receipt:17:email"),
    ]
    assert messages[0].subject is None and messages[1].subject == email_subject(BILL)


@pytest.mark.parametrize(
    ("phone", "email", "kinds"),
    [
        (None, None, []),
        ("+15105550123", None, [SMS]),
        (None, "ana@example.org", [EMAIL]),
        ("510-555-0123", "not an address", []),
    ],
)
def test_a_receipt_is_sent_only_where_the_member_can_get_it(phone, email, kinds):
    messages = receipt_messages(BILL, payment_id=1, phone=phone, email=email)
    assert [m.kind for m in messages] == kinds


def test_text_receipts_go_only_to_numbers_in_e164_form():
    assert is_e164("+15105550123")
    assert not any(is_e164(p) for p in ("5105550123", "+0105550123", "+1 510 555 0123", ""))
