"""Tables of the billing core. Money is integer cents; times are UTC.

A member's medical record number and birth date are never stored: the member is
found by a keyed digest of the MRN, and the birth date is checked against a keyed
digest of both (see billing_core.domain.identity). Only the last digits of the MRN are kept,
for people who need to tell members apart.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from billing_core.adapters.db import Base
from billing_core.domain.members import CoverageType
from billing_core.domain.payments import PaymentStatus
from billing_core.domain.text_keywords import ConsentChannel, ConsentStatus


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware times")
        return value

    def process_result_value(self, value, dialect):
        from datetime import UTC

        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    # Stored as plain text so adding a value needs no database enum migration.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        values_callable=lambda e: [m.value for m in e],
        length=32,
        validate_strings=True,
    )


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mrn_digest: Mapped[str] = mapped_column(String(64), unique=True)
    mrn_last4: Mapped[str] = mapped_column(String(4))
    birth_digest: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    region_key: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(2))
    coverage_type: Mapped[CoverageType] = mapped_column(_enum(CoverageType, "coverage_type"))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="en")
    monthly_premium_cents: Mapped[int | None] = mapped_column(BigInteger)
    # Where paper is mailed, as the billing feed gives it; all empty when none is on file.
    address_line1: Mapped[str | None] = mapped_column(String(100))
    address_line2: Mapped[str | None] = mapped_column(String(100))
    address_city: Mapped[str | None] = mapped_column(String(60))
    address_state: Mapped[str | None] = mapped_column(String(2))
    address_zip: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The billing system's own account id, as the feed gives it: the ledger export carries
    # it so the billing system can post payments by its own key.
    account_key: Mapped[str | None] = mapped_column(String(40))
    # Account credit the billing system holds and has not applied to a bill yet: spoken,
    # never taken off what the line asks for (the billing system applies it).
    credit_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    bills: Mapped[list[MedicalBill]] = relationship(
        back_populates="member",
        order_by="MedicalBill.date_of_service",
        cascade="all, delete-orphan",
    )
    premiums: Mapped[list[PremiumInvoice]] = relationship(
        back_populates="member",
        order_by="PremiumInvoice.coverage_month",
        cascade="all, delete-orphan",
    )


class MedicalBill(Base):
    __tablename__ = "medical_bills"
    __table_args__ = (UniqueConstraint("member_id", "bill_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    bill_number: Mapped[str] = mapped_column(String(40))
    date_of_service: Mapped[date] = mapped_column(Date)
    facility: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # What the billing system last reported paid, and that plus this line's payments since.
    feed_paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    due_date: Mapped[date] = mapped_column(Date)
    # The billing system says the member disputes it: no plan may take it.
    disputed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Insurance and adjustments, as the billing system reports them: not owed.
    adjustments_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    member: Mapped[Member] = relationship(back_populates="bills")

    @property
    def balance_cents(self) -> int:
        return max(self.amount_cents - self.adjustments_cents - self.paid_cents, 0)

    @classmethod
    def owes(cls) -> Any:
        """The SQL test of a bill with a balance (amount less adjustments, more than paid)."""
        return cls.amount_cents > cls.paid_cents + cls.adjustments_cents


class PremiumInvoice(Base):
    """The premium for one coverage month (the first day of that month)."""

    __tablename__ = "premium_invoices"
    __table_args__ = (UniqueConstraint("member_id", "coverage_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    coverage_month: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    feed_paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(back_populates="premiums")

    @property
    def balance_cents(self) -> int:
        return max(self.amount_cents - self.paid_cents, 0)


class Payment(Base):
    """A payment attempt. Card and bank details are only a gateway token, brand and last 4."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    confirmation_number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus, "payment_status"), index=True
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    target_kind: Mapped[str] = mapped_column(String(20))
    target_reference: Mapped[str | None] = mapped_column(String(40))
    method_kind: Mapped[str] = mapped_column(String(20))
    method_brand: Mapped[str | None] = mapped_column(String(30))
    method_last4: Mapped[str | None] = mapped_column(String(4))
    gateway: Mapped[str] = mapped_column(String(20))
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20), default="phone")
    call_sid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the payment reached SUCCEEDED or FAILED; empty while PENDING or UNKNOWN.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The payment plan it pays, and which installment (none for a plan paid off).
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_plans.id", name="fk_payments_plan_id"), index=True
    )
    plan_installment: Mapped[int | None] = mapped_column(Integer)
    # A bank debit sent back: its NACHA return code, and the returned-item fee it incurred.
    return_code: Mapped[str | None] = mapped_column(String(4))
    returned_item_fee_cents: Mapped[int | None] = mapped_column(BigInteger)
    # What refunds have given back so far (the whole amount once REFUNDED).
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class PaymentEvent(Base):
    """A change of a payment's status, as it happened: the ledger's record of its life.

    Never changed once written, so an export of a window of time gives the same rows
    however often it is made.
    """

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    # The money the change moved: the payment's amount, or a refund's.
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    return_code: Mapped[str | None] = mapped_column(String(4))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))


class Refund(Base):
    """A refund or void asked of the gateway: recorded before it is asked, finished after."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    # The same request again (a repeated command) is this row, not a second refund.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # refund, void
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # pending (asked, no answer yet), done, failed (the gateway refused: nothing moved)
    status: Mapped[str] = mapped_column(String(10))
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentReversal(Base):
    """Money a payment gave back to one bill or premium month: returned, voided, refunded."""

    __tablename__ = "payment_reversals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("medical_bills.id"))
    premium_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("premium_invoices.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityGuard(Base):
    """Failed identifications for one MRN or one calling number, and its lock-out.

    The key is a keyed digest, so neither the MRN nor the phone number is stored.
    """

    __tablename__ = "identity_guards"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Who saw or did what, by call; names the kind of data, never its value."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_call", "call_sid", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict | None] = mapped_column(JSON)


class PaymentAllocation(Base):
    """The part of a payment that goes to one medical bill or one premium month."""

    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    # Exactly one of bill_id and premium_invoice_id is set.
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("medical_bills.id"), index=True)
    premium_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("premium_invoices.id"), index=True
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class AchAuthorizationRecord(Base):
    """A caller's authorization of one bank debit, as read to them and accepted."""

    __tablename__ = "ach_authorizations"

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    account_last4: Mapped[str] = mapped_column(String(4))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(2000))


class SandboxCharge(Base):
    """A charge made through the sandbox gateway: the processor's side of the ledger."""

    __tablename__ = "sandbox_charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    token: Mapped[str] = mapped_column(String(100))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    decline_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SandboxRefund(Base):
    """A refund or void made through the sandbox gateway."""

    __tablename__ = "sandbox_refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    charge_reference: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SavedPaymentMethod(Base):
    """A card or bank account the member chose to keep: a reusable token and what identifies it
    to them (brand, last 4, expiry), never the number."""

    __tablename__ = "saved_payment_methods"
    __table_args__ = (UniqueConstraint("member_id", "token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    token: Mapped[str] = mapped_column(String(100))
    brand: Mapped[str | None] = mapped_column(String(30))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    account_type: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    # Claimed by a deliverer, which is sending it now; next_attempt_at is when the claim lapses.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # The provider's answer was lost twice after it may have taken the message; not retried.
    UNKNOWN = "unknown"


class OutboxMessage(Base):
    """A text or email to send, written in the transaction that makes it due (an outbox)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    # One message per key, e.g. "receipt:<payment id>:sms"; also the provider's dedupe id.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    # The document an email carries as its one attachment; empty for every other message.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_requests.id", name="fk_outbox_messages_document_id")
    )
    # A reminder's member's time zone: it is never sent in their quiet hours (9 pm to 8 am).
    quiet_zone: Mapped[str | None] = mapped_column(String(40))
    # Set on an email its recipient may unsubscribe from: the language of its footer.
    unsubscribe_language: Mapped[str | None] = mapped_column(String(8))


class EmailOptOut(Base):
    """An email address that unsubscribed: reminders and notices are no longer sent to it.

    Kept by a digest of the address (as the signed link carries it), not the address.
    """

    __tablename__ = "email_opt_outs"

    address_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "link" (the page the email links to) or "one-click" (a mail program's button).
    channel: Mapped[str] = mapped_column(String(20))


class TextConsent(Base):
    """A phone number's consent to texts, as last changed: a STOP, a START, a call or staff.

    A number with no row has not opted out. Consent belongs to the number, not to a member:
    whoever texts STOP from it stops every text to it.
    """

    __tablename__ = "text_consents"

    # E.164, as the outbox addresses texts.
    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[ConsentStatus] = mapped_column(_enum(ConsentStatus, "text_consent_status"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The keyword that changed it (STOP, START, ...); None when not changed by a keyword.
    keyword: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[ConsentChannel] = mapped_column(_enum(ConsentChannel, "text_consent_channel"))


class TextAutoReply(Base):
    """When a number was last told that texts to the plan's numbers are not read."""

    __tablename__ = "text_auto_replies"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallSession(Base):
    """A phone call's state between webhooks (shaped by the phone channel), or its end marker."""

    __tablename__ = "call_sessions"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The prompt the call waits on: an answer must carry it, and only one answer takes it.
    prompt_token: Mapped[str | None] = mapped_column(String(32))


class AutopayEnrollment(Base):
    """A member's standing authorization to charge a saved method for each premium.

    One active enrollment per member (cancelled_at empty): a partial unique index, which
    SQLite and PostgreSQL both enforce. Cancelled ones are kept, with what was accepted.
    """

    __tablename__ = "autopay_enrollments"
    __table_args__ = (
        Index(
            "uq_autopay_enrollments_active_member",
            "member_id",
            unique=True,
            sqlite_where=text("cancelled_at IS NULL"),
            postgresql_where=text("cancelled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    saved_method_id: Mapped[int] = mapped_column(ForeignKey("saved_payment_methods.id"))
    max_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    # The authorization, as accepted.
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    method_kind: Mapped[str] = mapped_column(String(10))
    method_brand: Mapped[str | None] = mapped_column(String(30))
    method_last4: Mapped[str] = mapped_column(String(4))
    channel: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    wording_version: Mapped[str] = mapped_column(String(20))
    authorization_text: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_channel: Mapped[str | None] = mapped_column(String(20))
    cancel_call_sid: Mapped[str | None] = mapped_column(String(64))


class AutopayAttempt(Base):
    """One try of a run at one member's premium month; unique, so a run is idempotent."""

    __tablename__ = "autopay_attempts"
    __table_args__ = (UniqueConstraint("member_id", "coverage_month", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("autopay_enrollments.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    coverage_month: Mapped[date] = mapped_column(Date)
    attempt: Mapped[int] = mapped_column(Integer)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    decline_code: Mapped[str | None] = mapped_column(String(40))
    next_retry_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScheduledPayment(Base):
    """A one-time payment the member set for a later day, charged once by the daily run.

    The method is a reusable gateway token with what may be shown of it, never more. A
    bank debit keeps the authorization the member accepted, naming the day. request_key
    is fixed by the channel before the member confirms, so a repeated request adds no
    second row; attempt and status change only by compare-and-set, so one run charges it.
    """

    __tablename__ = "scheduled_payments"
    __table_args__ = (Index("ix_scheduled_payments_status_pay_on", "status", "pay_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    request_key: Mapped[str] = mapped_column(String(80), unique=True)
    confirmation_number: Mapped[str] = mapped_column(String(20), unique=True)
    target_kind: Mapped[str] = mapped_column(String(20))
    target_reference: Mapped[str | None] = mapped_column(String(40))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # The region's local date to pay on.
    pay_on: Mapped[date] = mapped_column(Date)
    saved_method_id: Mapped[int | None] = mapped_column(ForeignKey("saved_payment_methods.id"))
    method_kind: Mapped[str] = mapped_column(String(10))
    method_brand: Mapped[str | None] = mapped_column(String(30))
    method_last4: Mapped[str] = mapped_column(String(4))
    method_exp: Mapped[str | None] = mapped_column(String(4))
    account_type: Mapped[str | None] = mapped_column(String(30))
    token: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    ach_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ach_text: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20))
    # The try the run is at (0: none yet), the amount it charges, and when the next is due.
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    charging_cents: Mapped[int | None] = mapped_column(BigInteger)
    next_try_on: Mapped[date | None] = mapped_column(Date)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    decline_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_channel: Mapped[str | None] = mapped_column(String(20))
    cancel_call_sid: Mapped[str | None] = mapped_column(String(64))


class PaymentPlan(Base):
    """A member's plan to pay medical bills in monthly installments, with what they accepted.

    One active plan per member: a partial unique index, which SQLite and PostgreSQL both
    enforce, so two calls at once cannot make two. request_key is fixed by the channel
    before the member accepts, so a replayed acceptance makes no second plan.
    """

    __tablename__ = "payment_plans"
    __table_args__ = (
        Index(
            "uq_payment_plans_active_member",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    request_key: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    months: Mapped[int] = mapped_column(Integer)
    first_cents: Mapped[int] = mapped_column(BigInteger)
    monthly_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    saved_method_id: Mapped[int] = mapped_column(ForeignKey("saved_payment_methods.id"))
    method_kind: Mapped[str] = mapped_column(String(10))
    method_brand: Mapped[str | None] = mapped_column(String(30))
    method_last4: Mapped[str] = mapped_column(String(4))
    # The recurring authorization, as accepted.
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    wording_version: Mapped[str] = mapped_column(String(20))
    authorization_text: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlanBill(Base):
    """A medical bill a plan took, and the balance it took in."""

    __tablename__ = "plan_bills"
    __table_args__ = (UniqueConstraint("plan_id", "bill_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("medical_bills.id"), index=True)
    cents: Mapped[int] = mapped_column(BigInteger)


class PlanInstallment(Base):
    """One month's installment of a plan; status and attempt change only by compare-and-set."""

    __tablename__ = "plan_installments"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        Index("ix_plan_installments_status_due_on", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id"))
    number: Mapped[int] = mapped_column(Integer)
    # The region's local date it is due on.
    due_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    next_try_on: Mapped[date | None] = mapped_column(Date)
    # While the member pays it ahead (status "paying"): that payment's idempotency key.
    ahead_key: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessagePreference(Base):
    """How a member chose to get one kind of message (email, text, both, none)."""

    __tablename__ = "message_preferences"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", name="uq_message_preferences_member_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(30))
    delivery: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TextAgreement(Base):
    """A member's agreement to get texts at a number, in the words they accepted (TCPA)."""

    __tablename__ = "text_agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_text: Mapped[str] = mapped_column(String(2000))
    channel: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64))


class PaperlessEnrollment(Base):
    """A member's paperless billing, with the terms they accepted, until they turn it off.

    One open enrollment per member (a partial unique index); ended ones stay as the record.
    """

    __tablename__ = "paperless_enrollments"
    __table_args__ = (
        Index(
            "uq_paperless_enrollments_active_member",
            "member_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    wording_version: Mapped[str] = mapped_column(String(30))
    terms_text: Mapped[str] = mapped_column(String(4000))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_channel: Mapped[str | None] = mapped_column(String(20))


class DocumentRequest(Base):
    """A statement or letter a member asked for: the PDF as made then, and where it goes.

    The PDF is kept, not made again when it is sent or printed: it shows the balances and
    payments of the moment it was asked for, a retried email or a second print run gives
    the very same document, and the row is the record of what the member was sent.
    """

    __tablename__ = "document_requests"
    __table_args__ = (Index("ix_document_requests_delivery_created", "delivery", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # The calendar year of a tax letter; empty for the other kinds.
    year: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    # "email" (queued in the outbox with it attached) or "mail" (for the print vendor).
    delivery: Mapped[str] = mapped_column(String(10))
    member_name: Mapped[str] = mapped_column(String(201))
    # The mailing address lines as they were when it was asked for (mail only).
    mail_address: Mapped[list[str] | None] = mapped_column(JSON)
    file_name: Mapped[str] = mapped_column(String(80))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pages: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # First written out for the print vendor; a later export of the same days writes it again.
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedPayment(Base):
    """A payment made elsewhere (online, by mail, in person), as the billing feed reports it.

    History only: the feed's bill and premium figures already count it. Found by its
    member and the billing system's reference, so a repeated feed changes nothing.
    """

    __tablename__ = "feed_payments"
    __table_args__ = (UniqueConstraint("member_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    paid_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(20))
    # What it paid: one medical bill, or the premium of one coverage month.
    bill_number: Mapped[str | None] = mapped_column(String(40))
    coverage_month: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffAccount(Base):
    """Someone who signs in to the staff console: a password hash, never the password.

    roles: comma-separated (qa, billing). After too many wrong passwords in a row the
    account is locked until locked_until.
    """

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
