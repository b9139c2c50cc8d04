"""A transactional outbox: texts and emails are written in the transaction that makes them due
and sent afterwards by deliver_pending, so a rolled-back change never sends anything and a
committed one is not forgotten when a provider is down.

Each message is claimed (status "sending", committed) just before it is sent, one at a
time, so two deliverers running at once never both send it, however long a run takes. A
deliverer that dies between sending and recording leaves the claim to lapse; the message
is then sent again. That, and a provider whose answer is lost after it may have taken the
message (retried once, then left as "unknown"), are the ways a message can go out twice;
emails carry the dedupe key as Message-ID, so the receiving side can deduplicate a repeat.

A text is never sent to a number that has opted out (texted STOP): that is read when the
text is claimed, not when it was queued, so a receipt queued before the STOP is not sent
after it. It is marked failed, "recipient opted out", and not retried. An email the
recipient may unsubscribe from (unsubscribe_language set) is likewise not sent to an
address that unsubscribed.

A message queued with a quiet zone (a reminder) is never sent in the quiet hours of that
time zone: claimed then, it waits, untried, for the hours to end. That holds for its
retries too, and for a run that was late.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from billing_core.adapters.models import OutboxStatus
from billing_core.adapters.queries import consent as consent_queries
from billing_core.adapters.queries import outbox as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.reminders import QuietHours
from billing_core.services.email_opt_out import is_unsubscribed
from billing_core.services.text_consent import consent_number

log = logging.getLogger(__name__)

SMS = "sms"
EMAIL = "email"
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# How long a claimed message is left to its deliverer before another may send it.
CLAIM_LEASE = timedelta(minutes=10)
# The front of the error text of a message whose provider may have taken it unanswered.
ANSWER_LOST = "answer lost, may have been delivered"
# The error text of a text left unsent because its number opted out.
OPTED_OUT = "recipient opted out"
_ERROR_LENGTH = 200
# 9 pm to 8 am: when no reminder is sent.
QUIET_HOURS = QuietHours()


@dataclass(frozen=True)
class Attachment:
    """A file an email carries: a member's statement or letter, as a PDF."""

    file_name: str
    content: bytes = field(repr=False)
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class OutgoingMessage:
    """One text or email as a sender gets it: plain values, no database row.

    An email may carry one attachment (a queued message refers to its document, which is
    read when the message is sent); a text never does. unsubscribe_language: the email
    may be unsubscribed from, and its sender adds the link (List-Unsubscribe) in that
    language.
    """

    kind: str
    recipient: str
    body: str
    dedupe_key: str
    subject: str | None = None
    attachment: Attachment | None = None
    unsubscribe_language: str | None = None


class SendError(Exception):
    """A send failed. The message is kept as the error: short, with no secrets in it.

    permanent means retrying cannot help (the provider refused the recipient or message).
    unknown means the answer was lost after the provider may have accepted the message
    (an SMTP timeout after the DATA was sent): it is retried once, under the same id for
    the provider to deduplicate, and after a second such loss left for an operator.
    """

    def __init__(self, message: str, *, permanent: bool = False, unknown: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unknown = unknown


class Sender(Protocol):
    """Sends one kind of message (SMS, email) through a provider."""

    def send(self, message: OutgoingMessage) -> str:
        """Send the message and return the provider's reference for it; raise SendError."""
        ...


@dataclass(frozen=True)
class DeliveryReport:
    """Ids of the messages a run sent, left for a retry, gave up on, and may have sent.

    unknown: the provider's answer was lost twice after it may have taken the message
    (status UNKNOWN); such a message is not retried again.
    opted_out: texts not sent because their number opted out, and emails because their
    address unsubscribed (status FAILED, never retried).
    deferred: reminders due in their recipient's quiet hours, left for the morning.
    """

    sent: tuple[int, ...] = ()
    retrying: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    unknown: tuple[int, ...] = ()
    opted_out: tuple[int, ...] = ()
    deferred: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Claim:
    message_id: int
    attempts: int
    message: OutgoingMessage
    # An earlier attempt's answer was lost after the provider may have taken the message.
    answer_lost_before: bool = False


def unsubscribable(message: OutgoingMessage, language: str) -> OutgoingMessage:
    """The message as one its recipient may unsubscribe from (an email that follows the
    member's choices: a reminder, a receipt, a notice), with its footer in the language."""
    if message.kind != EMAIL:
        return message
    return dataclasses.replace(message, unsubscribe_language=language)


def enqueue(
    uow: UnitOfWork,
    message: OutgoingMessage,
    *,
    now: datetime,
    document_id: int | None = None,
    quiet_zone: tzinfo | None = None,
    quiet: QuietHours = QUIET_HOURS,
) -> bool:
    """Add the message to the caller's transaction; False if its dedupe key is already queued.

    With document_id, the email is sent with that document's PDF attached. With
    quiet_zone (the member's time zone), it is not sent in the quiet hours there.
    """
    due = now if quiet_zone is None else quiet.next_allowed(now, quiet_zone)
    return queries.insert_message(
        uow,
        {
            "kind": message.kind,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "dedupe_key": message.dedupe_key,
            "document_id": document_id,
            "quiet_zone": None if quiet_zone is None else str(quiet_zone),
            "unsubscribe_language": message.unsubscribe_language,
        },
        now=now,
        due=due,
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
    clock: Callable[[], datetime] | None = None,
    quiet: QuietHours = QUIET_HOURS,
) -> DeliveryReport:
    """Send up to `batch` messages that are due, each once; failures wait longer, then fail.

    Messages are claimed one at a time, each just before it is sent, so a slow run never
    holds claims that lapse while it is busy with earlier messages. `clock` tells the time
    of each claim and outcome; without it, times are `now` and each claim's lease starts
    at `now` plus the time this run has taken.

    Messages of a kind with no sender here stay queued, their attempts untouched.
    """
    if not senders:
        return DeliveryReport()
    if clock is None:
        # Times are recorded as `now`, as a caller with one time for the run expects; only
        # the leases count the time the run has taken, so a long run's claims never lapse.
        started = time.monotonic()

        def lease_start() -> datetime:
            return now + timedelta(seconds=time.monotonic() - started)

        def clock() -> datetime:
            return now
    else:
        lease_start = clock

    sent: list[int] = []
    retrying: list[int] = []
    failed: list[int] = []
    unknown: list[int] = []
    opted_out: list[int] = []
    deferred: list[int] = []
    handled: set[int] = set()
    while len(handled) < batch:
        claim, passed = _claim_one(
            uow_factory(), senders, clock(), max_attempts, lease_start() + lease, handled, quiet
        )
        failed.extend(passed.lapsed)
        opted_out.extend(passed.stopped)
        deferred.extend(passed.deferred)
        handled.update(passed.all())
        if claim is None:
            break
        handled.add(claim.message_id)
        try:
            reference = senders[claim.message.kind].send(claim.message)
        except SendError as error:
            problem, permanent = str(error) or type(error).__name__, error.permanent
            lost_answer = error.unknown
        except Exception as error:  # any provider failure must leave the message for a retry
            # Only the type: an unexpected error's text may hold anything, secrets included.
            problem, permanent, lost_answer = f"unexpected {type(error).__name__}", False, False
        else:
            _record_sent(uow_factory(), claim, reference, clock())
            sent.append(claim.message_id)
            continue
        problem = problem[:_ERROR_LENGTH]
        log.warning("outbox message %s not sent: %s", claim.message_id, problem)
        if lost_answer or claim.answer_lost_before:
            # Remembered in the error text, so a second lost answer is never retried.
            problem = f"{ANSWER_LOST}: {problem}"
        problem = problem[:_ERROR_LENGTH]
        if lost_answer and claim.answer_lost_before:
            # The provider may have taken it twice already: an operator decides, not a retry.
            _record_failure(uow_factory(), claim, problem, clock(), status=OutboxStatus.UNKNOWN)
            unknown.append(claim.message_id)
        elif permanent or claim.attempts >= max_attempts:
            _record_failure(uow_factory(), claim, problem, clock(), status=OutboxStatus.FAILED)
            failed.append(claim.message_id)
        else:
            _record_failure(uow_factory(), claim, problem, clock(), status=OutboxStatus.PENDING)
            retrying.append(claim.message_id)
    return DeliveryReport(
        tuple(sent),
        tuple(retrying),
        tuple(failed),
        tuple(unknown),
        tuple(opted_out),
        tuple(deferred),
    )


@dataclass
class _Passed:
    """The due messages a claim passed over: given up on, not to be sent, not yet."""

    lapsed: list[int] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)

    def all(self) -> list[int]:
        return [*self.lapsed, *self.stopped, *self.deferred]


def _claim_one(
    uow: UnitOfWork,
    kinds: Iterable[str],
    now: datetime,
    max_attempts: int,
    lease_until: datetime,
    skip: set[int],
    quiet: QuietHours,
) -> tuple[_Claim | None, _Passed]:
    """Mark the next due message as being sent, in a committed transaction, and return it.

    Also returns the ids passed over on the way: lapsed claims given up on (out of
    attempts), messages to recipients who opted out (marked failed instead of claimed),
    and reminders in their quiet hours (put off, untried, to the hours' end).
    Concurrent deliverers claim different messages (queries.due_messages_for_update).
    """
    with uow:
        passed = _Passed()
        claim: _Claim | None = None
        while claim is None:
            rows = queries.due_messages_for_update(uow, kinds, now, 1, skip=[*skip, *passed.all()])
            if not rows:
                break
            [row] = rows
            if _opted_out(uow, row):
                # Read now, not when it was queued: a STOP since then holds. Never retried,
                # and a later START does not bring it back (it was stopped when it was due).
                row.status = OutboxStatus.FAILED
                row.last_error = OPTED_OUT
                passed.stopped.append(row.id)
                uow.session.flush()
                continue
            if row.quiet_zone is not None:
                allowed = quiet.next_allowed(now, ZoneInfo(row.quiet_zone))
                if allowed > now:
                    # Untried: its attempts stay as they are (a lapsed claim keeps its own).
                    row.next_attempt_at = allowed
                    passed.deferred.append(row.id)
                    uow.session.flush()
                    continue
            if row.status is OutboxStatus.SENDING:
                # Its deliverer claimed it and never said how the send went.
                row.last_error = _with_note(
                    row.last_error, "an earlier attempt ended without a result"
                )
                if row.attempts >= max_attempts:
                    row.status = OutboxStatus.FAILED
                    passed.lapsed.append(row.id)
                    uow.session.flush()
                    continue
            row.status = OutboxStatus.SENDING
            row.attempts += 1
            row.next_attempt_at = lease_until
            attachment = None
            if row.document_id is not None:
                file_name, content = queries.document_file(uow, row.document_id)
                attachment = Attachment(file_name, content)
            claim = _Claim(
                row.id,
                row.attempts,
                OutgoingMessage(
                    kind=row.kind,
                    recipient=row.recipient,
                    body=row.body,
                    dedupe_key=row.dedupe_key,
                    subject=row.subject,
                    attachment=attachment,
                    unsubscribe_language=row.unsubscribe_language,
                ),
                answer_lost_before=(row.last_error or "").startswith(ANSWER_LOST),
            )
        uow.commit()
    return claim, passed


def _opted_out(uow: UnitOfWork, row) -> bool:
    """A text to a number that said STOP, or an optional email to an unsubscribed address."""
    if row.kind == SMS:
        number = consent_number(row.recipient)
        return number is not None and consent_queries.is_opted_out(uow, number)
    return row.unsubscribe_language is not None and is_unsubscribed(uow, row.recipient)


def _with_note(previous: str | None, note: str) -> str:
    """The error text, keeping the mark of an earlier lost answer at its front."""
    if (previous or "").startswith(ANSWER_LOST):
        return f"{ANSWER_LOST}: {note}"[:_ERROR_LENGTH]
    return note


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
    uow: UnitOfWork, claim: _Claim, problem: str, now: datetime, *, status: OutboxStatus
) -> None:
    _finish(
        uow,
        claim,
        status=status,
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


@dataclass(frozen=True)
class TroubledMessage:
    """A message that failed or waits on a retry; no recipient or text, only what went wrong."""

    id: int
    kind: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class OutboxState:
    """The outbox at a glance, for staff: counts, the oldest wait, what went wrong."""

    counts: tuple[tuple[str, str, int], ...]  # (kind, status, messages)
    oldest_due: datetime | None
    troubled: tuple[TroubledMessage, ...]

    def waiting(self) -> int:
        return sum(n for _kind, status, n in self.counts if status in ("pending", "sending"))


def outbox_state(uow: UnitOfWork, *, most_troubled: int = 20) -> OutboxState:
    """Read how the outbox stands (a read: nothing is claimed or changed)."""
    with uow:
        return OutboxState(
            counts=tuple((kind, str(status), n) for kind, status, n in queries.status_counts(uow)),
            oldest_due=queries.oldest_due(uow),
            troubled=tuple(
                TroubledMessage(
                    row.id,
                    row.kind,
                    str(row.status),
                    row.attempts,
                    row.created_at,
                    row.next_attempt_at,
                    row.last_error,
                )
                for row in queries.troubled_messages(uow, most_troubled)
            ),
        )
