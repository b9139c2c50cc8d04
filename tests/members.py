"""Members for tests, written straight into the billing core's tables."""

from __future__ import annotations

from datetime import date

from billing_core.adapters.models import MedicalBill, Member, PremiumInvoice
from billing_core.core import BillingCore
from billing_core.domain.members import CoverageType
from billing_core.domain.preferences import Delivery, MessageKind


def add_member(
    core: BillingCore,
    *,
    mrn: str,
    birth_date: date,
    first_name: str = "Ana",
    region: str = "ncal",
    state: str = "CA",
    coverage: CoverageType = CoverageType.INDIVIDUAL,
    monthly_premium_cents: int | None = 41200,
    bills: list[tuple[str, date, str, int, int, date]] = (),
    premiums: list[tuple[date, int, int]] = (),
    phone: str | None = None,
    email: str | None = None,
    texts: bool = False,
) -> int:
    """Add a member; bills are (number, service date, facility, amount, paid, due date).

    texts: the member agreed to texts at the phone and chose receipts and payment
    problems by email and text.
    """
    now = core.clock.now()
    digest = core.hasher.mrn(mrn)
    with core.unit_of_work() as uow:
        member = Member(
            mrn_digest=digest,
            mrn_last4=mrn[-4:],
            birth_digest=core.hasher.birth(digest, birth_date),
            first_name=first_name,
            last_name="Tester",
            region_key=region,
            state=state,
            coverage_type=coverage,
            phone=phone,
            email=email,
            language="en",
            monthly_premium_cents=monthly_premium_cents,
            created_at=now,
            updated_at=now,
        )
        for number, served, facility, amount, paid, due in bills:
            member.bills.append(
                MedicalBill(
                    bill_number=number,
                    date_of_service=served,
                    facility=facility,
                    provider="Dr. Test",
                    amount_cents=amount,
                    paid_cents=paid,
                    feed_paid_cents=paid,
                    due_date=due,
                    updated_at=now,
                )
            )
        for month, amount, paid in premiums:
            member.premiums.append(
                PremiumInvoice(
                    coverage_month=month,
                    amount_cents=amount,
                    paid_cents=paid,
                    feed_paid_cents=paid,
                    updated_at=now,
                )
            )
        uow.session.add(member)
        uow.commit()
        member_id = member.id
    if texts:
        agree_to_texts(core, member_id)
    return member_id


def agree_to_texts(core: BillingCore, member_id: int) -> None:
    """Have the member agree to texts and choose receipts and payment problems by text too."""
    core.agree_to_texts(member_id, text="I agree to texts.", channel="phone")
    both = Delivery.BOTH if core.message_preferences(member_id).email else Delivery.TEXT
    for kind in (MessageKind.PAYMENT_CONFIRMATION, MessageKind.PAYMENT_PROBLEM):
        core.choose_delivery(member_id, kind, both, channel="phone")
