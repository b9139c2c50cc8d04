"""The feed's row models (pydantic) read exactly the fields the formats name."""

from __future__ import annotations

from datetime import date

from billing_core.adapters.feed import BILL_FIELDS, MEMBER_FIELDS, PAYMENT_FIELDS, PREMIUM_FIELDS
from billing_core.adapters.feed.rows import BillRow, MemberRow, PaymentRow, PremiumRow, Problems
from billing_core.adapters.feed.validation import CsvPlaces


def test_each_row_model_has_the_fields_of_its_kind_of_row_in_order():
    assert tuple(MemberRow.model_fields) == MEMBER_FIELDS
    assert tuple(BillRow.model_fields) == BILL_FIELDS
    assert tuple(PremiumRow.model_fields) == PREMIUM_FIELDS
    assert tuple(PaymentRow.model_fields) == PAYMENT_FIELDS


def test_a_payment_row_records_every_problem_and_gives_no_record_for_a_bad_one():
    places = CsvPlaces()
    places.rows[("members", 0, "payments", 1)] = (6, "payment")
    problems = Problems(places)
    PaymentRow.model_validate(
        {"paid_on": "2026-02-30", "amount": "0", "channel": "cash", "reference": "R 1"},
        context={
            "problems": problems,
            "path": ("members", 0, "payments", 1),
            "member_path": ("members", 0),
            "seen": {},
            "index": 1,
            "today": date(2026, 11, 27),
        },
    )
    assert problems.items == [
        "row 6 (payment), field bill_number: bill_number or coverage_month is required",
        "row 6 (payment), field paid_on: not a date (YYYY-MM-DD): '2026-02-30'",
        "row 6 (payment), field amount: must be more than zero",
        "row 6 (payment), field channel: unknown channel 'cash'; "
        "use one of web, mail, agent, in_person",
        "row 6 (payment), field reference: letters, digits and . _ / - only: 'R 1'",
    ]


def test_a_row_records_every_problem_in_field_order_and_keeps_no_bad_value():
    places = CsvPlaces()
    places.rows[("members", 0, "premiums", 0)] = (4, "premium")
    problems = Problems(places)
    row = PremiumRow.model_validate(
        {"coverage_month": "2026-13", "amount": "-5", "paid": "1", "note": "x"},
        context={
            "problems": problems,
            "path": ("members", 0, "premiums", 0),
            "member_path": ("members", 0),
            "seen": {},
            "index": 0,
        },
    )
    assert problems.items == [
        "row 4 (premium), field note: unknown field",
        "row 4 (premium), field coverage_month: not a month (YYYY-MM): '2026-13'",
        "row 4 (premium), field amount: must not be negative: '-5'",
    ]
    assert (row.coverage_month, row.amount, row.paid) == (None, None, 100)


def test_a_good_row_gives_its_record():
    problems = Problems(lambda path, field: f"{path}.{field}")
    row = PremiumRow.model_validate(
        {"coverage_month": " 2027-01 ", "amount": "45.50"},
        context={"problems": problems, "path": (), "member_path": (), "seen": {}, "index": 0},
    )
    assert problems.items == []
    record = row.record()
    assert (record.coverage_month, record.amount_cents, record.paid_cents) == (
        date(2027, 1, 1),
        4550,
        0,
    )
