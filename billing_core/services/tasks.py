"""The billing core's scheduled work as job definitions: receipts out, payments settled.

Each task calls a service that is already idempotent in the database: the outbox claims
each message before sending it and records it sent, reconcile settles a payment once
from the gateway's record and never charges. Running a task twice, on two hosts at
once, or again after a crash, sends or settles nothing twice. Autopay and scheduled
payments are split: each daily job defers one job per batch of members
(jobs.batched_job), so every worker shares it; each batch charges what it holds once,
whichever worker runs it and however often.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta

from billing_core.adapters.jobs import Batches, BatchKey, JobDefinition, batched_job
from billing_core.core import BillingCore
from billing_core.domain.autopay import MemberRange
from billing_core.services.autopay import RunReport
from billing_core.services.outbox import Sender, deliver_pending
from billing_core.services.plans import RunReport as PlansReport
from billing_core.services.reminders import RunReport as RemindersReport
from billing_core.services.scheduled import RunReport as ScheduledReport

OUTBOX = "outbox"
RECONCILE = "reconcile"
AUTOPAY = "autopay"
SCHEDULED = "scheduled"
PLANS = "plans"
REMINDERS = "reminders"
# Payments younger than this are left to the call still taking them.
RECONCILE_OLDER_THAN = timedelta(minutes=10)


class FixedClock:
    """A clock stopped at one time: a task run as of a given moment."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def core_as_of(core: BillingCore, now: datetime) -> BillingCore:
    """The same billing core (engine, gateway) whose clock reads `now`."""
    at = copy.copy(core)
    at.clock = FixedClock(now)
    return at


def billing_tasks(
    core: BillingCore, senders: Mapping[str, Sender], *, batch: int = 50
) -> list[JobDefinition]:
    """The outbox, reconcile, autopay, scheduled, plans and reminders tasks of this core."""

    def deliver(now: datetime) -> str:
        if not senders:
            return "no sender configured (IVR_SMS_FROM, IVR_SMTP_HOST); nothing sent"
        report = deliver_pending(
            core.unit_of_work, senders, now=now, batch=batch, quiet=core.reminder_rules.quiet
        )
        line = (
            f"sent: {len(report.sent)}, to retry: {len(report.retrying)}, "
            f"failed: {len(report.failed)}"
        )
        if report.opted_out:
            line += f", not sent (recipient opted out): {len(report.opted_out)}"
        if report.deferred:
            line += f", waiting for the end of quiet hours: {len(report.deferred)}"
        return line

    def reconcile(now: datetime) -> str:
        at = core_as_of(core, now)
        report = at.reconcile(older_than=RECONCILE_OLDER_THAN)
        debits = at.follow_bank_debits()
        return (
            f"succeeded: {len(report.succeeded)}, failed: {len(report.failed)}, "
            f"still open: {len(report.unsettled)}; {debits.line()}"
        )

    def autopay_split(now: datetime) -> list[BatchKey]:
        return [(batch.first, batch.stop) for batch in core.autopay_batches()]

    def autopay_batch(now: datetime, key: BatchKey) -> RunReport:
        first, stop = key
        return core.run_autopay(now, MemberRange(first, stop))

    def autopay_line(reports: list[RunReport]) -> str:
        return RunReport.combined(reports).line()

    def scheduled_split(now: datetime) -> list[BatchKey]:
        return [(batch.first, batch.stop) for batch in core.scheduled_batches(now)]

    def scheduled_batch(now: datetime, key: BatchKey) -> ScheduledReport:
        first, stop = key
        return core.run_scheduled(now, MemberRange(first, stop))

    def scheduled_line(reports: list[ScheduledReport]) -> str:
        return ScheduledReport.combined(reports).line()

    def plans_split(now: datetime) -> list[BatchKey]:
        return [(batch.first, batch.stop) for batch in core.plan_batches(now)]

    def plans_batch(now: datetime, key: BatchKey) -> PlansReport:
        first, stop = key
        return core.run_plans(now, MemberRange(first, stop))

    def plans_line(reports: list[PlansReport]) -> str:
        return PlansReport.combined(reports).line()

    def reminders_split(now: datetime) -> list[BatchKey]:
        return [(batch.first, batch.stop) for batch in core.reminder_batches()]

    def reminders_batch(now: datetime, key: BatchKey) -> RemindersReport:
        first, stop = key
        return core.run_reminders(now, MemberRange(first, stop))

    def reminders_line(reports: list[RemindersReport]) -> str:
        return RemindersReport.combined(reports).line()

    return [
        JobDefinition(
            name=OUTBOX,
            summary="send the queued text and email receipts that are due",
            run=deliver,
            cron="* * * * *",
        ),
        JobDefinition(
            name=RECONCILE,
            summary="settle PENDING and UNKNOWN payments from the gateway's records, and "
            "record the bank debits that settled or were returned",
            run=reconcile,
            cron="*/5 * * * *",
        ),
        batched_job(
            AUTOPAY,
            f"charge the automatic premium payments and retries due today "
            f"(one job per {core.autopay_batch_size} member ids)",
            Batches(split=autopay_split, run=autopay_batch, combine=autopay_line),
            # 12:00 UTC is the same calendar day in every US region (02:00 in Hawaii).
            cron="0 12 * * *",
        ),
        batched_job(
            SCHEDULED,
            f"charge the one-time payments scheduled for today, and their retries "
            f"(one job per {core.autopay_batch_size} member ids)",
            Batches(split=scheduled_split, run=scheduled_batch, combine=scheduled_line),
            # As autopay: 12:00 UTC is the same calendar day in every US region.
            cron="0 12 * * *",
        ),
        batched_job(
            PLANS,
            f"charge the payment plan installments due today, and their retries "
            f"(one job per {core.autopay_batch_size} member ids)",
            Batches(split=plans_split, run=plans_batch, combine=plans_line),
            # As autopay: 12:00 UTC is the same calendar day in every US region.
            cron="0 12 * * *",
        ),
        batched_job(
            REMINDERS,
            f"queue the reminders due (bill ready, due soon, autopay and plan installments "
            f"coming up), each once, outside quiet hours "
            f"(one job per {core.autopay_batch_size} member ids)",
            Batches(split=reminders_split, run=reminders_batch, combine=reminders_line),
            # Hourly: each member is reminded in the first run after their quiet hours end.
            cron="30 * * * *",
        ),
    ]
