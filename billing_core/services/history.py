"""A member's payment history: this line's own payments and those the billing feed reports.

The phone reads it as recent payments and the payment-history letter lists it, so both
say the same: the last 13 months, newest first, from every channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from billing_core.adapters.feed.records import PAYMENT_HISTORY_MONTHS, history_start
from billing_core.adapters.queries import history as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import MemberNotFound
from billing_core.domain.payments import PaymentStatus, TargetKind
from billing_core.domain.regions import RegionCatalog
from billing_core.services import audit, payments


@dataclass(frozen=True)
class HistoryLine:
    """One payment of the history, from this line or from elsewhere (channel says where)."""

    # The day it was made, in the member's region.
    paid_on: date
    amount_cents: int
    target_kind: TargetKind
    bill_number: str | None
    coverage_month: date | None
    # None for this line's own payments; else where it was made: web, mail, agent, in_person.
    channel: str | None
    # This line's confirmation number, or the billing system's reference.
    reference: str
    status: PaymentStatus
    # How this line's payments were made; empty for the others.
    method_kind: str | None = None
    method_brand: str | None = None
    method_last4: str | None = None
    made_at: datetime | None = None

    @property
    def elsewhere(self) -> bool:
        return self.channel is not None


def payment_history(
    uow_factory: Callable[[], UnitOfWork],
    member_id: int,
    *,
    regions: RegionCatalog,
    now: datetime,
    months: int = PAYMENT_HISTORY_MONTHS,
    channel: str | None = None,
    call_sid: str | None = None,
) -> tuple[HistoryLine, ...]:
    """The member's payments of the last `months` months from every channel, newest first.

    This line's own are as recent_payments lists them (declined attempts left out); a
    feed payment whose reference is one of this line's confirmation numbers is the same
    payment, and is read once, as this line's. When a channel is given, the read is audited.
    """
    own = payments.recent_payments(uow_factory(), member_id, now=now, months=months)
    with uow_factory() as uow:
        member = queries.member(uow, member_id)
        if member is None:
            raise MemberNotFound(member_id)
        region = regions.get(member.region_key)
        today = region.local_time(now).date()
        lines = [
            HistoryLine(
                paid_on=region.local_time(line.made_at).date(),
                amount_cents=line.amount_cents,
                target_kind=line.target_kind,
                bill_number=line.bill_number,
                coverage_month=None,
                channel=None,
                reference=line.confirmation_number,
                status=line.status,
                method_kind=line.method_kind,
                method_brand=line.method_brand,
                method_last4=line.method_last4,
                made_at=line.made_at,
            )
            for line in own
        ]
        taken_here = {line.reference for line in lines}
        lines += [
            HistoryLine(
                paid_on=row.paid_on,
                amount_cents=row.amount_cents,
                target_kind=TargetKind.BILL if row.bill_number else TargetKind.PREMIUM,
                bill_number=row.bill_number,
                coverage_month=row.coverage_month,
                channel=row.channel,
                reference=row.reference,
                status=PaymentStatus.SUCCEEDED,
            )
            for row in queries.feed_payments_since(uow, member_id, history_start(today, months))
            if row.reference not in taken_here
        ]
        # Newest day first; on one day, this line's (which have a time) before the others.
        lines.sort(
            key=lambda line: (line.paid_on, line.made_at is not None, line.made_at or now),
            reverse=True,
        )
        if channel is not None:
            audit.record(
                uow,
                at=now,
                action="payments_read",
                channel=channel,
                call_sid=call_sid,
                member_id=member_id,
                detail={"payments": len(lines)},
            )
            uow.commit()
        return tuple(lines)
