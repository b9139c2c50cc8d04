"""The sandbox gateway: test numbers with fixed outcomes, and each idempotency key charged once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from billing_core.adapters.db import make_engine
from billing_core.adapters.gateways import GatewayError, GatewayTimeout, SandboxGateway
from billing_core.adapters.gateways.sandbox import (
    TEST_BANK_ACCOUNTS,
    TEST_CARDS,
    TEST_ROUTING_NUMBER,
    TokenizationError,
    fixed_token,
    tokenize_card,
)
from billing_core.adapters.models import SandboxCharge

TODAY = date(2026, 11, 27)
CARD_RESULTS = {
    "success": ("succeeded", None),
    "declined": ("declined", "card_declined"),
    "insufficient-funds": ("declined", "insufficient_funds"),
    "expired-card": ("declined", "expired_card"),
    "incorrect-cvc": ("declined", "incorrect_cvc"),
    "account-closed": ("declined", "account_closed"),
    "no-account": ("declined", "no_account"),
}


@pytest.fixture
def gateway(core) -> SandboxGateway:
    return SandboxGateway(core.session_factory, core.clock)


def charges(core) -> list[tuple[int, str]]:
    """Every charge the sandbox made: (amount, outcome)."""
    with core.unit_of_work() as uow:
        return [
            (c.amount_cents, c.outcome)
            for c in uow.session.scalars(select(SandboxCharge).order_by(SandboxCharge.id))
        ]


def cvc_for(number: str) -> str:
    return "1234" if number.startswith("3") else "123"


@pytest.mark.parametrize(("number", "brand_and_outcome"), sorted(TEST_CARDS.items()))
def test_each_test_card_tokenizes_to_its_brand_last_4_and_outcome_only(number, brand_and_outcome):
    brand, outcome = brand_and_outcome
    card = tokenize_card(number, 12, 2030, cvc_for(number), "94612", today=TODAY)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == (
        brand,
        number[-4:],
        12,
        2030,
    )
    assert card.token.startswith(f"tok_sandbox_{outcome}_{number[-4:]}_")
    assert number not in card.token and number[:-4] not in card.token


@pytest.mark.parametrize(
    "number", [n for n, (_, outcome) in TEST_CARDS.items() if outcome in CARD_RESULTS]
)
def test_charging_a_test_card_gives_its_documented_outcome(core, gateway, number):
    card = gateway.tokenize_card(number, 1, 2031, cvc_for(number), None)
    result = gateway.charge(
        token=card.token, amount_cents=1999, idempotency_key="k-" + number, description="test"
    )
    expected = CARD_RESULTS[TEST_CARDS[number][1]]
    assert (result.outcome, result.decline_code) == expected
    assert result.reference.startswith("ch_sandbox_")
    assert gateway.find_charge("k-" + number) == result


@pytest.mark.parametrize(("account", "outcome"), sorted(TEST_BANK_ACCOUNTS.items()))
def test_each_test_bank_account_tokenizes_to_its_outcome_and_last_4_only(gateway, account, outcome):
    bank = gateway.tokenize_bank(TEST_ROUTING_NUMBER, account, "consumer-checking")
    assert (bank.last4, bank.account_type) == (account[-4:], "consumer-checking")
    assert bank.token.startswith(f"btok_sandbox_{outcome}_{account[-4:]}_")
    assert account not in bank.token


def test_a_bank_account_not_on_the_test_list_is_declined_as_no_account(gateway):
    bank = gateway.tokenize_bank(TEST_ROUTING_NUMBER, "987654321", "consumer-savings")
    result = gateway.charge(
        token=bank.token, amount_cents=500, idempotency_key="k", description="test"
    )
    assert (result.outcome, result.decline_code) == ("declined", "no_account")


def test_a_valid_card_not_on_the_test_list_is_declined(gateway):
    card = gateway.tokenize_card("4111111111111111", 1, 2031, "123", "94612")
    result = gateway.charge(
        token=card.token, amount_cents=500, idempotency_key="k", description="test"
    )
    assert (result.outcome, result.decline_code) == ("declined", "card_declined")


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc", "postal", "reason"),
    [
        ("4242424242424241", 12, 2030, "123", "94612", "invalid-card-number"),
        ("42424242", 12, 2030, "123", "94612", "invalid-card-number"),
        ("3530111333300000", 12, 2030, "123", "94612", "invalid-card-type"),
        ("4242424242424242", 10, 2026, "123", "94612", "invalid-date"),
        ("4242424242424242", 13, 2030, "123", "94612", "invalid-date"),
        ("4242424242424242", 12, 2030, "12", "94612", "invalid-security-code"),
        ("378282246310005", 12, 2030, "123", "94612", "invalid-security-code"),
        ("4242424242424242", 12, 2030, "123", "946", "invalid-postal-code"),
    ],
)
def test_card_digits_twilio_would_refuse_are_not_tokenized(
    number, month, year, cvc, postal, reason
):
    with pytest.raises(TokenizationError) as refused:
        tokenize_card(number, month, year, cvc, postal, today=TODAY)
    assert refused.value.reason == reason


def test_a_card_expiring_this_month_is_still_accepted():
    assert tokenize_card("4242424242424242", 11, 26, "123", "94612", today=TODAY).exp_year == 2026


@pytest.mark.parametrize(
    ("routing", "account", "kind", "reason"),
    [
        ("110000001", "000123456789", "consumer-checking", "invalid-bank-routing-number"),
        ("11000000", "000123456789", "consumer-checking", "invalid-bank-routing-number"),
        ("110000000", "123", "consumer-checking", "invalid-bank-account-number"),
        ("110000000", "000123456789", "brokerage", "invalid-bank-account-type"),
    ],
)
def test_bank_digits_twilio_would_refuse_are_not_tokenized(gateway, routing, account, kind, reason):
    with pytest.raises(TokenizationError) as refused:
        gateway.tokenize_bank(routing, account, kind)
    assert refused.value.reason == reason


def test_the_same_idempotency_key_twice_charges_once_and_answers_alike(core, gateway):
    token = fixed_token("success", "4242")
    first = gateway.charge(token=token, amount_cents=2500, idempotency_key="k1", description="a")
    again = gateway.charge(token=token, amount_cents=2500, idempotency_key="k1", description="a")
    assert first == again and first.succeeded
    assert len(charges(core)) == 1


def test_an_idempotency_key_reused_for_a_different_charge_is_an_error(core, gateway):
    token = fixed_token("success", "4242")
    gateway.charge(token=token, amount_cents=2500, idempotency_key="k1", description="a")
    with pytest.raises(GatewayError):
        gateway.charge(token=token, amount_cents=2600, idempotency_key="k1", description="a")
    assert charges(core) == [(2500, "succeeded")]


def test_a_timeout_token_charges_and_then_loses_the_answer(core, gateway):
    with pytest.raises(GatewayTimeout):
        gateway.charge(
            token=fixed_token("timeout", "0341"),
            amount_cents=4000,
            idempotency_key="k-timeout",
            description="a",
        )
    found = gateway.find_charge("k-timeout")
    assert found is not None and found.succeeded
    assert charges(core) == [(4000, "succeeded")]


def test_a_processing_error_charges_nothing(core, gateway):
    with pytest.raises(GatewayError):
        gateway.charge(
            token=fixed_token("processing-error", "0119"),
            amount_cents=4000,
            idempotency_key="k-error",
            description="a",
        )
    assert gateway.find_charge("k-error") is None
    assert charges(core) == []


@pytest.mark.parametrize("token", ["tok_visa", "4242424242424242", "tok_sandbox_bogus_4242"])
def test_an_unknown_token_is_an_error_not_a_charge(core, gateway, token):
    with pytest.raises(GatewayError):
        gateway.charge(token=token, amount_cents=100, idempotency_key="k", description="a")
    assert charges(core) == []


def test_a_charge_is_found_from_another_process(core, gateway, database_url):
    gateway.charge(
        token=fixed_token("success", "4444"), amount_cents=700, idempotency_key="k", description="a"
    )
    other_engine = make_engine(database_url)
    try:
        other = SandboxGateway(other_engine, core.clock)
        found = other.find_charge("k")
        assert found is not None and found.succeeded
        assert other.find_charge("never-charged") is None
    finally:
        other_engine.dispose()


def test_the_same_key_charged_from_eight_threads_at_once_is_one_charge(core, gateway):
    barrier = threading.Barrier(8)
    results, errors = [], []

    def charge() -> None:
        try:
            barrier.wait()
            results.append(
                gateway.charge(
                    token=fixed_token("success", "4242"),
                    amount_cents=1234,
                    idempotency_key="k-race",
                    description="a",
                )
            )
        except Exception as error:  # collected so the test reports it
            errors.append(error)

    threads = [threading.Thread(target=charge) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.reference for r in results}) == 1 and len(results) == 8
    with core.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SandboxCharge)) == 1
