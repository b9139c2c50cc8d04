"""A transactional outbox: texts and emails are written in the transaction that makes them due
and sent afterwards by deliver_pending, so a rolled-back change never sends anything and a
committed one is not forgotten when a provider is down.

Each message is claimed (status "sending", committed) before it is sent, so two deliverers
running at once never both send it. A deliverer that dies between sending and recording
leaves the claim to lapse; the message is then sent again, which is the one way a message
can go out twice (emails carry the dedupe key as Message-ID, so such a repeat is visible).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from billing_core.adapters.models import OutboxStatus
from billing_core.adapters.queries import outbox as queries
from billing_core.adapters.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SMS = "sms"
EMAIL = "email"
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# How long a claimed message is left to its deliverer before another may send it.
CLAIM_LEASE = timedelta(minutes=10)
_ERROR_LENGTH = 200


@dataclass(frozen=True)
class OutgoingMessage:
    """One text or email as a sender gets it: plain values, no database row."""

    kind: str
    recipient: str
    body: str
    dedupe_key: str
    subject: str | None = None


class SendError(Exception):
    """A send failed. The message is kept as the error: short, with no secrets in it.

    permanent means retrying cannot help (the provider refused the recipient or message).
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    """Sends one kind of message (SMS, email) through a provider."""

    def send(self, message: OutgoingMessage) -> str:
        """Send the message and return the provider's reference for it; raise SendError."""
        ...


@dataclass(frozen=True)
class DeliveryReport:
    """Ids of the messages a run sent, left for a retry, and gave up on."""

    sent: tuple[int, ...] = ()
    retrying: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Claim:
    message_id: int
    attempts: int
    message: OutgoingMessage


def enqueue(uow: UnitOfWork, message: OutgoingMessage, *, now: datetime) -> bool:
    """Add the message to the caller's transaction; False if its dedupe key is already queued."""
    return queries.insert_message(
        uow,
        {
            "kind": message.kind,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "dedupe_key": message.dedupe_key,
        },
        now=now,
    )


def enqueue_all(uow: UnitOfWork, messages: Iterable[OutgoingMessage], *, now: datetime) -> int:
    """Add each message to the caller's transaction; return how many were new."""
    return sum(enqueue(uow, message, now=now) for message in messages)


def retry_delay(attempts: int) -> timedelta:
    """Wait after the given number of failed attempts: 1 min, 2, 4, ... at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def deliver_pending(
    uow_factory: Callable[[], UnitOfWork],
    senders: Mapping[str, Sender],
    *,
    now: datetime,
    batch: int = 50,
    max_attempts: int = 8,
    lease: timedelta = CLAIM_LEASE,
) -> DeliveryReport:
    """Send the messages that are due, each once; failures wait longer each time, then fail.

    Messages of a kind with no sender here stay queued, their attempts untouched.
    """
    if not senders:
        return DeliveryReport()
    claims, lapsed = _claim(uow_factory(), senders, now, batch, max_attempts, lease)
    sent: list[int] = []
    retrying: list[int] = []
    failed: list[int] = list(lapsed)
    for claim in claims:
        try:
            reference = senders[claim.message.kind].send(claim.message)
        except SendError as error:
            problem, permanent = str(error) or type(error).__name__, error.permanent
        except Exception as error:  # any provider failure must leave the message for a retry
            # Only the type: an unexpected error's text may hold anything, secrets included.
            problem, permanent = f"unexpected {type(error).__name__}", False
        else:
            _record_sent(uow_factory(), claim, reference, now)
            sent.append(claim.message_id)
            continue
        problem = problem[:_ERROR_LENGTH]
        log.warning("outbox message %s not sent: %s", claim.message_id, problem)
        if permanent or claim.attempts >= max_attempts:
            _record_failure(uow_factory(), claim, problem, now, give_up=True)
            failed.append(claim.message_id)
        else:
            _record_failure(uow_factory(), claim, problem, now, give_up=False)
            retrying.append(claim.message_id)
    return DeliveryReport(tuple(sent), tuple(retrying), tuple(failed))


def _claim(
    uow: UnitOfWork,
    kinds: Iterable[str],
    now: datetime,
    batch: int,
    max_attempts: int,
    lease: timedelta,
) -> tuple[list[_Claim], list[int]]:
    """Mark due messages as being sent, in one committed transaction, and return them.

    Concurrent deliverers claim disjoint messages (queries.due_messages_for_update).
    """
    with uow:
        rows = queries.due_messages_for_update(uow, kinds, now, batch)
        claims: list[_Claim] = []
        lapsed: list[int] = []
        for row in rows:
            if row.status is OutboxStatus.SENDING:
                # Its deliverer claimed it and never said how the send went.
                row.last_error = "an earlier attempt ended without a result"
                if row.attempts >= max_attempts:
                    row.status = OutboxStatus.FAILED
                    lapsed.append(row.id)
                    continue
            row.status = OutboxStatus.SENDING
            row.attempts += 1
            row.next_attempt_at = now + lease
            claims.append(
                _Claim(
                    row.id,
                    row.attempts,
                    OutgoingMessage(
                        kind=row.kind,
                        recipient=row.recipient,
                        body=row.body,
                        dedupe_key=row.dedupe_key,
                        subject=row.subject,
                    ),
                )
            )
        uow.commit()
    return claims, lapsed


def _record_sent(uow: UnitOfWork, claim: _Claim, reference: str, now: datetime) -> None:
    _finish(
        uow,
        claim,
        status=OutboxStatus.SENT,
        sent_at=now,
        provider_reference=(reference or "")[:100] or None,
        last_error=None,
    )


def _record_failure(
    uow: UnitOfWork, claim: _Claim, problem: str, now: datetime, *, give_up: bool
) -> None:
    _finish(
        uow,
        claim,
        status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
        next_attempt_at=now + retry_delay(claim.attempts),
        last_error=problem,
    )


def _finish(uow: UnitOfWork, claim: _Claim, **values) -> None:
    """Record the outcome, if the message is still this deliverer's claim."""
    with uow:
        still_claimed = queries.finish_claim(uow, claim.message_id, claim.attempts, values)
        uow.commit()
    if not still_claimed:
        log.warning(
            "outbox message %s: claim lapsed before its result was recorded", claim.message_id
        )
