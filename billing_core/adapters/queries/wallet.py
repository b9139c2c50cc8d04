"""The statements of saved payment methods."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from billing_core.adapters.models import SavedPaymentMethod
from billing_core.adapters.unit_of_work import UnitOfWork

# Built once: read for the payment offered first and at every choice of method.
_SAVED_NEWEST_FIRST = (
    select(SavedPaymentMethod)
    .where(
        SavedPaymentMethod.member_id == bindparam("member_id"),
        SavedPaymentMethod.removed_at.is_(None),
    )
    .order_by(SavedPaymentMethod.created_at.desc(), SavedPaymentMethod.id.desc())
)


def saved_methods_newest_first(uow: UnitOfWork, member_id: int) -> list[SavedPaymentMethod]:
    """The member's saved methods not removed, newest first."""
    return list(uow.session.scalars(_SAVED_NEWEST_FIRST, {"member_id": member_id}).all())


def saved_method_by_id(uow: UnitOfWork, method_id: int) -> SavedPaymentMethod | None:
    return uow.session.get(SavedPaymentMethod, method_id)


def saved_method_by_token(uow: UnitOfWork, member_id: int, token: str) -> SavedPaymentMethod | None:
    return uow.session.scalars(
        select(SavedPaymentMethod).where(
            SavedPaymentMethod.member_id == member_id, SavedPaymentMethod.token == token
        )
    ).one_or_none()


def add_saved_method(uow: UnitOfWork, values: dict[str, Any]) -> SavedPaymentMethod:
    row = SavedPaymentMethod(**values)
    uow.session.add(row)
    return row


def flush(uow: UnitOfWork) -> None:
    """Send pending changes to the database now (new rows get their ids)."""
    uow.session.flush()
