"""Identify a member by MRN and birth date, with lock-outs that grow across calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from billing_core.adapters.models import IdentityGuard
from billing_core.adapters.queries import accounts as queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.exceptions import IdentityNotVerified
from billing_core.domain.identity import IdentityHasher
from billing_core.services import audit

MRN = "mrn"
CALLER = "caller"


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures lock an MRN or a calling number, and for how long each time."""

    mrn_failures: int = 3
    caller_failures: int = 6
    # Each lock-out of the same MRN or number lasts longer; the last one repeats.
    durations: tuple[timedelta, ...] = (
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(hours=24),
    )

    forget_failures_after: timedelta = timedelta(hours=24)
    forget_lockouts_after: timedelta = timedelta(days=30)

    def threshold(self, kind: str) -> int:
        return self.mrn_failures if kind == MRN else self.caller_failures

    def duration(self, lockouts: int) -> timedelta:
        return self.durations[min(lockouts, len(self.durations)) - 1]


# What Twilio sends as From when the caller's number is withheld: shared by every such
# caller, so it must not lock anyone out.
ANONYMOUS_NUMBERS = frozenset(
    {
        "+266696687",
        "+7378742833",
        "+2562533",
        "+86282452253",
        "+8656696",
        "anonymous",
        "restricted",
        "blocked",
        "unknown",
        "unavailable",
        "",
    }
)


def is_anonymous(caller: str) -> bool:
    """Return True for a withheld or unusable calling number."""
    normalized = caller.strip().lower()
    if normalized in ANONYMOUS_NUMBERS:
        return True
    digits = normalized.lstrip("+")
    return not (digits.isdigit() and 8 <= len(digits) <= 15)


@dataclass(frozen=True)
class IdentifiedMember:
    member_id: int
    first_name: str
    region_key: str
    language: str
    last_name: str = ""


def identify(
    uow: UnitOfWork,
    *,
    hasher: IdentityHasher,
    policy: LockoutPolicy,
    now: datetime,
    mrn_digest: str,
    birth_date: date,
    caller: str | None,
    channel: str,
    call_sid: str | None = None,
) -> IdentifiedMember:
    """Return the member, or raise IdentityNotVerified for a mismatch or a lock-out alike."""
    counted_caller = caller if caller and not is_anonymous(caller) else None
    keys = [(MRN, mrn_digest)]
    if counted_caller:
        keys.append((CALLER, hasher.caller(counted_caller)))
    with uow:
        guards = [queries.identity_guard_for_update(uow, kind, key) for kind, key in keys]
        if any(g.locked_until is not None and g.locked_until > now for g in guards):
            # Attempts during a lock-out do not extend it: the owner is not punished
            # for someone else's guessing, and the lock still holds.
            audit.record(
                uow,
                at=now,
                action="identification_refused_locked",
                channel=channel,
                call_sid=call_sid,
            )
            uow.commit()
            raise IdentityNotVerified()

        member = queries.member_by_mrn_digest(uow, mrn_digest)
        if member is None or member.birth_digest != hasher.birth(mrn_digest, birth_date):
            for guard in guards:
                _count_failure(guard, policy, now)
            audit.record(
                uow,
                at=now,
                action="identification_failed",
                channel=channel,
                call_sid=call_sid,
                detail={
                    "locked": [g.kind for g in guards if g.locked_until and g.locked_until > now]
                },
            )
            uow.commit()
            raise IdentityNotVerified()

        for guard in guards:
            # A proven identity clears the MRN's record. The calling number's stays: one
            # phone guessing at many MRNs must not wipe its record by identifying once.
            if guard.kind == MRN:
                queries.delete_identity_guard(uow, guard)
        audit.record(
            uow,
            at=now,
            action="identified",
            channel=channel,
            call_sid=call_sid,
            member_id=member.id,
        )
        uow.commit()
        return IdentifiedMember(
            member.id, member.first_name, member.region_key, member.language, member.last_name
        )


def _count_failure(guard: IdentityGuard, policy: LockoutPolicy, now: datetime) -> None:
    if (
        guard.last_failure_at is not None
        and now - guard.last_failure_at > policy.forget_failures_after
    ):
        # Typos weeks apart are not an attack: old failures stop counting.
        guard.failures = 0
    if guard.locked_until is not None and now - guard.locked_until > policy.forget_lockouts_after:
        guard.lockouts = 0
    guard.failures += 1
    guard.last_failure_at = now
    if guard.failures >= policy.threshold(guard.kind):
        guard.lockouts += 1
        guard.failures = 0
        guard.locked_until = now + policy.duration(guard.lockouts)
