"""A member's choices of how to hear from the plan, and paperless billing, with their record.

Every change is audited; paperless keeps the terms accepted, in the words read, until the
member turns it off. A choice that includes texts is made with the member's consent to
texts, recorded as given (TCPA).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from billing_core.adapters.models import (
    Member,
    MessagePreference,
    PaperlessEnrollment,
    TextAgreement,
)
from billing_core.adapters.queries import consent as consent_queries
from billing_core.adapters.queries import preferences as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import BillingError, MemberNotFound
from billing_core.domain.preferences import (
    DEFAULT_DELIVERY,
    Delivery,
    MessageKind,
    delivery_for,
)
from billing_core.domain.text_keywords import ConsentChannel, ConsentStatus
from billing_core.services import audit, receipts
from billing_core.services.text_consent import consent_number


class PreferenceNotAllowed(BillingError):
    """The choice needs an address the member does not have on file; `reason` says which."""

    NO_EMAIL = "no_email"
    NO_PHONE = "no_phone"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Preferences:
    """What the member chose for each kind, where messages can go, and paperless."""

    choices: dict[MessageKind, Delivery]
    email: str | None
    phone: str | None
    paperless: bool
    # The member agreed to texts at the phone on file (and has not replied STOP since).
    texts_agreed: bool


@dataclass(frozen=True)
class PaperlessTerms:
    """The digital delivery terms as the member accepted them."""

    text: str
    wording_version: str
    accepted_at: datetime
    channel: str
    call_sid: str | None = None


def usable_email(member: Member) -> str | None:
    email = (member.email or "").strip()
    return email if email and receipts.deliverable(phone=None, email=email)[0] else None


def usable_phone(member: Member) -> str | None:
    return member.phone if member.phone and receipts.is_e164(member.phone) else None


def read(uow: UnitOfWork, member_id: int) -> Preferences:
    """The member's choices (the default for a kind never chosen), addresses and paperless."""
    with uow:
        member = _member(uow, member_id)
        stored = {row.kind: row.delivery for row in queries.preferences(uow, member.id)}
        return Preferences(
            choices={kind: delivery_for(stored, kind) for kind in MessageKind},
            email=usable_email(member),
            phone=usable_phone(member),
            paperless=queries.open_paperless(uow, member.id) is not None,
            texts_agreed=texts_allowed(uow, member),
        )


def texts_allowed(uow: UnitOfWork, member: Member) -> bool:
    """Whether the member may be texted at the phone on file: they agreed to it there, and
    the number has not opted out (STOP) since."""
    phone = usable_phone(member)
    if phone is None or queries.text_agreement(uow, member.id, phone) is None:
        return False
    number = consent_number(phone)
    return number is not None and not consent_queries.is_opted_out(uow, number)


def addresses(uow: UnitOfWork, member: Member, kind: MessageKind) -> tuple[str | None, str | None]:
    """Where a message of this kind may go: (phone, email) as the member chose, None where not.

    A phone only where the member chose texts for the kind and agreed to texts; an email
    only where they chose email and have a usable address.
    """
    stored = queries.preference(uow, member.id, kind.value)
    delivery = Delivery(stored.delivery) if stored is not None else DEFAULT_DELIVERY
    phone = usable_phone(member) if delivery.by_text and texts_allowed(uow, member) else None
    email = usable_email(member) if delivery.by_email else None
    return phone, email


def notice_contacts(
    uow: UnitOfWork, member: Member, kind: MessageKind | None
) -> tuple[str | None, str | None]:
    """The (phone, email) a notice of this kind may use; kind None: a notice the law
    requires (an authorization's written copy, a change of its amount), sent whatever the
    member chose, to the contacts on file."""
    if kind is None:
        return member.phone, member.email
    return addresses(uow, member, kind)


def agree_to_texts(
    uow: UnitOfWork,
    *,
    member_id: int,
    text: str,
    channel: str,
    call_sid: str | None,
    now: datetime,
    caller_number: str | None = None,
) -> None:
    """Record the member's consent to texts at the phone on file, in the words accepted.

    Agreeing on a call made from that very phone is also a START for it; from another
    phone it is not: a STOP texted from the number stands until the number says START.
    """
    with uow:
        member = _member(uow, member_id)
        phone = usable_phone(member)
        if phone is None:
            raise PreferenceNotAllowed(PreferenceNotAllowed.NO_PHONE)
        number = consent_number(phone)
        if number is not None and consent_number(caller_number or "") == number:
            consent_queries.record_consent(
                uow,
                number=number,
                status=ConsentStatus.OPTED_IN,
                keyword=None,
                channel=ConsentChannel.PHONE,
                at=now,
            )
        uow.session.add(
            TextAgreement(
                member_id=member.id,
                phone=phone,
                agreed_at=now,
                consent_text=text,
                channel=channel,
                call_sid=call_sid,
            )
        )
        audit.record(
            uow,
            at=now,
            action="texts_agreed",
            channel=channel,
            call_sid=call_sid,
            member_id=member.id,
        )
        uow.commit()


def choose(
    uow: UnitOfWork,
    *,
    member_id: int,
    kind: MessageKind,
    delivery: Delivery,
    channel: str,
    call_sid: str | None,
    now: datetime,
) -> None:
    """Keep how the member wants this kind of message; refused without the address it needs."""
    with uow:
        member = _member(uow, member_id)
        if delivery.by_email and usable_email(member) is None:
            raise PreferenceNotAllowed(PreferenceNotAllowed.NO_EMAIL)
        if delivery.by_text and usable_phone(member) is None:
            raise PreferenceNotAllowed(PreferenceNotAllowed.NO_PHONE)
        row = queries.preference(uow, member.id, kind.value)
        if row is None:
            row = MessagePreference(member_id=member.id, kind=kind.value)
            uow.session.add(row)
        before = row.delivery
        row.delivery, row.channel, row.call_sid, row.updated_at = (
            delivery.value,
            channel,
            call_sid,
            now,
        )
        audit.record(
            uow,
            at=now,
            action="preference_changed",
            channel=channel,
            call_sid=call_sid,
            member_id=member.id,
            detail={"kind": kind.value, "before": before, "after": delivery.value},
        )
        uow.commit()


def paperless_on(uow: UnitOfWork, *, member_id: int, terms: PaperlessTerms) -> bool:
    """Turn paperless billing on under the terms accepted; False if it already was on."""
    with uow:
        member = _member(uow, member_id)
        email = usable_email(member)
        if email is None:
            raise PreferenceNotAllowed(PreferenceNotAllowed.NO_EMAIL)
        if queries.open_paperless(uow, member.id) is not None:
            return False
        uow.session.add(
            PaperlessEnrollment(
                member_id=member.id,
                email=email,
                accepted_at=terms.accepted_at,
                channel=terms.channel,
                call_sid=terms.call_sid,
                wording_version=terms.wording_version,
                terms_text=terms.text,
            )
        )
        try:
            uow.session.flush()
        except IntegrityError:
            return False  # turned on by a concurrent request a moment ago
        audit.record(
            uow,
            at=terms.accepted_at,
            action="paperless_on",
            channel=terms.channel,
            call_sid=terms.call_sid,
            member_id=member.id,
            detail={"wording": terms.wording_version},
        )
        uow.commit()
        return True


def paperless_off(
    uow: UnitOfWork, *, member_id: int, channel: str, call_sid: str | None, now: datetime
) -> bool:
    """Turn paperless billing off (documents go by mail again); False if it was not on."""
    with uow:
        member = _member(uow, member_id)
        enrollment = queries.open_paperless(uow, member.id)
        if enrollment is None:
            return False
        enrollment.ended_at, enrollment.ended_channel = now, channel
        audit.record(
            uow,
            at=now,
            action="paperless_off",
            channel=channel,
            call_sid=call_sid,
            member_id=member.id,
            detail={"enrollment": enrollment.id},
        )
        uow.commit()
        return True


def _member(uow: UnitOfWork, member_id: int) -> Member:
    member = uow.session.get(Member, member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member
