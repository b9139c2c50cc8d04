"""The billing core as one object a channel builds once and calls: it owns its transactions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from billing_core.adapters import translations
from billing_core.adapters.db import make_session_factory
from billing_core.adapters.gateways.base import PaymentGateway
from billing_core.adapters.gateways.deadline import DeadlineGateway
from billing_core.adapters.ledger_entries import entries_csv, entries_json
from billing_core.adapters.unit_of_work import SharedReads, UnitOfWork
from billing_core.domain.autopay import (
    DEFAULT_CHANGE_NOTICE_DAYS,
    AutopayAuthorization,
    MemberRange,
    RetrySchedule,
)
from billing_core.domain.clock import Clock
from billing_core.domain.documents import Delivery as DocumentDelivery
from billing_core.domain.events import Observer
from billing_core.domain.identity import IdentityHasher
from billing_core.domain.money import LOCALES
from billing_core.domain.payments import AchAuthorization, PaymentTarget
from billing_core.domain.plans import PlanRulebook
from billing_core.domain.preferences import Delivery, MessageKind
from billing_core.domain.regions import RegionCatalog
from billing_core.domain.reminders import ReminderRules
from billing_core.domain.text_keywords import ConsentChannel, ConsentStatus, Keyword
from billing_core.services import (
    accounts,
    autopay,
    documents,
    email_opt_out,
    history,
    identification,
    ledger,
    outbox,
    payment_lifecycle,
    payments,
    plan_export,
    plan_servicing,
    plans,
    preferences,
    reminders,
    scheduled,
    servicing,
    text_consent,
    wallet,
)


@dataclass
class BillingCore:
    engine: Engine
    hasher: IdentityHasher
    regions: RegionCatalog
    clock: Clock
    lockout_policy: identification.LockoutPolicy = field(
        default_factory=identification.LockoutPolicy
    )
    gateway: PaymentGateway | None = None
    # Seconds a charge may take before it is UNKNOWN (settled later by reconcile); None: no limit.
    gateway_deadline: float | None = None
    autopay_retries: RetrySchedule = field(default_factory=RetrySchedule)
    # Days a first or changed autopay amount is announced before it is charged.
    autopay_notice_days: int = DEFAULT_CHANGE_NOTICE_DAYS
    # Members (by id range) in one job of the daily autopay run.
    autopay_batch_size: int = 500
    # The limits of the payment plans offered, per region where it differs.
    plan_rules: PlanRulebook = field(default_factory=PlanRulebook)
    # How far ahead reminders go, and the quiet hours they keep.
    reminder_rules: ReminderRules = field(default_factory=ReminderRules)
    # The fee recorded on a returned bank debit, for the billing system to post (0: none).
    returned_item_fee_cents: int = 0
    # Told of each payment settled and each identification, once committed (domain.events).
    observers: list[Observer] = field(default_factory=list)
    session_factory: sessionmaker = field(init=False)
    shared_reads: SharedReads = field(init=False)

    def __post_init__(self) -> None:
        self.session_factory = make_session_factory(self.engine)
        self.shared_reads = SharedReads(self.session_factory)
        # The receipts' catalogs, read now so a broken one shows at start-up.
        translations.load_all(tuple(LOCALES))
        if self.gateway is None:
            from billing_core.adapters.gateways.sandbox import SandboxGateway

            self.gateway = SandboxGateway(self.session_factory, self.clock)
        if self.gateway_deadline is not None:
            self.gateway = DeadlineGateway(self.gateway, self.gateway_deadline)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.observers)

    def reading(self) -> UnitOfWork:
        """A unit of work for a service that only reads: no write lock, no BEGIN round trip."""
        return UnitOfWork(self.session_factory, read_only=True, shared=self.shared_reads)

    def share_reads(self) -> None:
        """Run this thread's reads in one session until stop_sharing_reads() (a webhook's)."""
        self.shared_reads.open()

    def stop_sharing_reads(self) -> None:
        self.shared_reads.close()

    def observe(self, observer: Observer) -> None:
        """Tell the observer of every event from now on: payments settled, identifications."""
        self.observers.append(observer)

    def mrn_digest(self, mrn: str) -> str:
        return self.hasher.mrn(mrn)

    def identify(
        self,
        *,
        mrn_digest: str,
        birth_date: date,
        caller: str | None,
        channel: str,
        call_sid: str | None = None,
    ) -> identification.IdentifiedMember:
        return identification.identify(
            self.unit_of_work(),
            hasher=self.hasher,
            policy=self.lockout_policy,
            now=self.clock.now(),
            mrn_digest=mrn_digest,
            birth_date=birth_date,
            caller=caller,
            channel=channel,
            call_sid=call_sid,
        )

    def unlock_member(self, mrn: str, *, by: str) -> identification.Unlocked:
        """Lift an MRN's lock-outs and hold (an operator's command); recorded with who ran it."""
        return identification.unlock_member(
            self.unit_of_work(), now=self.clock.now(), mrn_digest=self.hasher.mrn(mrn), by=by
        )

    def unlock_number(self, number: str, *, by: str) -> identification.Unlocked:
        """Lift a calling number's lock-outs, or the withheld bucket's for `withheld`.

        Raises ValueError for anything that is neither a usable number nor `withheld`.
        """
        source = identification.operator_source(number, self.hasher)
        if source is None:
            raise ValueError("not a usable calling number, nor 'withheld'")
        return identification.unlock_source(
            self.unit_of_work(), now=self.clock.now(), source=source, by=by
        )

    def account_summary(
        self, member_id: int, *, channel: str, call_sid: str | None = None
    ) -> accounts.AccountSummary:
        return accounts.account_summary(
            self.unit_of_work(),
            member_id=member_id,
            regions=self.regions,
            now=self.clock.now(),
            channel=channel,
            call_sid=call_sid,
        )

    def quote(self, member_id: int, target: PaymentTarget) -> payments.PayableBalance:
        return payments.quote(self.reading(), member_id, target)

    def pay(self, request: payments.PaymentRequest) -> payments.PaymentOutcome:
        return payments.pay(self.unit_of_work, self.gateway, request, now=self.clock.now())

    def payment_made_under(self, idempotency_key: str) -> payments.PaymentOutcome | None:
        return payments.made_under(self.unit_of_work(), idempotency_key)

    def reconcile(self, **options) -> payments.ReconcileReport:
        return payments.reconcile(self.unit_of_work, self.gateway, now=self.clock.now(), **options)

    def follow_bank_debits(self) -> payment_lifecycle.DebitReport:
        """Record the bank debits that settled or came back since the last look."""
        return payment_lifecycle.follow_bank_debits(
            self.unit_of_work,
            self.gateway,
            now=self.clock.now(),
            returned_item_fee_cents=self.returned_item_fee_cents,
        )

    def follow_bank_debit(self, reference: str) -> payment_lifecycle.DebitReport:
        """Record what became of the debit a gateway's event named, as the gateway says."""
        return payment_lifecycle.follow_bank_debit(
            self.unit_of_work,
            self.gateway,
            reference=reference,
            now=self.clock.now(),
            returned_item_fee_cents=self.returned_item_fee_cents,
        )

    def refund_payment(
        self,
        confirmation_number: str,
        amount_cents: int | None = None,
        *,
        by: str,
        another: bool = False,
    ) -> payment_lifecycle.GivenBack:
        """Refund part or the rest of a settled payment through the gateway, once; audited."""
        return payment_lifecycle.refund(
            self.unit_of_work,
            self.gateway,
            confirmation_number=confirmation_number,
            amount_cents=amount_cents,
            by=by,
            now=self.clock.now(),
            another=another,
        )

    def void_payment(self, confirmation_number: str, *, by: str) -> payment_lifecycle.GivenBack:
        """Cancel a payment that has not settled, in full, once; audited."""
        return payment_lifecycle.void(
            self.unit_of_work,
            self.gateway,
            confirmation_number=confirmation_number,
            by=by,
            now=self.clock.now(),
        )

    def payment_details(self, confirmation_number: str, *, by: str) -> servicing.PaymentDetails:
        """A payment by its confirmation number, masked, with its history; audited."""
        return servicing.payment_details(
            self.unit_of_work(), confirmation_number, by=by, now=self.clock.now()
        )

    def member_activity(self, mrn: str, *, by: str, days: int = 90) -> servicing.MemberActivity:
        """A member's recent calls and payments, by MRN (never kept), masked; audited."""
        return servicing.member_activity(
            self.unit_of_work(), self.hasher.mrn(mrn), by=by, now=self.clock.now(), days=days
        )

    def outbox_state(self) -> outbox.OutboxState:
        """How the outbox of texts and emails stands: counts, the oldest wait, failures."""
        return outbox.outbox_state(self.reading())

    def recent_payments(self, member_id: int, **options) -> tuple[payments.PaymentLine, ...]:
        return payments.recent_payments(
            self.unit_of_work(), member_id, now=self.clock.now(), **options
        )

    def payment_history(self, member_id: int, **options) -> tuple[history.HistoryLine, ...]:
        """The member's payments of the last 13 months from every channel, newest first."""
        return history.payment_history(
            self.unit_of_work, member_id, regions=self.regions, now=self.clock.now(), **options
        )

    def export_payments_csv(self, since: date) -> str:
        return payments.export_payments_csv(self.unit_of_work(), since)

    def saved_methods(self, member_id: int) -> list[wallet.SavedMethod]:
        return wallet.saved_methods(self.reading(), member_id, today=self.clock.now().date())

    def saved_method(self, member_id: int, method_id: int) -> wallet.SavedMethod | None:
        return wallet.saved_method(self.reading(), member_id, method_id)

    def save_method(self, member_id: int, **method) -> wallet.SavedMethod:
        return wallet.save_method(
            self.unit_of_work(), member_id=member_id, now=self.clock.now(), **method
        )

    def text_receipt(self, member_id: int, confirmation_number: str, phone: str) -> bool:
        return payments.text_receipt(
            self.unit_of_work(),
            member_id=member_id,
            confirmation_number=confirmation_number,
            phone=phone,
            now=self.clock.now(),
        )

    def text_consent(self, number: str) -> text_consent.TextConsent | None:
        """The number's consent to texts as last changed; None if it never changed."""
        return text_consent.consent_of(self.unit_of_work(), number)

    def texts_stopped(self, number: str) -> bool:
        """Whether the number has opted out of texts."""
        return text_consent.is_opted_out(self.unit_of_work(), number)

    def change_text_consent(
        self,
        number: str,
        status: ConsentStatus,
        *,
        channel: ConsentChannel,
        keyword: str | None = None,
        by: str | None = None,
    ) -> str:
        """Opt the number out of texts or back in; the number as kept (E.164).

        `by` names who made the change (a billing specialist), for the audit log.
        """
        return text_consent.change(
            self.unit_of_work(),
            number,
            status,
            channel=channel,
            keyword=keyword,
            by=by,
            now=self.clock.now(),
        )

    def texted_keyword(self, number: str, keyword: Keyword) -> ConsentStatus | None:
        """Record what a keyword texted from the number asks; the status set, None for HELP."""
        return text_consent.apply_keyword(
            self.unit_of_work(), number, keyword, now=self.clock.now()
        )

    def claim_text_auto_reply(self, number: str) -> bool:
        """Whether the number may be told now that texts are not read (once a day at most)."""
        return text_consent.claim_auto_reply(self.unit_of_work(), number, now=self.clock.now())

    def autopay_status(self, member_id: int) -> autopay.AutopayStatus:
        return autopay.status(
            self.reading(),
            member_id,
            regions=self.regions,
            notice_days=self.autopay_notice_days,
        )

    def autopay_refusal(self, member_id: int) -> str | None:
        """Why the member may not pay the premium automatically, or None if they may."""
        return autopay.refusal(self.reading(), member_id)

    def enroll_autopay(
        self,
        member_id: int,
        saved_method_id: int | None,
        authorization: AutopayAuthorization,
        max_amount_cents: int | None = None,
        *,
        new_method: autopay.NewMethod | None = None,
    ) -> int:
        """Record the member's standing authorization and queue its written copy; its id.

        With new_method (and no saved_method_id) the method is saved with the enrollment.
        """
        return autopay.enroll(
            self.unit_of_work(),
            member_id=member_id,
            saved_method_id=saved_method_id,
            authorization=authorization,
            max_amount_cents=max_amount_cents,
            now=self.clock.now(),
            regions=self.regions,
            notice_days=self.autopay_notice_days,
            new_method=new_method,
        )

    def change_autopay_method(
        self,
        member_id: int,
        saved_method_id: int | None,
        authorization: AutopayAuthorization,
        *,
        new_method: autopay.NewMethod | None = None,
    ) -> int:
        """Charge another method under the authorization accepted for it; the enrollment id."""
        return autopay.change_method(
            self.unit_of_work(),
            member_id=member_id,
            saved_method_id=saved_method_id,
            now=self.clock.now(),
            authorization=authorization,
            regions=self.regions,
            notice_days=self.autopay_notice_days,
            new_method=new_method,
        )

    def set_autopay_maximum(
        self,
        member_id: int,
        max_amount_cents: int | None,
        *,
        channel: str,
        call_sid: str | None = None,
    ) -> None:
        """Set (or, with None, remove) the most a premium may be charged automatically."""
        autopay.set_maximum(
            self.unit_of_work(),
            member_id=member_id,
            max_amount_cents=max_amount_cents,
            channel=channel,
            call_sid=call_sid,
            now=self.clock.now(),
        )

    def cancel_autopay(self, member_id: int, *, channel: str, call_sid: str | None = None) -> bool:
        return autopay.cancel(
            self.unit_of_work(),
            member_id=member_id,
            channel=channel,
            call_sid=call_sid,
            now=self.clock.now(),
        )

    def run_autopay(
        self, as_of: datetime | None = None, members: MemberRange | None = None
    ) -> autopay.RunReport:
        """Charge the premiums (and retries) due on each member's regional day as of then."""
        return autopay.run_autopay(
            self.unit_of_work,
            self.gateway,
            as_of=as_of or self.clock.now(),
            regions=self.regions,
            schedule=self.autopay_retries,
            notice_days=self.autopay_notice_days,
            members=members,
        )

    def autopay_batches(self) -> list[MemberRange]:
        """The member id ranges of a run, each with at least one active enrollment."""
        return autopay.run_batches(self.unit_of_work(), self.autopay_batch_size)

    def remove_saved_method(self, member_id: int, method_id: int) -> bool:
        """Stop keeping a saved method; an autopay member using it is told to choose another."""
        return wallet.remove_method(
            self.unit_of_work(),
            member_id=member_id,
            method_id=method_id,
            now=self.clock.now(),
            on_removed=autopay.notify_method_removed,
        )

    def pay_date_window(self, member_id: int, target: PaymentTarget) -> scheduled.PayDateWindow:
        """The days a payment on the target may be scheduled for, in the member's region."""
        return scheduled.window(
            self.reading(), member_id, target, regions=self.regions, now=self.clock.now()
        )

    def schedule_payment(self, request: scheduled.ScheduleRequest) -> scheduled.Scheduled:
        """Set a one-time payment for a later day; the same request twice sets it once."""
        return scheduled.schedule(
            self.unit_of_work(), request, regions=self.regions, now=self.clock.now()
        )

    def scheduled_payments(self, member_id: int) -> list[scheduled.UpcomingPayment]:
        return scheduled.upcoming(self.reading(), member_id)

    def cancel_scheduled_payment(
        self, member_id: int, scheduled_id: int, *, channel: str, call_sid: str | None = None
    ) -> bool:
        """Call off a scheduled payment whose charge has not begun; whether it was."""
        return scheduled.cancel(
            self.unit_of_work(),
            member_id=member_id,
            scheduled_id=scheduled_id,
            channel=channel,
            call_sid=call_sid,
            now=self.clock.now(),
        )

    def run_scheduled(
        self, as_of: datetime | None = None, members: MemberRange | None = None
    ) -> scheduled.RunReport:
        """Charge the scheduled payments (and retries) due on each member's regional day."""
        return scheduled.run_scheduled(
            self.unit_of_work,
            self.gateway,
            as_of=as_of or self.clock.now(),
            regions=self.regions,
            schedule=self.autopay_retries,
            members=members,
        )

    def scheduled_batches(self, as_of: datetime) -> list[MemberRange]:
        """The member id ranges of a scheduled run, each with a payment due by then."""
        return scheduled.run_batches(self.unit_of_work(), as_of, self.autopay_batch_size)

    def plan_offer(self, member_id: int) -> plans.PlanOffer:
        """The payment plans the member's open medical bills allow today, and the bills left out."""
        today = plans.member_today(self.unit_of_work(), member_id, self.regions, self.clock.now())
        return plans.offer(self.unit_of_work(), member_id, today, self.plan_rules)

    def set_up_plan(
        self,
        member_id: int,
        months: int,
        method_id: int | None,
        authorization: AutopayAuthorization,
        *,
        request_key: str,
        new_method: autopay.NewMethod | None = None,
    ) -> plans.PlanSetUp:
        """Set up a payment plan and charge its first installment once; asked again, the same."""
        return plans.set_up(
            self.unit_of_work,
            self.gateway,
            member_id=member_id,
            months=months,
            method_id=method_id,
            authorization=authorization,
            now=self.clock.now(),
            regions=self.regions,
            rules=self.plan_rules,
            request_key=request_key,
            new_method=new_method,
        )

    def plan_status(self, member_id: int) -> plan_servicing.PlanStatus | None:
        """The member's active plan (or latest lapsed one still owed) as the phone speaks it."""
        return plan_servicing.status(self.reading(), member_id, self.regions)

    def pay_plan_ahead(
        self,
        member_id: int,
        plan_id: int,
        *,
        payoff: bool,
        request_key: str,
        channel: str,
        call_sid: str | None = None,
        ach_authorization: AchAuthorization | None = None,
    ) -> payments.PaymentOutcome:
        """Pay the plan's next installment now, or all it still owes; once per request key."""
        return plan_servicing.pay_ahead(
            self.unit_of_work,
            self.gateway,
            member_id=member_id,
            plan_id=plan_id,
            payoff=payoff,
            request_key=request_key,
            channel=channel,
            call_sid=call_sid,
            now=self.clock.now(),
            ach_authorization=ach_authorization,
        )

    def change_plan_method(
        self,
        member_id: int,
        plan_id: int,
        method_id: int | None,
        authorization: AutopayAuthorization,
        *,
        new_method: autopay.NewMethod | None = None,
    ) -> None:
        """Charge the plan's next installments to another method, as the member authorized."""
        plan_servicing.change_method(
            self.unit_of_work(),
            member_id=member_id,
            plan_id=plan_id,
            method_id=method_id,
            new_method=new_method,
            authorization=authorization,
            regions=self.regions,
            now=self.clock.now(),
        )

    def export_ledger(self, since: datetime, file_format: str = "csv") -> str:
        """Every payment change since the moment, one entry per bill or month, CSV or JSON."""
        entries = ledger.entries_since(self.unit_of_work(), since)
        return entries_json(entries) if file_format == "json" else entries_csv(entries)

    def export_plans(self, since: date | None = None, file_format: str = "csv") -> str:
        """The plans changed on or after `since` (None: every plan), as CSV or JSON."""
        return plan_export.export_plans(self.unit_of_work(), since, file_format)

    def message_preferences(self, member_id: int) -> preferences.Preferences:
        """How the member chose to hear from the plan, where it can reach them, paperless."""
        return preferences.read(self.reading(), member_id)

    def choose_delivery(
        self,
        member_id: int,
        kind: MessageKind,
        delivery: Delivery,
        *,
        channel: str,
        call_sid: str | None = None,
    ) -> None:
        """Keep how the member wants one kind of message."""
        preferences.choose(
            self.unit_of_work(),
            member_id=member_id,
            kind=kind,
            delivery=delivery,
            channel=channel,
            call_sid=call_sid,
            now=self.clock.now(),
        )

    def agree_to_texts(
        self,
        member_id: int,
        *,
        text: str,
        channel: str,
        call_sid: str | None = None,
        caller_number: str | None = None,
    ) -> None:
        """Record the member's consent to texts at the phone on file (TCPA), as accepted."""
        preferences.agree_to_texts(
            self.unit_of_work(),
            member_id=member_id,
            text=text,
            channel=channel,
            call_sid=call_sid,
            now=self.clock.now(),
            caller_number=caller_number,
        )

    def paperless_on(self, member_id: int, terms: preferences.PaperlessTerms) -> bool:
        """Turn paperless billing on under the terms accepted; False if it was on already."""
        return preferences.paperless_on(self.unit_of_work(), member_id=member_id, terms=terms)

    def paperless_off(self, member_id: int, *, channel: str, call_sid: str | None = None) -> bool:
        """Turn paperless billing off; False if it was not on."""
        return preferences.paperless_off(
            self.unit_of_work(),
            member_id=member_id,
            channel=channel,
            call_sid=call_sid,
            now=self.clock.now(),
        )

    def run_plans(
        self, as_of: datetime | None = None, members: MemberRange | None = None
    ) -> plans.RunReport:
        """Charge the plan installments (and retries) due on each member's regional day."""
        return plans.run_plans(
            self.unit_of_work,
            self.gateway,
            as_of=as_of or self.clock.now(),
            regions=self.regions,
            rules=self.plan_rules,
            schedule=self.autopay_retries,
            members=members,
        )

    def plan_batches(self, as_of: datetime) -> list[MemberRange]:
        """The member id ranges of a plans run, each with an installment due by then."""
        return plans.run_batches(self.unit_of_work(), as_of, self.autopay_batch_size)

    def run_reminders(
        self, as_of: datetime | None = None, members: MemberRange | None = None
    ) -> reminders.RunReport:
        """Queue the reminders due as of then (bill ready, due soon, autopay, plan), once each."""
        return reminders.run_reminders(
            self.unit_of_work,
            as_of=as_of or self.clock.now(),
            regions=self.regions,
            rules=self.reminder_rules,
            notice_days=self.autopay_notice_days,
            members=members,
        )

    def reminder_batches(self) -> list[MemberRange]:
        """The member id ranges of a reminders run."""
        return reminders.run_batches(self.unit_of_work(), self.autopay_batch_size)

    def unsubscribe_email(self, address_digest: str, *, channel: str) -> bool:
        """Stop reminders and notices to the address a signed link names; False if already."""
        return email_opt_out.unsubscribe(
            self.unit_of_work(), address_digest, channel=channel, now=self.clock.now()
        )

    def request_document(
        self,
        member_id: int,
        kind: str,
        year: int | None = None,
        *,
        channel: str,
        call_sid: str | None = None,
    ) -> documents.DocumentRequested:
        """Send a statement or letter as a PDF: emailed, else queued for mail; audited.

        kind is a DocumentKind value; year is a tax letter's (default: last year). Raises
        DocumentNotDeliverable (reason no_email_or_address) when neither is on file.
        """
        return documents.request_document(
            self.unit_of_work,
            member_id=member_id,
            kind=kind,
            year=year,
            channel=channel,
            call_sid=call_sid,
            regions=self.regions,
            now=self.clock.now(),
        )

    def document_delivery(self, member_id: int) -> DocumentDelivery | None:
        """Where the member's statements and letters go: email, mail, or None (neither)."""
        return documents.delivery_for(self.unit_of_work, member_id)

    def export_print(self, since: date, directory: Path) -> documents.PrintExport:
        """Write the documents queued for mail since the day, with their manifest, for printing."""
        return documents.export_print(
            self.unit_of_work(), since=since, directory=directory, now=self.clock.now()
        )
