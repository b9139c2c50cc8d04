"""Identify a member by MRN and birth date, throttled by failures that are counted across calls.

Every failure is counted in three records (README, "Lock-outs"):

- the MRN from this source (MRN_SOURCE): the source is the calling number, or the one
  bucket every withheld or unusable number shares; an attacker's failures from one
  source throttle that source first, and the member calling from their own phone
  is not held back by them;
- the MRN from every source together (MRN): the account's limit against guessing from
  many numbers; its waits start short, and its 100th failure in a row holds it until an
  operator unlocks it (NIST SP 800-63B: at most 100 consecutive failures per account);
- the source, whatever MRN it tries (CALLER, or WITHHELD for the shared bucket, whose
  waits grow but stay short: it is every withheld caller's).

A record that reaches its number of failures is locked for a while, each lock-out longer
than the one before. While any of the three is locked the attempt is refused unread, with
the same neutral answer as a mismatch, and counts nowhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NoReturn

import phonenumbers

from billing_core.adapters.models import IdentityGuard
from billing_core.adapters.queries import accounts as queries
from billing_core.adapters.queries import guards as guard_queries
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.events import LOCKED_OUT, MATCHED, NOT_MATCHED, IdentificationAttempted
from billing_core.domain.exceptions import IdentityNotVerified
from billing_core.domain.identity import IdentityHasher
from billing_core.domain.regions import normalize_phone_number
from billing_core.services import audit

MRN = "mrn"
MRN_SOURCE = "mrn_src"
CALLER = "caller"
WITHHELD = "withheld"

# A hold lasts until an operator lifts it (`ivr identity unlock-member`).
HOLD = timedelta(days=365 * 100)


@dataclass(frozen=True)
class Throttle:
    """When one kind of record locks, for how long each time, and when it forgets."""

    failures: int
    # Each lock-out of the same record lasts longer; the last one repeats.
    waits: tuple[timedelta, ...]
    # None: remembered until a success or an operator clears the record.
    forget_failures_after: timedelta | None = timedelta(hours=24)
    forget_lockouts_after: timedelta | None = timedelta(days=30)
    # Failures in a row (since the record was last cleared) that hold it until unlocked.
    hold_after: int | None = None

    def wait(self, lockouts: int) -> timedelta:
        return self.waits[min(lockouts, len(self.waits)) - 1]


SOURCE_WAITS = (
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=24),
)
MRN_WAITS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=24),
)
WITHHELD_WAITS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))


@dataclass(frozen=True)
class LockoutPolicy:
    """The numbers of failures that lock each kind of record (README, "Lock-outs")."""

    # One MRN from one source: IVR_LOCKOUT_MRN_FAILURES.
    mrn_failures: int = 3
    # One calling number, whatever MRNs it tries: IVR_LOCKOUT_CALLER_FAILURES.
    caller_failures: int = 6
    # One MRN from every source together: IVR_LOCKOUT_MRN_TOTAL_FAILURES.
    mrn_total_failures: int = 10
    # Every withheld or unusable number together: IVR_LOCKOUT_WITHHELD_FAILURES.
    withheld_failures: int = 10
    # Failures of one MRN in a row that hold it until an operator unlocks it.
    mrn_hold_after: int = 100

    def throttle(self, kind: str) -> Throttle:
        if kind == MRN:
            return Throttle(
                self.mrn_total_failures,
                MRN_WAITS,
                forget_failures_after=None,
                forget_lockouts_after=None,
                hold_after=self.mrn_hold_after,
            )
        if kind == MRN_SOURCE:
            return Throttle(self.mrn_failures, SOURCE_WAITS)
        if kind == WITHHELD:
            # Shared by every caller who withholds their number: short memory, short waits.
            return Throttle(
                self.withheld_failures,
                WITHHELD_WAITS,
                forget_failures_after=timedelta(hours=1),
                forget_lockouts_after=timedelta(days=1),
            )
        return Throttle(self.caller_failures, SOURCE_WAITS)


# What Twilio sends as From when the caller's number is withheld (ANONYMOUS, RESTRICTED,
# BLOCKED, UNAVAILABLE, UNKNOWN spelled on a keypad): shared by every such caller.
WITHHELD_PLACEHOLDERS = frozenset(
    {"+266696687", "+7378742833", "+2562533", "+86282452253", "+8656696"}
)
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


def usable_number(caller: str | None) -> str | None:
    """The calling number if it is a usable E.164 number, else None (withheld or unusable).

    `anonymous`, `restricted`, `client:alice`, `sip:x@y`, an empty From, a number without
    its `+`, Twilio's placeholders and numbers no country could have all give None.
    """
    number = (caller or "").strip()
    if not _E164.fullmatch(number) or number in WITHHELD_PLACEHOLDERS:
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(parsed) else None


def is_withheld(caller: str | None) -> bool:
    """Return True for a withheld or unusable calling number (the shared bucket's)."""
    return usable_number(caller) is None


@dataclass(frozen=True)
class Source:
    """Where attempts come from: one calling number, or the withheld bucket."""

    kind: str  # CALLER or WITHHELD
    key_digest: str


def source_of(caller: str | None, hasher: IdentityHasher) -> Source:
    number = usable_number(caller)
    if number is None:
        return Source(WITHHELD, hasher.caller(WITHHELD))
    return Source(CALLER, hasher.caller(number))


def operator_source(number: str, hasher: IdentityHasher) -> Source | None:
    """The source an operator names: `withheld`, or a number written any way; None if neither."""
    if number.strip().lower() == WITHHELD:
        return Source(WITHHELD, hasher.caller(WITHHELD))
    normalized = usable_number(normalize_phone_number(number) or "")
    return Source(CALLER, hasher.caller(normalized)) if normalized else None


def _pair_key(mrn_digest: str, source: Source) -> str:
    # Half of each digest (128 bits each): unlocking an MRN finds its pairs by the prefix.
    return mrn_digest[:32] + source.key_digest[:32]


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
    source = source_of(caller, hasher)
    # The MRN's, the pair's and the calling number's (or withheld bucket's) records.
    keys = [
        (MRN, mrn_digest),
        (MRN_SOURCE, _pair_key(mrn_digest, source)),
        (source.kind, source.key_digest),
    ]
    with uow:
        # Most attempts find no record yet (no failures of this MRN or from this number):
        # only the records that exist are read and locked, and a match changes none.
        guards = guard_queries.existing_guards_for_update(uow, keys)
        # While a record is locked, attempts are not read and do not extend it: the owner
        # is not punished for someone else's guessing, and the lock still holds.
        if any(_is_locked(g, now) for g in guards):
            _refuse(uow, guards, LOCKED_OUT, now=now, channel=channel, call_sid=call_sid)

        member = queries.identity_by_mrn_digest(uow, mrn_digest)
        if member is None or member.birth_digest != hasher.birth(mrn_digest, birth_date):
            if len(guards) < len(keys):
                # A first failure for some record, whose row is made now. Begun again with
                # every row locked in one order, none held from before: concurrent attempts
                # never deadlock, and a lock-out another attempt set meanwhile still holds.
                uow.rollback()
                guards = guard_queries.guards_for_update(uow, keys)
                if any(_is_locked(g, now) for g in guards):
                    _refuse(uow, guards, LOCKED_OUT, now=now, channel=channel, call_sid=call_sid)
            for guard in guards:
                _count_failure(guard, policy.throttle(guard.kind), now)
            _refuse(uow, guards, NOT_MATCHED, now=now, channel=channel, call_sid=call_sid)

        # A proven identity clears the MRN's record and its record from this number. The
        # number's own record stays (one phone guessing at many MRNs must not wipe it by
        # identifying once), and so does the MRN's record from the withheld bucket:
        # whoever else withholds their number may be guessing at it.
        cleared = [
            g for g in guards if g.kind == MRN or (g.kind == MRN_SOURCE and source.kind == CALLER)
        ]
        guard_queries.delete_identity_guards(uow, cleared)
        audit.record(
            uow,
            at=now,
            action="identified",
            channel=channel,
            call_sid=call_sid,
            member_id=member.id,
        )
        uow.publish(IdentificationAttempted(MATCHED, channel))
        uow.commit()
        return IdentifiedMember(
            member.id, member.first_name, member.region_key, member.language, member.last_name
        )


def _refuse(
    uow: UnitOfWork,
    guards: list[IdentityGuard],
    outcome: str,
    *,
    now: datetime,
    channel: str,
    call_sid: str | None,
) -> NoReturn:
    """Record a refused attempt (NOT_MATCHED, or LOCKED_OUT) and the records it locked."""
    audit.record(
        uow,
        at=now,
        action=_REFUSALS[outcome],
        channel=channel,
        call_sid=call_sid,
        detail={"locked": [g.kind for g in guards if _is_locked(g, now)]},
    )
    uow.publish(IdentificationAttempted(outcome, channel))
    uow.commit()
    raise IdentityNotVerified()


_REFUSALS = {NOT_MATCHED: "identification_failed", LOCKED_OUT: "identification_refused_locked"}


def _is_locked(guard: IdentityGuard, now: datetime) -> bool:
    return guard.locked_until is not None and guard.locked_until > now


def _count_failure(guard: IdentityGuard, throttle: Throttle, now: datetime) -> None:
    if _long_ago(guard.last_failure_at, now, throttle.forget_failures_after):
        # Typos weeks apart are not an attack: old failures stop counting.
        guard.failures = 0
    if _long_ago(guard.locked_until, now, throttle.forget_lockouts_after):
        guard.lockouts = 0
    guard.failures += 1
    guard.last_failure_at = now
    # Every lock-out took exactly `failures` failures: this many in a row, since the
    # record was last cleared or forgotten.
    in_a_row = guard.lockouts * throttle.failures + guard.failures
    if throttle.hold_after is not None and in_a_row >= throttle.hold_after:
        guard.lockouts += 1
        guard.failures = 0
        guard.locked_until = now + HOLD
    elif guard.failures >= throttle.failures:
        guard.lockouts += 1
        guard.failures = 0
        guard.locked_until = now + throttle.wait(guard.lockouts)


def _long_ago(then: datetime | None, now: datetime, forget_after: timedelta | None) -> bool:
    return then is not None and forget_after is not None and now - then > forget_after


@dataclass(frozen=True)
class Unlocked:
    """What an operator's unlock cleared."""

    records: int
    was_locked: bool
    member_found: bool = False


def unlock_member(
    uow: UnitOfWork, *, now: datetime, mrn_digest: str, by: str, channel: str = "operator"
) -> Unlocked:
    """Clear an MRN's records: from every source and each source's, lock-outs and holds."""
    with uow:
        guards = guard_queries.identity_guards_for_update(uow, MRN, key=mrn_digest)
        guards += guard_queries.identity_guards_for_update(
            uow, MRN_SOURCE, key_prefix=mrn_digest[:32]
        )
        member = queries.member_by_mrn_digest(uow, mrn_digest)
        result = Unlocked(len(guards), any(_is_locked(g, now) for g in guards), member is not None)
        guard_queries.delete_identity_guards(uow, guards)
        audit.record(
            uow,
            at=now,
            action="identity_unlocked",
            channel=channel,
            member_id=member.id if member else None,
            detail={
                "what": "member",
                "by": by,
                "records": result.records,
                "was_locked": result.was_locked,
            },
        )
        uow.commit()
        return result


def unlock_source(
    uow: UnitOfWork, *, now: datetime, source: Source, by: str, channel: str = "operator"
) -> Unlocked:
    """Clear a calling number's record, or the withheld bucket's (not its MRNs' records)."""
    with uow:
        guards = guard_queries.identity_guards_for_update(uow, source.kind, key=source.key_digest)
        result = Unlocked(len(guards), any(_is_locked(g, now) for g in guards))
        guard_queries.delete_identity_guards(uow, guards)
        audit.record(
            uow,
            at=now,
            action="identity_unlocked",
            channel=channel,
            detail={
                "what": "withheld" if source.kind == WITHHELD else "number",
                "by": by,
                "records": result.records,
                "was_locked": result.was_locked,
            },
        )
        uow.commit()
        return result
