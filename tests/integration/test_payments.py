"""Paying bills and premiums exactly once, on every database, against the sandbox gateway."""

from __future__ import annotations

import csv
import io
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from billing_core.adapters.db import Base
from billing_core.adapters.gateways import SandboxGateway
from billing_core.adapters.gateways.base import GatewayTimeout
from billing_core.adapters.gateways.sandbox import TEST_ROUTING_NUMBER, fixed_token
from billing_core.adapters.models import AchAuthorizationRecord, SandboxCharge
from billing_core.domain.members import CoverageType
from billing_core.domain.payments import (
    AchAuthorization,
    AmountNotAllowed,
    IdempotencyKeyReused,
    PaymentRequestInvalid,
    PaymentStatus,
    PaymentTarget,
    TargetNotPayable,
    is_confirmation_number,
)
from billing_core.services import payments
from billing_core.services.payments import PaymentRequest
from tests.members import add_member

MRN = "20000417"
BIRTH = date(1975, 6, 30)
# Oldest due first: B-100, then B-200, then B-300.
BILLS = [
    ("B-200", date(2026, 9, 14), "Oakland Medical Center", 12000, 0, date(2026, 11, 15)),
    ("B-100", date(2026, 8, 2), "Richmond Medical Offices", 4550, 0, date(2026, 10, 1)),
    ("B-300", date(2026, 10, 20), "Oakland Medical Center", 30000, 5000, date(2026, 12, 20)),
]
PREMIUMS = [(date(2026, 11, 1), 41200, 0), (date(2026, 12, 1), 41200, 0)]
SUCCESS = fixed_token("success", "4242")
ALL_BILLS = PaymentTarget.all_bills()


@pytest.fixture
def gateway(core) -> SandboxGateway:
    return SandboxGateway(core.session_factory, core.clock)


@pytest.fixture
def member_id(core) -> int:
    return add_member(core, mrn=MRN, birth_date=BIRTH, bills=BILLS, premiums=PREMIUMS)


def card(
    member_id: int,
    target: PaymentTarget,
    amount_cents: int,
    *,
    token: str = SUCCESS,
    key: str | None = None,
) -> PaymentRequest:
    return PaymentRequest(
        member_id=member_id,
        target=target,
        amount_cents=amount_cents,
        token=token,
        method_kind="card",
        method_brand="visa",
        method_last4=token.split("_")[3],
        idempotency_key=key or uuid.uuid4().hex,
        channel="test",
        call_sid="CA-test",
    )


def bank(member_id: int, target: PaymentTarget, amount_cents: int, *, token: str, now):
    last4 = token.split("_")[3]
    return PaymentRequest(
        member_id=member_id,
        target=target,
        amount_cents=amount_cents,
        token=token,
        method_kind="bank",
        method_brand="consumer-checking",
        method_last4=last4,
        idempotency_key=uuid.uuid4().hex,
        channel="test",
        call_sid="CA-test",
        ach_authorization=AchAuthorization(
            accepted_at=now,
            amount_cents=amount_cents,
            account_last4=last4,
            call_sid="CA-test",
            text=f"You authorize one debit of {amount_cents} cents from account {last4}.",
        ),
    )


def pay(core, gateway, request):
    return payments.pay(core.unit_of_work, gateway, request, now=core.clock.now())


def bill_balances(core, member_id) -> dict[str, int]:
    summary = core.account_summary(member_id, channel="test")
    return {line.bill_number: line.balance_cents for line in summary.bills}


def premium_balance(core, member_id) -> int:
    return core.account_summary(member_id, channel="test").premium_balance_cents


def charge_count(core) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(SandboxCharge))


def payable(core, member_id, target) -> int:
    return payments.quote(core.unit_of_work(), member_id, target).payable_cents


def test_paying_a_bill_in_full_clears_it_and_gives_a_confirmation_number(core, gateway, member_id):
    outcome = pay(core, gateway, card(member_id, PaymentTarget.bill("B-200"), 12000))
    assert outcome.status is PaymentStatus.SUCCEEDED
    assert outcome.amount_cents == 12000 and outcome.decline_code is None
    assert is_confirmation_number(outcome.confirmation_number)
    assert bill_balances(core, member_id) == {"B-100": 4550, "B-300": 25000}


def test_paying_part_of_a_bill_lowers_its_balance_by_that_much(core, gateway, member_id):
    outcome = pay(core, gateway, card(member_id, PaymentTarget.bill("B-300"), 10000))
    assert outcome.status is PaymentStatus.SUCCEEDED
    assert bill_balances(core, member_id) == {"B-100": 4550, "B-200": 12000, "B-300": 15000}


def test_paying_all_bills_in_full_leaves_no_medical_balance(core, gateway, member_id):
    assert payable(core, member_id, ALL_BILLS) == 41550
    outcome = pay(core, gateway, card(member_id, ALL_BILLS, 41550))
    assert outcome.status is PaymentStatus.SUCCEEDED
    assert core.account_summary(member_id, channel="test").medical_balance_cents == 0


def test_part_of_all_bills_pays_the_oldest_due_bill_first(core, gateway, member_id):
    pay(core, gateway, card(member_id, ALL_BILLS, 10000))
    assert bill_balances(core, member_id) == {"B-200": 6550, "B-300": 25000}


def test_paying_the_premium_clears_the_unpaid_months(core, gateway, member_id):
    assert premium_balance(core, member_id) == 82400
    outcome = pay(core, gateway, card(member_id, PaymentTarget.premium(), 82400))
    assert outcome.status is PaymentStatus.SUCCEEDED
    assert premium_balance(core, member_id) == 0
    assert bill_balances(core, member_id)["B-100"] == 4550


def test_part_of_the_premium_pays_the_oldest_month_first(core, gateway, member_id):
    pay(core, gateway, card(member_id, PaymentTarget.premium(), 41200))
    summary = core.account_summary(member_id, channel="test")
    assert [line.coverage_month for line in summary.premiums_due] == [date(2026, 12, 1)]


def test_a_bank_payment_keeps_the_callers_authorization_with_it(core, gateway, member_id):
    now = core.clock.now()
    token = gateway.tokenize_bank(TEST_ROUTING_NUMBER, "000123456789", "consumer-checking").token
    outcome = pay(
        core, gateway, bank(member_id, PaymentTarget.bill("B-100"), 4550, token=token, now=now)
    )
    # Submitted, not yet settled: it already pays the bill until it is returned.
    assert outcome.status is PaymentStatus.SUBMITTED
    assert "B-100" not in bill_balances(core, member_id)
    with core.unit_of_work() as uow:
        record = uow.session.scalars(select(AchAuthorizationRecord)).one()
        assert (record.amount_cents, record.account_last4, record.accepted_at) == (
            4550,
            "6789",
            now,
        )
        assert "4550 cents" in record.text


def test_a_bank_payment_without_an_authorization_is_refused(core, gateway, member_id):
    request = bank(
        member_id,
        PaymentTarget.bill("B-100"),
        4550,
        token=fixed_token("success", "6789", bank=True),
        now=core.clock.now(),
    )
    for wrong in (
        {"ach_authorization": None},
        {"amount_cents": 4000},
        {"method_last4": "1111"},
    ):
        with pytest.raises(PaymentRequestInvalid):
            pay(core, gateway, PaymentRequest(**{**request.__dict__, **wrong}))
    assert charge_count(core) == 0


DECLINES = [
    (fixed_token("declined", "0002"), "card_declined"),
    (fixed_token("insufficient-funds", "9995"), "insufficient_funds"),
    (fixed_token("expired-card", "0069"), "expired_card"),
    (fixed_token("incorrect-cvc", "0127"), "incorrect_cvc"),
    (fixed_token("processing-error", "0119"), "processing_error"),
    (fixed_token("account-closed", "1116", bank=True), "account_closed"),
    (fixed_token("insufficient-funds", "2227", bank=True), "insufficient_funds"),
    (fixed_token("processing-error", "0440", bank=True), "processing_error"),
]


@pytest.mark.parametrize(("token", "code"), DECLINES)
def test_a_declined_payment_fails_with_its_reason_and_leaves_the_balance(
    core, gateway, member_id, token, code
):
    target = PaymentTarget.bill("B-200")
    if token.startswith("btok"):
        request = bank(member_id, target, 12000, token=token, now=core.clock.now())
    else:
        request = card(member_id, target, 12000, token=token)
    outcome = pay(core, gateway, request)
    assert (outcome.status, outcome.decline_code) == (PaymentStatus.FAILED, code)
    assert bill_balances(core, member_id)["B-200"] == 12000
    # The failed attempt holds nothing: the caller can try another card at once.
    assert payable(core, member_id, target) == 12000
    retry = pay(core, gateway, card(member_id, target, 12000))
    assert retry.status is PaymentStatus.SUCCEEDED


def test_the_same_request_twice_charges_once_and_gives_the_same_confirmation(
    core, gateway, member_id
):
    request = card(member_id, PaymentTarget.bill("B-200"), 12000, key="call-1-payment-1")
    first = pay(core, gateway, request)
    second = pay(core, gateway, request)
    assert first == second and first.status is PaymentStatus.SUCCEEDED
    assert charge_count(core) == 1
    assert bill_balances(core, member_id)["B-300"] == 25000 and "B-200" not in bill_balances(
        core, member_id
    )


def test_an_idempotency_key_reused_for_another_payment_is_refused(core, gateway, member_id):
    pay(core, gateway, card(member_id, PaymentTarget.bill("B-200"), 12000, key="k"))
    with pytest.raises(IdempotencyKeyReused):
        pay(core, gateway, card(member_id, PaymentTarget.bill("B-100"), 4550, key="k"))
    assert charge_count(core) == 1 and bill_balances(core, member_id)["B-100"] == 4550


def run_at_once(count: int, work) -> tuple[list, list[Exception]]:
    """Run work(i) on `count` threads released together; return results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results.append(work(i))
        except Exception as error:  # collected so the test can assert on it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_the_same_request_from_eight_threads_at_once_charges_once(core, gateway, member_id):
    request = card(member_id, PaymentTarget.bill("B-300"), 25000, key="double-submit")
    results, errors = run_at_once(8, lambda _: pay(core, gateway, request))
    assert errors == []
    assert len(results) == 8
    assert len({r.confirmation_number for r in results}) == 1
    assert charge_count(core) == 1
    assert "B-300" not in bill_balances(core, member_id)
    again = pay(core, gateway, request)
    assert again.status is PaymentStatus.SUCCEEDED


def test_two_callers_paying_the_same_bill_in_full_at_once_pay_it_once(core, gateway, member_id):
    target = PaymentTarget.bill("B-200")
    results, errors = run_at_once(2, lambda _: pay(core, gateway, card(member_id, target, 12000)))
    assert [r.status for r in results] == [PaymentStatus.SUCCEEDED]
    assert len(errors) == 1 and isinstance(errors[0], AmountNotAllowed)
    assert charge_count(core) == 1
    assert "B-200" not in bill_balances(core, member_id)


def test_all_bills_and_one_bill_paid_at_once_never_take_more_than_is_owed(core, gateway, member_id):
    requests = [
        card(member_id, ALL_BILLS, 41550),
        card(member_id, PaymentTarget.bill("B-100"), 4550),
    ]
    results, errors = run_at_once(2, lambda i: pay(core, gateway, requests[i]))
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], AmountNotAllowed)
    assert core.account_summary(member_id, channel="test").medical_balance_cents == 41550 - sum(
        r.amount_cents for r in results
    )


def test_a_payment_in_progress_holds_its_amount_from_other_payments(core, gateway, member_id):
    target = PaymentTarget.bill("B-300")
    payments.start_payment(
        core.unit_of_work(),
        card(member_id, target, 20000),
        gateway_name=gateway.name,
        now=core.clock.now(),
    )
    quote = payments.quote(core.unit_of_work(), member_id, target)
    assert (quote.balance_cents, quote.held_cents, quote.payable_cents) == (25000, 20000, 5000)
    with pytest.raises(AmountNotAllowed) as refused:
        pay(core, gateway, card(member_id, target, 25000))
    assert (refused.value.reason, refused.value.payable_cents) == ("over_balance", 5000)
    assert pay(core, gateway, card(member_id, target, 5000)).status is PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("target", "amount", "reason"),
    [
        (PaymentTarget.bill("B-100"), 4551, "over_balance"),
        (PaymentTarget.bill("B-100"), 0, "not_positive"),
        (ALL_BILLS, 41551, "over_balance"),
        (PaymentTarget.premium(), 82401, "over_balance"),
    ],
)
def test_an_amount_the_target_does_not_owe_is_refused_without_a_charge(
    core, gateway, member_id, target, amount, reason
):
    with pytest.raises(AmountNotAllowed) as refused:
        pay(core, gateway, card(member_id, target, amount))
    assert refused.value.reason == reason
    assert charge_count(core) == 0


def test_a_paid_bill_cannot_be_paid_again(core, gateway, member_id):
    pay(core, gateway, card(member_id, PaymentTarget.bill("B-100"), 4550))
    with pytest.raises(AmountNotAllowed) as refused:
        pay(core, gateway, card(member_id, PaymentTarget.bill("B-100"), 4550))
    assert refused.value.reason == "nothing_due"


def test_a_bill_the_member_does_not_have_cannot_be_paid(core, gateway, member_id):
    other = add_member(core, mrn="20000999", birth_date=BIRTH, bills=[("B-999", *BILLS[0][1:])])
    with pytest.raises(TargetNotPayable):
        pay(core, gateway, card(member_id, PaymentTarget.bill("B-999"), 100))
    assert bill_balances(core, other) == {"B-999": 12000}


def test_an_employer_group_members_premium_cannot_be_paid_here(core, gateway):
    member = add_member(
        core,
        mrn="20000555",
        birth_date=BIRTH,
        coverage=CoverageType.EMPLOYER_GROUP,
        premiums=PREMIUMS,
    )
    with pytest.raises(TargetNotPayable):
        pay(core, gateway, card(member, PaymentTarget.premium(), 41200))


def test_a_card_number_in_place_of_a_token_is_refused_and_never_stored(core, gateway, member_id):
    request = card(member_id, PaymentTarget.bill("B-100"), 4550)
    with pytest.raises(PaymentRequestInvalid):
        pay(core, gateway, PaymentRequest(**{**request.__dict__, "token": "4242424242424242"}))
    assert charge_count(core) == 0


def test_a_timeout_is_unknown_until_reconcile_finds_the_charge(core, gateway, member_id):
    target = PaymentTarget.bill("B-200")
    outcome = pay(
        core, gateway, card(member_id, target, 12000, token=fixed_token("timeout", "0341"))
    )
    assert outcome.status is PaymentStatus.UNKNOWN
    # Until it is settled the money may have moved: nobody can pay it again meanwhile.
    assert payable(core, member_id, target) == 0
    assert bill_balances(core, member_id)["B-200"] == 12000

    report = payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    assert report.succeeded == (outcome.confirmation_number,)
    assert "B-200" not in bill_balances(core, member_id)
    assert charge_count(core) == 1
    again = payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    assert again == payments.ReconcileReport((), (), ())
    assert "B-200" not in bill_balances(core, member_id)


def test_a_crash_before_the_charge_is_settled_as_not_charged_and_never_charged(
    core, gateway, member_id
):
    target = PaymentTarget.bill("B-200")
    started = payments.start_payment(
        core.unit_of_work(),
        card(member_id, target, 12000),
        gateway_name=gateway.name,
        now=core.clock.now(),
    )
    assert started.outcome.status is PaymentStatus.PENDING

    # A payment younger than the grace period may still be charging: left alone.
    early = payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    assert early == payments.ReconcileReport((), (), ())

    core.clock.advance(11 * 60)
    report = payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    assert report.failed == (started.outcome.confirmation_number,)
    assert charge_count(core) == 0
    assert bill_balances(core, member_id)["B-200"] == 12000
    assert payable(core, member_id, target) == 12000
    repeated = payments.pay(
        core.unit_of_work, gateway, _request_of(started, member_id, target), now=core.clock.now()
    )
    assert (repeated.status, repeated.decline_code) == (PaymentStatus.FAILED, "not_charged")
    assert charge_count(core) == 0


def _request_of(started, member_id, target) -> PaymentRequest:
    order = started.charge
    request = card(member_id, target, order.amount_cents, key=order.idempotency_key)
    return request


def test_a_crash_after_the_charge_is_settled_as_succeeded_without_a_second_charge(
    core, gateway, member_id
):
    target = PaymentTarget.bill("B-200")
    started = payments.start_payment(
        core.unit_of_work(),
        card(member_id, target, 12000),
        gateway_name=gateway.name,
        now=core.clock.now(),
    )
    order = started.charge
    gateway.charge(
        token=order.token,
        amount_cents=order.amount_cents,
        idempotency_key=order.idempotency_key,
        description=order.description,
    )
    core.clock.advance(11 * 60)
    report = payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    assert report.succeeded == (order.confirmation_number,)
    assert "B-200" not in bill_balances(core, member_id)
    assert charge_count(core) == 1


def test_a_charge_that_lands_after_reconcile_gave_up_still_counts(core, gateway, member_id):
    target = PaymentTarget.bill("B-200")
    started = payments.start_payment(
        core.unit_of_work(),
        card(member_id, target, 12000),
        gateway_name=gateway.name,
        now=core.clock.now(),
    )
    core.clock.advance(11 * 60)
    payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    outcome = payments.complete_payment(
        core.unit_of_work(), gateway, started.charge, now=core.clock.now()
    )
    assert outcome.status is PaymentStatus.SUCCEEDED
    assert "B-200" not in bill_balances(core, member_id)


def test_recent_payments_lists_the_last_13_months_newest_first(core, gateway, member_id):
    today = core.clock.now()  # 27 November 2026
    core.clock.set(datetime(2025, 10, 26, 12, 0, tzinfo=UTC))
    pay(core, gateway, card(member_id, PaymentTarget.bill("B-100"), 50))
    core.clock.set(datetime(2025, 10, 28, 12, 0, tzinfo=UTC))
    oldest_kept = pay(core, gateway, card(member_id, PaymentTarget.bill("B-100"), 100))
    core.clock.set(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    pay(core, gateway, card(member_id, ALL_BILLS, 200, token=fixed_token("declined", "0002")))
    core.clock.set(today)
    newest = pay(core, gateway, card(member_id, PaymentTarget.premium(), 41200))
    lines = payments.recent_payments(
        core.unit_of_work(), member_id, now=core.clock.now(), channel="test"
    )
    assert [line.confirmation_number for line in lines] == [
        newest.confirmation_number,
        oldest_kept.confirmation_number,
    ]
    assert (lines[0].amount_cents, lines[0].target_kind, lines[0].method_last4) == (
        41200,
        "premium",
        "4242",
    )
    assert (lines[1].bill_number, lines[1].status) == ("B-100", PaymentStatus.SUCCEEDED)


def test_the_ledger_export_lists_payments_without_card_data(core, gateway, member_id):
    paid = pay(core, gateway, card(member_id, PaymentTarget.bill("B-200"), 12000))
    declined = pay(
        core,
        gateway,
        card(member_id, PaymentTarget.bill("B-100"), 4550, token=fixed_token("declined", "0002")),
    )
    text = payments.export_payments_csv(core.unit_of_work(), core.clock.now().date())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["confirmation_number"], r["status"]) for r in rows] == [
        (paid.confirmation_number, "succeeded"),
        (declined.confirmation_number, "failed"),
    ]
    first = rows[0]
    assert (first["member_mrn_last4"], first["amount"], first["target"], first["bill_number"]) == (
        "0417",
        "120.00",
        "bill",
        "B-200",
    )
    assert (first["method_kind"], first["method_brand"], first["method_last4"]) == (
        "card",
        "visa",
        "4242",
    )
    assert rows[1]["failure_reason"] == "card_declined"
    assert "tok_" not in text
    tomorrow = core.clock.now().date() + timedelta(days=1)
    assert payments.export_payments_csv(core.unit_of_work(), tomorrow).count("\n") == 1


def test_no_card_or_bank_number_or_security_code_is_stored_anywhere(core, gateway, member_id):
    numbers = {
        "4242424242424242": "424",
        "4000000000000002": "737",
        "4000000000000341": "838",
        "378282246310005": "9471",
    }
    target = PaymentTarget.bill("B-300")
    for number, cvc in numbers.items():
        token = gateway.tokenize_card(number, 8, 2029, cvc, "94612").token
        pay(core, gateway, card(member_id, target, 100, token=token))
    accounts = ["000123456789", "000111111116", "000333333335"]
    for account in accounts:
        token = gateway.tokenize_bank(TEST_ROUTING_NUMBER, account, "consumer-checking").token
        pay(core, gateway, bank(member_id, target, 100, token=token, now=core.clock.now()))
    core.clock.advance(600)
    payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    payments.export_payments_csv(core.unit_of_work(), date(2026, 1, 1))

    secrets = [*numbers, *accounts]
    codes = set(numbers.values())
    with core.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            assert not any(
                "cvc" in c.name or "cvv" in c.name or "security" in c.name for c in table.columns
            ), table.name
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    text = str(value)
                    assert not any(s in text for s in secrets), (table.name, column)
                    # Only text: a row id may equal a code's digits (PostgreSQL's ids keep
                    # counting up across tests), and a code would be stored as text.
                    assert not isinstance(value, str) or text not in codes, (table.name, column)


def test_a_payment_left_unknown_that_never_went_through_is_reported_to_the_member(core):
    from billing_core.adapters.models import OutboxMessage

    class LostAnswer(SandboxGateway):
        """A processor whose answer is lost, and which then has no record of the charge."""

        def charge(self, **_charge):
            raise GatewayTimeout("the answer was lost")

        def find_charge(self, idempotency_key):
            return None

    member_id = add_member(
        core,
        mrn="44440001",
        birth_date=date(1970, 1, 1),
        phone="+15105550123",
        texts=True,
        bills=[("B-1", date(2026, 9, 1), "Clinic", 9000, 0, date(2026, 12, 31))],
    )
    gateway = LostAnswer(core.session_factory, core.clock)
    outcome = payments.pay(
        core.unit_of_work,
        gateway,
        PaymentRequest(
            member_id=member_id,
            target=PaymentTarget.bill("B-1"),
            amount_cents=9000,
            token="tok_sandbox_success_4242",
            method_kind="card",
            method_brand="visa",
            method_last4="4242",
            idempotency_key="lost-1",
            channel="phone",
        ),
        now=core.clock.now(),
    )
    assert outcome.status is PaymentStatus.UNKNOWN
    core.clock.advance(25 * 3600)
    report = payments.reconcile(core.unit_of_work, gateway, now=core.clock.now())
    assert report.failed == (outcome.confirmation_number,)
    with core.unit_of_work() as uow:
        notices = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("not-taken:%"))
        ).all()
        assert [n.kind for n in notices] == ["sms"]
        assert "did not go through" in notices[0].body
        assert outcome.confirmation_number in notices[0].body
