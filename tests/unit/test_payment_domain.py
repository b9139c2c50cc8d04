"""Payment rules: which amounts are taken, where the money goes, what a confirmation looks like."""

from __future__ import annotations

from datetime import date

import pytest

from billing_core.domain.payments import (
    Allocation,
    AmountNotAllowed,
    ItemKind,
    OpenItem,
    PaymentTarget,
    TargetKind,
    allocate,
    check_amount,
    is_confirmation_number,
    looks_like_card_number,
    new_confirmation_number,
)


def bill(item_id: int, due: date, payable: int, served: date | None = None) -> OpenItem:
    return OpenItem(ItemKind.BILL, item_id, due, served or due, payable)


@pytest.mark.parametrize("amount", [0, -1, -10000])
def test_a_zero_or_negative_amount_is_refused(amount):
    with pytest.raises(AmountNotAllowed) as refused:
        check_amount(amount, payable_cents=5000)
    assert refused.value.reason == "not_positive"


@pytest.mark.parametrize("amount", [12.5, "100", True])
def test_an_amount_that_is_not_whole_cents_is_refused(amount):
    with pytest.raises(AmountNotAllowed) as refused:
        check_amount(amount, payable_cents=5000)
    assert refused.value.reason == "not_positive"


def test_more_than_the_balance_is_refused_and_says_how_much_can_be_paid():
    with pytest.raises(AmountNotAllowed) as refused:
        check_amount(5001, payable_cents=5000)
    assert (refused.value.reason, refused.value.payable_cents) == ("over_balance", 5000)


def test_nothing_can_be_paid_on_a_target_whose_balance_is_held_by_a_payment_in_progress():
    with pytest.raises(AmountNotAllowed) as refused:
        check_amount(5000, payable_cents=0, held_cents=5000)
    assert (refused.value.reason, refused.value.held_cents) == ("nothing_due", 5000)


@pytest.mark.parametrize("amount", [1, 2500, 5000])
def test_one_cent_up_to_the_full_balance_is_accepted(amount):
    check_amount(amount, payable_cents=5000)


def test_paying_all_bills_pays_the_oldest_due_first():
    items = [
        bill(3, date(2026, 12, 15), 3000),
        bill(1, date(2026, 10, 1), 1000),
        bill(2, date(2026, 11, 1), 2000),
    ]
    assert allocate(2500, items) == (
        Allocation(ItemKind.BILL, 1, 1000),
        Allocation(ItemKind.BILL, 2, 1500),
    )


def test_paying_the_full_balance_of_all_bills_pays_each_bill_in_full():
    items = [bill(2, date(2026, 11, 1), 2000), bill(1, date(2026, 10, 1), 1000)]
    assert allocate(3000, items) == (
        Allocation(ItemKind.BILL, 1, 1000),
        Allocation(ItemKind.BILL, 2, 2000),
    )


def test_bills_due_the_same_day_are_paid_in_order_of_service():
    due = date(2026, 12, 1)
    items = [bill(7, due, 500, date(2026, 9, 2)), bill(8, due, 500, date(2026, 9, 1))]
    assert allocate(600, items) == (
        Allocation(ItemKind.BILL, 8, 500),
        Allocation(ItemKind.BILL, 7, 100),
    )


def test_a_bill_held_by_a_payment_in_progress_takes_nothing_more():
    items = [bill(1, date(2026, 10, 1), 0), bill(2, date(2026, 11, 1), 2000)]
    assert allocate(2000, items) == (Allocation(ItemKind.BILL, 2, 2000),)


def test_allocating_more_than_all_bills_owe_is_refused():
    with pytest.raises(AmountNotAllowed):
        allocate(3001, [bill(1, date(2026, 10, 1), 1000), bill(2, date(2026, 11, 1), 2000)])


def test_a_confirmation_number_is_ten_digits_a_caller_can_read_back():
    numbers = {new_confirmation_number() for _ in range(500)}
    assert len(numbers) == 500
    for number in numbers:
        assert len(number) == 10 and number.isdigit() and number[0] != "0"
        assert is_confirmation_number(number)


def test_a_confirmation_number_read_back_with_one_wrong_digit_is_recognized_as_wrong():
    number = new_confirmation_number()
    for position in range(1, 10):
        wrong = number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1 :]
        assert not is_confirmation_number(wrong)


@pytest.mark.parametrize("value", ["123456789", "12345678901", "0123456789", "12345abcde"])
def test_malformed_confirmation_numbers_are_not_confirmation_numbers(value):
    assert not is_confirmation_number(value)


def test_a_bill_target_names_its_bill_and_the_others_do_not():
    assert PaymentTarget.bill("B-1") == PaymentTarget(TargetKind.BILL, "B-1")
    with pytest.raises(ValueError):
        PaymentTarget(TargetKind.BILL)
    with pytest.raises(ValueError):
        PaymentTarget(TargetKind.PREMIUM, "B-1")


@pytest.mark.parametrize(
    ("text", "is_card"),
    [
        ("4242424242424242", True),
        ("4242 4242 4242 4242", True),
        ("4242-4242-4242-4242", True),
        ("378282246310005", True),
        ("tok_sandbox_success_4242_a1b2c3d4e5f6", False),
        ("4242424242424241", False),
        ("000123456789", False),
        ("5ea1ea7d2576494699215ca1f47a593f", False),
    ],
)
def test_a_card_number_is_recognized_where_only_a_token_belongs(text, is_card):
    assert looks_like_card_number(text) is is_card
