"""Saved payment methods: what a member chose to keep for next time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from billing_core.adapters.models import SavedPaymentMethod
from billing_core.adapters.queries import wallet as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.payments import looks_like_card_number

# Told of a removal inside its transaction (autopay: a notice to choose another method).
RemovalHook = Callable[[UnitOfWork, int, SavedPaymentMethod, datetime], object]


@dataclass(frozen=True)
class SavedMethod:
    id: int
    kind: str
    token: str
    brand: str | None
    last4: str
    account_type: str | None
    exp_month: int | None
    exp_year: int | None


def saved_methods(uow: UnitOfWork, member_id: int, *, today: date) -> list[SavedMethod]:
    """Return the member's saved methods, newest first, leaving out expired cards."""
    with uow:
        rows = queries.saved_methods_newest_first(uow, member_id)
        return [_view(row) for row in rows if not _expired(row, today)][:3]


def saved_method(uow: UnitOfWork, member_id: int, method_id: int) -> SavedMethod | None:
    """Return one of the member's saved methods (never another member's)."""
    with uow:
        row = queries.saved_method_by_id(uow, method_id)
        if row is None or row.member_id != member_id or row.removed_at is not None:
            return None
        return _view(row)


def save_method(
    uow: UnitOfWork,
    *,
    member_id: int,
    kind: str,
    token: str,
    brand: str | None,
    last4: str,
    exp: str | None,
    account_type: str | None,
    now: datetime,
) -> SavedMethod:
    """Keep a tokenized method for the member; saving the same token twice keeps one."""
    with uow:
        row = keep_method(
            uow,
            member_id=member_id,
            kind=kind,
            token=token,
            brand=brand,
            last4=last4,
            exp=exp,
            account_type=account_type,
            now=now,
        )
        view = _view(row)
        uow.commit()
        return view


def keep_method(
    uow: UnitOfWork,
    *,
    member_id: int,
    kind: str,
    token: str,
    brand: str | None,
    last4: str,
    exp: str | None,
    account_type: str | None,
    now: datetime,
) -> SavedPaymentMethod:
    """Add the method in the caller's open transaction (or find it by token); not committed."""
    if looks_like_card_number(token) or not (2 <= len(last4) <= 4 and last4.isdigit()):
        raise ValueError("only a token and the last 4 digits are ever saved")
    exp_month = exp_year = None
    if exp and len(exp) == 4 and exp.isdigit():
        exp_month, exp_year = int(exp[:2]), 2000 + int(exp[2:])
    row = queries.saved_method_by_token(uow, member_id, token)
    if row is None:
        row = queries.add_saved_method(
            uow,
            dict(
                member_id=member_id,
                kind=kind,
                token=token,
                brand=brand,
                last4=last4,
                exp_month=exp_month,
                exp_year=exp_year,
                account_type=account_type,
                created_at=now,
            ),
        )
    row.removed_at = None
    queries.flush(uow)
    return row


def remove_method(
    uow: UnitOfWork,
    *,
    member_id: int,
    method_id: int,
    now: datetime,
    on_removed: RemovalHook | None = None,
) -> bool:
    """Stop offering one of the member's saved methods; False if it is not theirs or gone.

    `on_removed` runs in the same transaction (BillingCore passes autopay's notice).
    """
    with uow:
        row = queries.saved_method_by_id(uow, method_id)
        if row is None or row.member_id != member_id or row.removed_at is not None:
            return False
        row.removed_at = now
        if on_removed is not None:
            on_removed(uow, member_id, row, now)
        uow.commit()
        return True


def _view(row: SavedPaymentMethod) -> SavedMethod:
    return SavedMethod(
        row.id,
        row.kind,
        row.token,
        row.brand,
        row.last4,
        row.account_type,
        row.exp_month,
        row.exp_year,
    )


def _expired(row: SavedPaymentMethod, today: date) -> bool:
    if row.exp_month is None or row.exp_year is None:
        return False
    return (row.exp_year, row.exp_month) < (today.year, today.month)
