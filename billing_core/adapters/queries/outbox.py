"""The outbox's statements: queue a message once, claim due ones, record how a send went."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from billing_core.adapters.db import upsert_insert
from billing_core.adapters.models import DocumentRequest, OutboxMessage, OutboxStatus
from billing_core.adapters.unit_of_work import UnitOfWork


def insert_message(
    uow: UnitOfWork, values: dict[str, Any], *, now: datetime, due: datetime | None = None
) -> bool:
    """Add a PENDING message due now (or at `due`); False (and no error) if its dedupe key is
    already queued."""
    insert = upsert_insert(uow.session)
    result = uow.session.execute(
        insert(OutboxMessage)
        .values(
            **values,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=due or now,
            created_at=now,
        )
        # A conflict must not abort the caller's transaction (it may be settling a payment).
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        # RETURNING, not rowcount: the psycopg dialect reports -1 rows for this statement.
        .returning(OutboxMessage.id)
    )
    return result.scalar_one_or_none() is not None


def due_messages_for_update(
    uow: UnitOfWork,
    kinds: Iterable[str],
    now: datetime,
    batch: int,
    *,
    skip: Iterable[int] = (),
) -> list[OutboxMessage]:
    """Pending (or claimed, lapsed) messages of these kinds due by now, oldest due first;
    none of the ids in skip (those a run has already tried).

    PostgreSQL: FOR UPDATE SKIP LOCKED lets concurrent deliverers take disjoint rows.
    SQLite: the transaction holds the write lock from BEGIN, so claims run one at a time.
    """
    return list(
        uow.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.kind.in_(list(kinds)),
                OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.id.not_in(list(skip)),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
    )


def finish_claim(uow: UnitOfWork, message_id: int, attempts: int, values: dict[str, Any]) -> bool:
    """Record an outcome if the message is still claimed at this attempt; True if it was."""
    result = uow.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.attempts == attempts,
        )
        .values(**values)
    )
    return result.rowcount == 1


def document_file(uow: UnitOfWork, document_id: int) -> tuple[str, bytes]:
    """The file name and PDF of the document an email carries."""
    row = uow.session.execute(
        select(DocumentRequest.file_name, DocumentRequest.pdf).where(
            DocumentRequest.id == document_id
        )
    ).one()
    return row.file_name, bytes(row.pdf)


def status_counts(uow: UnitOfWork) -> list[tuple[str, OutboxStatus, int]]:
    """How many messages of each kind are in each status."""
    return [
        (kind, status, count)
        for kind, status, count in uow.session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, func.count())
            .group_by(OutboxMessage.kind, OutboxMessage.status)
            .order_by(OutboxMessage.kind, OutboxMessage.status)
        )
    ]


def oldest_due(uow: UnitOfWork) -> datetime | None:
    """When the longest-waiting message still to send became due."""
    return uow.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
        )
    )


def troubled_messages(uow: UnitOfWork, limit: int) -> list[OutboxMessage]:
    """The newest messages that failed, may have gone unanswered, or were retried."""
    return list(
        uow.session.scalars(
            select(OutboxMessage)
            .where(
                (OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.UNKNOWN)))
                | ((OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.attempts > 0))
            )
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )
