"""Email addresses that unsubscribed: reminders, receipts and notices (every email that
follows the member's choices) stop; what the law or the member asked for on a call (an
authorization's copy, a requested statement) still goes.

An address is kept by digest (SHA-256 of the address as written, lower-cased): the
unsubscribe link carries the same digest, so neither holds the address itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from billing_core.adapters.models import EmailOptOut
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.identity import address_digest
from billing_core.services import audit

LINK = "link"
ONE_CLICK = "one-click"


def unsubscribe(uow: UnitOfWork, digest: str, *, channel: str, now: datetime) -> bool:
    """Stop the optional emails to the address; False if it had already unsubscribed."""
    with uow:
        if uow.session.get(EmailOptOut, digest) is not None:
            return False
        uow.session.add(EmailOptOut(address_digest=digest, opted_out_at=now, channel=channel))
        try:
            uow.session.flush()
        except IntegrityError:
            return False  # the same link followed twice at once: the other one recorded it
        audit.record(uow, at=now, action="email_unsubscribed", channel=channel, member_id=None)
        uow.commit()
        return True


def is_unsubscribed(uow: UnitOfWork, address: str) -> bool:
    """In the caller's transaction: whether the address unsubscribed."""
    return uow.session.get(EmailOptOut, address_digest(address)) is not None
