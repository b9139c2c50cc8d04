"""The statements behind identification's throttles: one row per MRN, source or pair."""

from __future__ import annotations

from sqlalchemy import select

from billing_core.adapters.db import upsert_insert
from billing_core.adapters.models import IdentityGuard
from billing_core.adapters.unit_of_work import UnitOfWork


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


def identity_guards_for_update(
    uow: UnitOfWork, kind: str, *, key: str | None = None, key_prefix: str | None = None
) -> list[IdentityGuard]:
    """The existing guards of one kind with this key or whose key starts with the prefix."""
    query = select(IdentityGuard).where(IdentityGuard.kind == kind)
    if key is not None:
        query = query.where(IdentityGuard.key_digest == key)
    if key_prefix is not None:
        # Keys are hex digests: no LIKE wildcard can be in the prefix.
        query = query.where(IdentityGuard.key_digest.startswith(key_prefix, autoescape=True))
    return list(uow.session.scalars(query.order_by(IdentityGuard.key_digest).with_for_update()))


def delete_identity_guards(uow: UnitOfWork, guards: list[IdentityGuard]) -> None:
    for guard in guards:
        uow.session.delete(guard)
