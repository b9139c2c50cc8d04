"""The statements behind identification's throttles: one row per MRN, source or pair."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, text, tuple_

from billing_core.adapters.models import IdentityGuard
from billing_core.adapters.unit_of_work import UnitOfWork

# Written out rather than built with the dialects' insert(): SQLite and PostgreSQL read
# this one text alike, and SQLAlchemy caches it compiled, which it does not for those.
_CREATE = text(
    "INSERT INTO identity_guards (kind, key_digest, failures, lockouts)"
    " VALUES (:kind, :key_digest, 0, 0) ON CONFLICT DO NOTHING"
)


# The rows of some (kind, key digest) pairs, locked in one order (by kind and key), so
# concurrent identifications never deadlock. Built once: each attempt runs it.
_LOCK = (
    select(IdentityGuard)
    .where(
        tuple_(IdentityGuard.kind, IdentityGuard.key_digest).in_(bindparam("keys", expanding=True))
    )
    .order_by(IdentityGuard.kind, IdentityGuard.key_digest)
    .with_for_update()
)


def existing_guards_for_update(
    uow: UnitOfWork, keys: Sequence[tuple[str, str]]
) -> list[IdentityGuard]:
    """Return the guard rows of these (kind, key digest) pairs that exist, locked for update."""
    return list(uow.session.scalars(_LOCK, {"keys": list(keys)}))


def guards_for_update(uow: UnitOfWork, keys: Sequence[tuple[str, str]]) -> list[IdentityGuard]:
    """Return the guard rows of these (kind, key digest) pairs, in that order, locked for
    update; the ones used for the first time are created.

    Two statements whatever the number of guards: insert-or-ignore them all (so two calls
    racing on a new MRN both end up locking one row), then lock them all.
    """
    session = uow.session
    session.execute(_CREATE, [{"kind": kind, "key_digest": key} for kind, key in keys])
    by_key = {(g.kind, g.key_digest): g for g in existing_guards_for_update(uow, keys)}
    return [by_key[key] for key in keys]


def delete_identity_guards(uow: UnitOfWork, guards: list[IdentityGuard]) -> None:
    for guard in guards:
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
