"""Reminders: a bill ready, a bill or premium due soon, an automatic payment or a plan
installment about to be charged, each sent once, as the member chose, outside quiet hours.

A run looks at each member as of a moment, on their own clock (the time zone of their
state). What it finds is queued in the outbox under a key made of what it reminds of
(the premium month, the bill, the installment) and the channel, so a second run, a run on
another worker at the same time, or a run again after a crash queues nothing twice: the
outbox keeps one message per key. A member whose clock reads quiet hours is left for a
later run (the job runs every hour); a message queued just before them still waits in
the outbox until they end.

What is reminded of:
- bill ready: a premium month or a medical bill still owed and not yet due (paperless
  members get it by email whatever they chose: it stands in for the mailed statement);
- due soon: the same, due within ReminderRules.due_soon_days, unless autopay (for the
  premium) or a scheduled payment will pay it;
- autopay upcoming: the premium autopay will charge within autopay_days;
- plan installment: the next installment due within plan_days.
A disputed bill, or one a payment plan holds, gets no bill reminder.
"""

from __future__ import annotations

import logging
import time as timer
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import exists, or_, select

from billing_core.adapters.models import (
    AutopayEnrollment,
    MedicalBill,
    Member,
    PaymentPlan,
    PremiumInvoice,
)
from billing_core.adapters.queries import accounts as account_queries
from billing_core.adapters.queries import plans as plan_queries
from billing_core.adapters.queries import preferences as preference_queries
from billing_core.adapters.queries import scheduled as scheduled_queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.autopay import DEFAULT_CHANGE_NOTICE_DAYS, MemberRange, member_ranges
from billing_core.domain.exceptions import BillingError
from billing_core.domain.payments import TargetKind
from billing_core.domain.preferences import MessageKind
from billing_core.domain.regions import Region, RegionCatalog
from billing_core.domain.reminders import ReminderRules, within
from billing_core.domain.scheduled import ScheduledStatus
from billing_core.services import autopay, outbox, preferences, receipts
from billing_core.services.reminder_notices import Recipients, reminder

log = logging.getLogger(__name__)

_UPCOMING = [status.value for status in ScheduledStatus if status.upcoming]


@dataclass
class RunReport:
    """What a run queued, by kind of reminder, and the members it looked at or put off."""

    queued: Counter = field(default_factory=Counter)
    members: int = 0
    # Members in their quiet hours: a later run reminds them.
    quiet: int = 0
    errors: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        kinds = ", ".join(f"{kind.value}: {self.queued[kind]}" for kind in _REMINDED)
        line = f"members: {self.members}, queued {kinds}, in quiet hours: {self.quiet}"
        if self.errors:
            line += f", errors: {len(self.errors)}"
        return line

    @classmethod
    def combined(cls, reports: Iterable[RunReport]) -> RunReport:
        total = cls()
        for report in reports:
            total.queued.update(report.queued)
            total.members += report.members
            total.quiet += report.quiet
            total.errors.extend(report.errors)
            total.seconds += report.seconds
        return total


_REMINDED = (
    MessageKind.BILL_READY,
    MessageKind.DUE_SOON,
    MessageKind.AUTOPAY_UPCOMING,
    MessageKind.PLAN_INSTALLMENT,
)


def _to_remind():
    """The SQL test of a member with something to be reminded of: a bill or premium month
    still owed, automatic payments, or an active payment plan (the rest are not read)."""
    return or_(
        exists().where(MedicalBill.member_id == Member.id, MedicalBill.owes()),
        exists().where(
            PremiumInvoice.member_id == Member.id,
            PremiumInvoice.amount_cents > PremiumInvoice.paid_cents,
        ),
        exists().where(
            AutopayEnrollment.member_id == Member.id, AutopayEnrollment.cancelled_at.is_(None)
        ),
        exists().where(PaymentPlan.member_id == Member.id, PaymentPlan.status == "active"),
    )


def run_batches(uow: UnitOfWork, size: int) -> list[MemberRange]:
    """The batches of a run: ranges of `size` member ids, each holding a member to remind."""
    number = Member.id // size
    with uow:
        numbers = list(
            uow.session.scalars(select(number).where(_to_remind()).distinct().order_by(number))
        )
    return member_ranges(numbers, size)


def run_reminders(
    uow_factory: Callable[[], UnitOfWork],
    *,
    as_of: datetime,
    regions: RegionCatalog,
    rules: ReminderRules,
    notice_days: int = DEFAULT_CHANGE_NOTICE_DAYS,
    members: MemberRange | None = None,
) -> RunReport:
    """Queue the reminders due as of then for every member (or a batch of them), once each."""
    started = timer.perf_counter()
    report = RunReport()
    query = select(Member.id).where(_to_remind()).order_by(Member.id)
    if members is not None:
        query = query.where(Member.id >= members.first, Member.id < members.stop)
    with uow_factory() as uow:
        member_ids = list(uow.session.scalars(query))
    for member_id in member_ids:
        try:
            _remind(uow_factory, member_id, as_of, regions, rules, notice_days, report)
        except BillingError as error:  # one member's problem never stops the run
            log.warning("reminders: member %s: %r", member_id, error)
            report.errors.append(member_id)
    report.seconds = timer.perf_counter() - started
    return report


def member_zone(member: Member, region: Region) -> tzinfo:
    """The member's own clock: their state's time zone, else their region's."""
    zone = receipts.zone_for_state(member.state)
    return region.time_zone if zone is UTC else zone


@dataclass
class _Member:
    """One member as a run reminds them: who, on what clock, and how to queue."""

    row: Member
    zone: tzinfo
    today: date
    plan_name: str
    paperless: bool
    now: datetime
    rules: ReminderRules
    report: RunReport

    def queue(self, uow: UnitOfWork, kind: MessageKind, words: str, key: str, **fields) -> None:
        phone, email = preferences.addresses(uow, self.row, kind)
        if kind is MessageKind.BILL_READY and self.paperless:
            email = preferences.usable_email(self.row)
        to = Recipients(self.row.first_name, self.row.language, self.plan_name, phone, email)
        for message in reminder(words, to, dedupe_key=f"reminder:{key}", **fields):
            if outbox.enqueue(
                uow, message, now=self.now, quiet_zone=self.zone, quiet=self.rules.quiet
            ):
                self.report.queued[kind] += 1


def _remind(uow_factory, member_id, as_of, regions, rules, notice_days, report) -> None:
    # Autopay's own view of its next charge (its own transaction): read first.
    status = autopay.status(uow_factory(), member_id, regions=regions, notice_days=notice_days)
    with uow_factory() as uow:
        row = account_queries.member_with_bills_and_premiums(uow, member_id)
        if row is None:  # removed since the run began
            return
        region = regions.get(row.region_key)
        zone = member_zone(row, region)
        if rules.quiet.holds(as_of.astimezone(zone)):
            report.quiet += 1
            return
        report.members += 1
        member = _Member(
            row=row,
            zone=zone,
            today=as_of.astimezone(zone).date(),
            plan_name=regions.plan_name,
            paperless=preference_queries.open_paperless(uow, member_id) is not None,
            now=as_of,
            rules=rules,
            report=report,
        )
        scheduled = scheduled_queries.member_scheduled(uow, member_id, _UPCOMING)
        _bills(uow, member, scheduled)
        if row.coverage_type.pays_premium_here:
            _premiums(uow, member, region, scheduled, autopay_on=status.enrolled)
            _autopay(uow, member, status)
        _plan_installment(uow, member)
        uow.commit()


def _bills(uow: UnitOfWork, member: _Member, scheduled) -> None:
    held = plan_queries.bill_ids_in_active_plans(uow, member.row.id)
    for bill in member.row.bills:
        if bill.balance_cents <= 0 or bill.disputed or bill.id in held:
            continue
        if bill.due_date < member.today:
            continue
        fields = {
            "bill": bill.bill_number,
            "facility": bill.facility,
            "amount": bill.balance_cents,
            "date": bill.due_date,
        }
        member.queue(uow, MessageKind.BILL_READY, "bill_ready", f"ready:bill:{bill.id}", **fields)
        if within(member.rules.due_soon_days, member.today, bill.due_date) and not any(
            _pays_bill(payment, bill.bill_number, bill.due_date) for payment in scheduled
        ):
            member.queue(uow, MessageKind.DUE_SOON, "bill_due", f"due:bill:{bill.id}", **fields)


def _premiums(uow: UnitOfWork, member: _Member, region: Region, scheduled, autopay_on) -> None:
    for invoice in member.row.premiums:
        if invoice.balance_cents <= 0:
            continue
        due = region.premium_due.due_date(invoice.coverage_month, member.row.state)
        if due < member.today:
            continue
        key = f"premium:{member.row.id}:{invoice.coverage_month:%Y-%m}"
        fields = {"month": invoice.coverage_month, "amount": invoice.balance_cents, "date": due}
        member.queue(uow, MessageKind.BILL_READY, "premium_ready", f"ready:{key}", **fields)
        if (
            within(member.rules.due_soon_days, member.today, due)
            and not autopay_on
            and not any(
                payment.target_kind == TargetKind.PREMIUM and payment.pay_on <= due
                for payment in scheduled
            )
        ):
            member.queue(uow, MessageKind.DUE_SOON, "premium_due", f"due:{key}", **fields)


def _pays_bill(payment, bill_number: str, due: date) -> bool:
    """Whether a scheduled payment will pay this bill by its due date."""
    if payment.pay_on > due:
        return False
    return payment.target_kind == TargetKind.ALL_BILLS or (
        payment.target_kind == TargetKind.BILL and payment.target_reference == bill_number
    )


def _plan_installment(uow: UnitOfWork, member: _Member) -> None:
    plan = plan_queries.active_plan(uow, member.row.id)
    if plan is None:
        return
    upcoming = [
        row
        for row in plan_queries.installments(uow, plan.id)
        if row.status == plan_queries.DUE and row.due_on >= member.today
    ]
    if not upcoming:
        return
    installment = min(upcoming, key=lambda row: row.due_on)
    if within(member.rules.plan_days, member.today, installment.due_on):
        member.queue(
            uow,
            MessageKind.PLAN_INSTALLMENT,
            "plan",
            f"plan:{installment.id}",
            amount=installment.amount_cents,
            date=installment.due_on,
            method=(plan.method_kind, plan.method_brand, plan.method_last4),
        )


def _autopay(uow: UnitOfWork, member: _Member, status: autopay.AutopayStatus) -> None:
    """The automatic payment about to be charged, as autopay's own status tells it."""
    amount, charge_on, month = (
        status.next_amount_cents,
        status.next_charge_on,
        status.next_coverage_month,
    )
    if not status.enrolled or not amount or charge_on is None or month is None:
        return
    if status.max_amount_cents is not None and amount > status.max_amount_cents:
        return  # it will not be charged; autopay's own notice says so
    if not within(member.rules.autopay_days, member.today, charge_on):
        return
    member.queue(
        uow,
        MessageKind.AUTOPAY_UPCOMING,
        "autopay",
        f"autopay:{member.row.id}:{month:%Y-%m}",
        month=month,
        amount=amount,
        date=charge_on,
        method=(status.method_kind, status.method_brand, status.method_last4),
    )
