"""What a member owes: medical bills and premium, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from billing_core.adapters.queries import accounts as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import MemberNotFound
from billing_core.domain.members import CoverageType
from billing_core.domain.regions import RegionCatalog
from billing_core.services import audit


@dataclass(frozen=True)
class BillLine:
    bill_number: str
    date_of_service: date
    facility: str
    provider: str
    amount_cents: int
    balance_cents: int
    due_date: date
    # Insurance and adjustments, and what has been paid, as the billing system reports them
    # (with this line's payments since).
    adjustments_cents: int = 0
    paid_cents: int = 0
    # Due before today in the member's region, and not paid.
    past_due: bool = False


@dataclass(frozen=True)
class PremiumLine:
    coverage_month: date
    amount_cents: int
    balance_cents: int
    due_date: date


@dataclass(frozen=True)
class AccountSummary:
    member_id: int
    first_name: str
    region_key: str
    state: str
    language: str
    coverage_type: CoverageType
    monthly_premium_cents: int | None
    bills: tuple[BillLine, ...]
    premiums_due: tuple[PremiumLine, ...]
    # Account credit the billing system has not applied yet: spoken, never taken off a balance.
    credit_cents: int = 0

    @property
    def medical_balance_cents(self) -> int:
        return sum(bill.balance_cents for bill in self.bills)

    @property
    def premium_balance_cents(self) -> int:
        return sum(line.balance_cents for line in self.premiums_due)

    @property
    def pays_premium_here(self) -> bool:
        return self.coverage_type.pays_premium_here


def account_summary(
    uow: UnitOfWork,
    *,
    member_id: int,
    regions: RegionCatalog,
    now: datetime,
    channel: str,
    call_sid: str | None = None,
) -> AccountSummary:
    """Return the member's open medical bills (oldest first) and unpaid premiums, and audit it."""
    with uow:
        found = queries.open_account(uow, member_id)
        if found is None:
            raise MemberNotFound(member_id)
        member, bill_rows, premium_rows = found
        region = regions.get(member.region_key)
        today = region.local_time(now).date()
        bills = tuple(
            BillLine(
                b.bill_number,
                b.date_of_service,
                b.facility,
                b.provider,
                b.amount_cents,
                max(b.amount_cents - b.adjustments_cents - b.paid_cents, 0),
                b.due_date,
                adjustments_cents=b.adjustments_cents,
                paid_cents=b.paid_cents,
                past_due=b.due_date < today,
            )
            for b in bill_rows
        )
        premiums = ()
        if member.coverage_type.pays_premium_here:
            premiums = tuple(
                PremiumLine(
                    p.coverage_month,
                    p.amount_cents,
                    p.amount_cents - p.paid_cents,
                    region.premium_due.due_date(p.coverage_month, member.state),
                )
                for p in premium_rows
            )
        audit.record(
            uow,
            at=now,
            action="balances_read",
            channel=channel,
            call_sid=call_sid,
            member_id=member.id,
            detail={"bills": len(bills), "premiums": len(premiums)},
        )
        uow.commit()
        return AccountSummary(
            member_id=member.id,
            first_name=member.first_name,
            region_key=member.region_key,
            state=member.state,
            language=member.language,
            coverage_type=member.coverage_type,
            monthly_premium_cents=member.monthly_premium_cents,
            bills=bills,
            premiums_due=premiums,
            credit_cents=member.credit_cents,
        )
