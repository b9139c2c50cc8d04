"""Each phone number's consent to texts: STOP and START (by text, on a call, or by staff).

The outbox reads it when it sends (services.outbox), so a text queued before a STOP is not
sent after it, and a START lets new texts through again. Consent is kept per number, not per
member: a STOP from a number no member gave still stops every text to it, and it holds
whichever of the plan's numbers the STOP was texted to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from billing_core.adapters.queries import consent as queries
from billing_core.adapters.queries.audit import add_audit_event
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.regions import normalize_phone_number
from billing_core.domain.text_keywords import (
    ConsentChannel,
    ConsentStatus,
    Keyword,
    KeywordAction,
)

# A number that texts something other than a keyword is told so at most this often.
AUTO_REPLY_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class TextConsent:
    """A number's consent as last changed."""

    number: str
    status: ConsentStatus
    changed_at: datetime
    keyword: str | None
    channel: ConsentChannel


def consent_number(raw: str | None) -> str | None:
    """The E.164 number consent is kept under, or None for one that is not a phone number."""
    if not raw:
        return None
    return normalize_phone_number(raw)


def _number(raw: str) -> str:
    number = consent_number(raw)
    if number is None:
        raise ValueError("not a usable phone number")
    return number


def consent_of(uow: UnitOfWork, raw_number: str) -> TextConsent | None:
    """The number's consent, or None when it never changed (texts are sent)."""
    with uow:
        record = queries.consent_of(uow, _number(raw_number))
        if record is None:
            return None
        return TextConsent(
            record.number, record.status, record.changed_at, record.keyword, record.channel
        )


def change(
    uow: UnitOfWork,
    raw_number: str,
    status: ConsentStatus,
    *,
    channel: ConsentChannel,
    keyword: str | None = None,
    by: str | None = None,
    now: datetime,
) -> str:
    """Record the number's opt-out or opt-in; return the number as kept (E.164).

    A change made by someone (`by`, a billing specialist) is written to the audit log too,
    naming the number by its last four digits. Raises ValueError for a number that is not
    a phone number.
    """
    number = _number(raw_number)
    with uow:
        queries.record_consent(
            uow, number=number, status=status, keyword=keyword, channel=channel, at=now
        )
        if by is not None:
            add_audit_event(
                uow,
                at=now,
                action="text_consent_changed",
                channel=channel.value,
                call_sid=None,
                member_id=None,
                detail={"status": status.value, "number_last4": number[-4:], "by": by},
            )
        uow.commit()
    return number


def apply_keyword(
    uow: UnitOfWork, raw_number: str, keyword: Keyword, *, now: datetime
) -> ConsentStatus | None:
    """Record what a texted keyword asks for; the status it set, None for HELP."""
    status = {
        KeywordAction.OPT_OUT: ConsentStatus.OPTED_OUT,
        KeywordAction.OPT_IN: ConsentStatus.OPTED_IN,
    }.get(keyword.action)
    if status is None:
        return None
    change(uow, raw_number, status, channel=ConsentChannel.SMS, keyword=keyword.word, now=now)
    return status


def is_opted_out(uow: UnitOfWork, raw_number: str) -> bool:
    """Whether texts to the number are stopped (False for a number never heard from)."""
    number = consent_number(raw_number)
    if number is None:
        return False
    with uow:
        return queries.is_opted_out(uow, number)


def claim_auto_reply(uow: UnitOfWork, raw_number: str, *, now: datetime) -> bool:
    """Whether the number may be told now that texts are not read (once a day at most)."""
    number = _number(raw_number)
    with uow:
        claimed = queries.claim_auto_reply(uow, number, now=now, since=now - AUTO_REPLY_EVERY)
        uow.commit()
    return claimed
