"""Text consent's statements: a number's consent, its change, and the once-a-day auto-reply."""

from __future__ import annotations

from datetime import datetime

from billing_core.adapters.db import upsert_insert
from billing_core.adapters.models import TextAutoReply, TextConsent
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.text_keywords import ConsentChannel, ConsentStatus


def consent_of(uow: UnitOfWork, number: str) -> TextConsent | None:
    """The number's consent record, or None if it never changed."""
    return uow.session.get(TextConsent, number)


def is_opted_out(uow: UnitOfWork, number: str) -> bool:
    """Whether the number has opted out of texts."""
    record = consent_of(uow, number)
    return record is not None and record.status is ConsentStatus.OPTED_OUT


def record_consent(
    uow: UnitOfWork,
    *,
    number: str,
    status: ConsentStatus,
    keyword: str | None,
    channel: ConsentChannel,
    at: datetime,
) -> None:
    """Set the number's consent in one statement, so two changes at once never collide."""
    insert = upsert_insert(uow.session)
    values = {"status": status, "changed_at": at, "keyword": keyword, "channel": channel}
    statement = insert(TextConsent).values(number=number, **values)
    uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=["number"],
            set_={name: statement.excluded[name] for name in values},
        )
    )


def claim_auto_reply(uow: UnitOfWork, number: str, *, now: datetime, since: datetime) -> bool:
    """Take the number's auto-reply unless it had one after `since`; True if taken.

    One statement: of two messages from one number at once, only one gets the reply.
    """
    insert = upsert_insert(uow.session)
    statement = insert(TextAutoReply).values(number=number, replied_at=now)
    result = uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=["number"],
            set_={"replied_at": statement.excluded.replied_at},
            where=TextAutoReply.replied_at <= since,
        ).returning(TextAutoReply.number)
    )
    return result.scalar_one_or_none() is not None
