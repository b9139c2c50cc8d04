"""The statements behind what a member owes and who they are (identification's guards)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from billing_core.adapters.db import upsert_insert
from billing_core.adapters.models import IdentityGuard, Member
from billing_core.adapters.unit_of_work import UnitOfWork


def member_with_bills_and_premiums(uow: UnitOfWork, member_id: int) -> Member | None:
    """The member, with their bills and premium invoices loaded, or None."""
    return uow.session.scalars(
        select(Member)
        .where(Member.id == member_id)
        .options(selectinload(Member.bills), selectinload(Member.premiums))
    ).one_or_none()


def member_by_mrn_digest(uow: UnitOfWork, mrn_digest: str) -> Member | None:
    return uow.session.scalars(select(Member).where(Member.mrn_digest == mrn_digest)).one_or_none()


def identity_guard_for_update(uow: UnitOfWork, kind: str, key_digest: str) -> IdentityGuard:
    """Return the guard row, locked for update, creating it if this is its first use."""
    session = uow.session
    insert = upsert_insert(session)
    # Insert-or-ignore first, so two calls racing on a new MRN both end up locking one row.
    session.execute(
        insert(IdentityGuard)
        .values(kind=kind, key_digest=key_digest, failures=0, lockouts=0)
        .on_conflict_do_nothing()
    )
    return session.scalars(
        select(IdentityGuard)
        .where(IdentityGuard.kind == kind, IdentityGuard.key_digest == key_digest)
        .with_for_update()
    ).one()


def delete_identity_guard(uow: UnitOfWork, guard: IdentityGuard) -> None:
    uow.session.delete(guard)
