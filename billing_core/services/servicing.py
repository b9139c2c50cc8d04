"""What billing staff look up to answer a member: a payment by its confirmation number, a
member's recent calls and payments. Each look is audited with who looked.

Masked as the phone line masks them: a member is their first name, the initial of their
last name and the MRN's last 4 digits; a method, its kind, brand and last digits. Nothing
here can show a full MRN, birth date, card or account number: none is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from billing_core.adapters.models import AuditEvent, Member, Payment, PaymentEvent
from billing_core.adapters.queries import accounts as account_queries
from billing_core.adapters.queries import payments as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import BillingError
from billing_core.services import audit

STAFF = "staff"


class NotFound(BillingError):
    """No payment has this confirmation number, or no member this MRN."""


@dataclass(frozen=True)
class StatusChange:
    status: str
    at: datetime
    amount_cents: int
    return_code: str | None


@dataclass(frozen=True)
class RefundLine:
    kind: str
    amount_cents: int
    status: str
    requested_by: str
    at: datetime


@dataclass(frozen=True)
class PaymentDetails:
    """One payment as staff see it: whose, what for, how, and everything that became of it."""

    confirmation_number: str
    member: str
    status: str
    amount_cents: int
    refunded_cents: int
    target: str
    method: str
    channel: str
    call_sid: str | None
    gateway: str
    gateway_reference: str | None
    made_at: datetime
    failure_reason: str | None
    return_code: str | None
    returned_item_fee_cents: int | None
    history: tuple[StatusChange, ...]
    refunds: tuple[RefundLine, ...]


@dataclass(frozen=True)
class CallLine:
    """One call of the member: when, and what it did (the audit log's actions, in order)."""

    call_sid: str
    started_at: datetime
    actions: tuple[str, ...]


@dataclass(frozen=True)
class MemberActivity:
    member: str
    region: str
    calls: tuple[CallLine, ...]
    payments: tuple[PaymentDetails, ...]


def masked_member(member: Member) -> str:
    """Ana T. (MRN ending 0001): enough to know whom, nothing to identify them with."""
    initial = f" {member.last_name[:1]}." if member.last_name else ""
    return f"{member.first_name}{initial} (MRN ending {member.mrn_last4})"


def payment_details(uow: UnitOfWork, confirmation_number: str, *, by: str, now: datetime):
    """The payment with this confirmation number, for staff; audited."""
    with uow:
        payment = queries.payment_by_confirmation(uow, confirmation_number.strip())
        if payment is None:
            raise NotFound(confirmation_number)
        member = uow.session.get(Member, payment.member_id)
        details = _details(uow, payment, member)
        audit.record(
            uow,
            at=now,
            action="staff_payment_viewed",
            channel=STAFF,
            member_id=member.id,
            detail={"payment_id": payment.id, "by": by},
        )
        uow.commit()
        return details


def member_activity(
    uow: UnitOfWork, mrn_digest: str, *, by: str, now: datetime, days: int = 90
) -> MemberActivity:
    """The member's calls and payments of the last `days` days, newest first; audited."""
    since = now - timedelta(days=days)
    with uow:
        member = account_queries.member_by_mrn_digest(uow, mrn_digest)
        if member is None:
            raise NotFound("member")
        events = uow.session.execute(
            select(AuditEvent.call_sid, AuditEvent.at, AuditEvent.action)
            .where(
                AuditEvent.member_id == member.id,
                AuditEvent.call_sid.is_not(None),
                AuditEvent.at >= since,
            )
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all()
        calls: dict[str, tuple[datetime, list[str]]] = {}
        for call_sid, at, action in events:
            calls.setdefault(call_sid, (at, []))[1].append(action)
        payments = uow.session.scalars(
            select(Payment)
            .where(Payment.member_id == member.id, Payment.created_at >= since)
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        ).all()
        activity = MemberActivity(
            member=masked_member(member),
            region=member.region_key,
            calls=tuple(
                CallLine(sid, started, tuple(actions))
                for sid, (started, actions) in sorted(
                    calls.items(), key=lambda item: item[1][0], reverse=True
                )
            ),
            payments=tuple(_details(uow, payment, member) for payment in payments),
        )
        audit.record(
            uow,
            at=now,
            action="staff_member_viewed",
            channel=STAFF,
            member_id=member.id,
            detail={"by": by, "days": days},
        )
        uow.commit()
        return activity


def _details(uow: UnitOfWork, payment: Payment, member: Member) -> PaymentDetails:
    history = uow.session.scalars(
        select(PaymentEvent).where(PaymentEvent.payment_id == payment.id).order_by(PaymentEvent.id)
    ).all()
    target = payment.target_kind + (
        f" {payment.target_reference}" if payment.target_reference else ""
    )
    brand = f" {payment.method_brand}" if payment.method_brand else ""
    last4 = f" ending {payment.method_last4}" if payment.method_last4 else ""
    return PaymentDetails(
        confirmation_number=payment.confirmation_number,
        member=masked_member(member),
        status=payment.status.value,
        amount_cents=payment.amount_cents,
        refunded_cents=payment.refunded_cents,
        target=target,
        method=f"{payment.method_kind}{brand}{last4}",
        channel=payment.channel,
        call_sid=payment.call_sid,
        gateway=payment.gateway,
        gateway_reference=payment.gateway_reference,
        made_at=payment.created_at,
        failure_reason=payment.failure_reason,
        return_code=payment.return_code,
        returned_item_fee_cents=payment.returned_item_fee_cents,
        history=tuple(
            StatusChange(event.status, event.at, event.amount_cents, event.return_code)
            for event in history
        ),
        refunds=tuple(
            RefundLine(row.kind, row.amount_cents, row.status, row.requested_by, row.created_at)
            for row in queries.refunds_of(uow, payment.id)
        ),
    )
