"""Identification by MRN and birth date, throttled across calls, on every database.

Failures count per MRN from each source (a calling number, or the one bucket all withheld
and unusable numbers share), per MRN from all sources, and per source (README, "Lock-outs").
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from billing_core.adapters.models import AuditEvent, IdentityGuard, Member
from billing_core.domain.exceptions import IdentityNotVerified
from billing_core.domain.members import CoverageType

MRN = "10000001"
BIRTH = date(1980, 4, 12)
CALLER = "+14155550123"
WRONG = date(2001, 1, 1)


@pytest.fixture
def member(core) -> Member:
    now = core.clock.now()
    digest = core.hasher.mrn(MRN)
    with core.unit_of_work() as uow:
        member = Member(
            mrn_digest=digest,
            mrn_last4=MRN[-4:],
            birth_digest=core.hasher.birth(digest, BIRTH),
            first_name="Ana",
            last_name="Lopez",
            region_key="ncal",
            state="CA",
            coverage_type=CoverageType.INDIVIDUAL,
            language="en",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(member)
        uow.commit()
        return member


def identify(core, birth=BIRTH, caller=CALLER, mrn=MRN):
    return core.identify(
        mrn_digest=core.mrn_digest(mrn),
        birth_date=birth,
        caller=caller,
        channel="test",
        call_sid="CA-test",
    )


def test_the_right_mrn_and_birth_date_identify_the_member(core, member):
    found = identify(core)
    assert (found.member_id, found.first_name, found.region_key) == (member.id, "Ana", "ncal")


def test_a_wrong_birth_date_and_an_unknown_mrn_are_refused_alike(core, member):
    with pytest.raises(IdentityNotVerified) as wrong_birth:
        identify(core, birth=date(1980, 4, 13))
    with pytest.raises(IdentityNotVerified) as unknown_mrn:
        identify(core, mrn="99999999")
    assert str(wrong_birth.value) == str(unknown_mrn.value) == ""


def read_attempts(core) -> dict[str, int]:
    """How many attempts reached the birth-date check, and how many a lock-out refused unread."""
    with core.unit_of_work() as uow:
        rows = uow.session.execute(
            select(AuditEvent.action, func.count()).group_by(AuditEvent.action)
        ).all()
    counts = dict(rows)
    return {
        "evaluated": counts.get("identification_failed", 0) + counts.get("identified", 0),
        "refused": counts.get("identification_refused_locked", 0),
    }


def mrn_guard(core, mrn=MRN) -> IdentityGuard | None:
    with core.unit_of_work() as uow:
        guard = uow.session.get(IdentityGuard, ("mrn", core.mrn_digest(mrn)))
        if guard is not None:
            uow.session.expunge(guard)  # read after the unit of work ends
        return guard


def test_three_failures_from_one_number_lock_the_mrn_for_it_even_with_the_right_birth_date(
    core, member
):
    for _ in range(3):
        with pytest.raises(IdentityNotVerified):
            identify(core, birth=WRONG)
    with pytest.raises(IdentityNotVerified):
        identify(core)  # the right birth date, from the number that guessed
    core.clock.advance(timedelta(minutes=16).total_seconds())
    assert identify(core).member_id == member.id


def test_a_numbers_failures_throttle_that_number_first_not_the_member_on_their_own_phone(
    core, member
):
    for _ in range(3):
        with pytest.raises(IdentityNotVerified):
            identify(core, birth=WRONG, caller="+16505550111")
    with pytest.raises(IdentityNotVerified):
        identify(core, caller="+16505550111")
    assert identify(core, caller=CALLER).member_id == member.id


def test_each_lockout_of_an_mrn_from_one_number_lasts_longer(core, member):
    lengths = []
    for _ in range(3):
        for _attempt in range(3):
            with pytest.raises(IdentityNotVerified):
                identify(core, birth=WRONG)
        locked_at = core.clock.now()
        with core.unit_of_work() as uow:
            [locked_until] = uow.session.scalars(
                select(IdentityGuard.locked_until).where(IdentityGuard.kind == "mrn_src")
            ).all()
        lengths.append(locked_until - locked_at)
        core.clock.set(locked_until + timedelta(seconds=1))
    assert lengths == [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4)]


def test_failures_of_one_mrn_from_many_numbers_lock_it_for_every_caller_with_growing_waits(
    core, member
):
    # Guessing from rotating numbers: the MRN's own record (all sources) throttles it.
    lengths = []
    number = 0
    for _ in range(6):
        for _attempt in range(10):
            number += 1
            with pytest.raises(IdentityNotVerified):
                identify(core, birth=WRONG, caller=f"+1650555{number:04d}")
        guard = mrn_guard(core)
        lengths.append(guard.locked_until - core.clock.now())
        # Locked for everyone, even the member with the right birth date from a new phone.
        with pytest.raises(IdentityNotVerified):
            identify(core, caller="+13105550100")
        core.clock.set(guard.locked_until + timedelta(seconds=1))
    assert lengths == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(hours=24),
    ]
    assert identify(core, caller="+13105550100").member_id == member.id


def test_a_calling_number_that_keeps_failing_is_locked_for_every_mrn(core, member):
    for attempt in range(6):
        with pytest.raises(IdentityNotVerified):
            identify(core, mrn=f"5555{attempt:04d}")
    with pytest.raises(IdentityNotVerified):
        identify(core)  # right MRN and birth date, from the locked number
    assert identify(core, caller="+16505550100").member_id == member.id


def test_success_clears_the_failure_count(core, member):
    for _ in range(2):
        with pytest.raises(IdentityNotVerified):
            identify(core, birth=date(2001, 1, 1))
    identify(core)
    for _ in range(2):
        with pytest.raises(IdentityNotVerified):
            identify(core, birth=date(2001, 1, 1))
    assert identify(core).member_id == member.id


def test_failures_racing_from_many_calls_are_all_counted(core, member, database_url):
    # Twelve wrong guesses at once from different numbers: every one must be counted, so
    # the tenth locks the MRN and the two after it are refused unread, never more or fewer.
    barrier = threading.Barrier(12)
    errors = []

    def guess(n: int) -> None:
        barrier.wait()
        try:
            identify(core, birth=WRONG, caller=f"+1650555{n:04d}")
        except IdentityNotVerified:
            pass
        except Exception as unexpected:  # noqa: BLE001
            errors.append(unexpected)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    guard = mrn_guard(core)
    # Attempts during a lock-out are refused without counting, so exactly one lock-out.
    assert guard.lockouts == 1
    assert guard.locked_until == core.clock.now() + timedelta(minutes=1)
    assert read_attempts(core) == {"evaluated": 10, "refused": 2}
    with core.unit_of_work() as uow:
        counted = uow.session.execute(
            select(IdentityGuard.failures).where(IdentityGuard.kind == "caller")
        ).scalars()
        counted_by_number = sorted(failures for failures in counted if failures)
    # Each counted guess counted once against its own number; the two refused, nowhere.
    assert counted_by_number == [1] * 10


WITHHELD_FROMS = [
    "anonymous",
    "client:alice",
    "sip:x@example.com",
    "",
    None,
    "Restricted",
    "+266696687",  # Twilio's "ANONYMOUS"
    "+7378742833",  # Twilio's "RESTRICTED"
    "garbage",
    "14155550123",  # no +
    "+0123456789",
    "+1",
]


def test_forty_guesses_from_withheld_and_unusable_numbers_share_one_throttled_bucket(core, member):
    # One guess at each of forty MRNs, the From rotating among withheld and unusable values.
    for attempt in range(40):
        with pytest.raises(IdentityNotVerified):
            identify(
                core, mrn=f"5555{attempt:04d}", caller=WITHHELD_FROMS[attempt % len(WITHHELD_FROMS)]
            )
    assert read_attempts(core) == {"evaluated": 10, "refused": 30}
    # Every one of them is in the bucket, now locked: the right birth date is refused unread.
    for caller in WITHHELD_FROMS:
        with pytest.raises(IdentityNotVerified):
            identify(core, caller=caller)
    # A usable number is its own source.
    assert identify(core, caller=CALLER).member_id == member.id


def test_a_few_failures_from_withheld_numbers_do_not_lock_the_next_withheld_caller(core, member):
    for attempt in range(8):
        with pytest.raises(IdentityNotVerified):
            identify(core, mrn=f"5555{attempt:04d}", caller="+266696687")
    assert identify(core, caller="anonymous").member_id == member.id


def test_an_attacker_on_the_withheld_bucket_keeps_other_withheld_callers_waiting_minutes_only(
    core, member
):
    # Hours of guessing from withheld numbers, one guess at each MRN it can think of, as
    # fast as the bucket lets it: each lock-out is longer than the last, up to fifteen
    # minutes and never more.
    waits = []
    attempt = 0
    started = core.clock.now()
    while core.clock.now() - started < timedelta(hours=4):
        for _ in range(10):
            attempt += 1
            with pytest.raises(IdentityNotVerified):
                identify(core, mrn=f"5{attempt:07d}", caller="anonymous")
        with pytest.raises(IdentityNotVerified):
            identify(core, caller="client:ana")  # the member, withholding her number: waits
        with core.unit_of_work() as uow:
            locked_until = uow.session.scalars(
                select(IdentityGuard.locked_until).where(IdentityGuard.kind == "withheld")
            ).one()
        waits.append(locked_until - core.clock.now())
        core.clock.set(locked_until + timedelta(seconds=1))
    assert waits[:4] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(minutes=15),
    ]
    assert max(waits) == timedelta(minutes=15)
    assert identify(core, caller="client:ana").member_id == member.id


def test_three_anonymous_calls_of_wrong_birth_dates_do_not_keep_the_member_out(core, member):
    # Three calls of three wrong birth dates each, every call as soon as the last lock ended.
    for gap in (timedelta(0), timedelta(minutes=15, seconds=1), timedelta(hours=1, seconds=1)):
        core.clock.advance(gap.total_seconds())
        for _ in range(3):
            with pytest.raises(IdentityNotVerified):
                identify(core, birth=WRONG, caller="anonymous")
    assert read_attempts(core) == {"evaluated": 9, "refused": 0}
    # From withheld numbers the MRN is throttled now (for four hours)...
    with pytest.raises(IdentityNotVerified):
        identify(core, caller="sip:ana@example.com")
    # ...but the member calling from her own phone a minute later gets in.
    core.clock.advance(60)
    assert identify(core, caller=CALLER).member_id == member.id


def test_sustained_guessing_at_one_mrn_stops_at_100_failures_and_holds_until_unlocked(core, member):
    # An attacker with a new number for every guess, guessing as soon as the MRN opens.
    started = core.clock.now()
    for number in range(400):
        guard = mrn_guard(core)
        if guard is not None and guard.locked_until and guard.locked_until > core.clock.now():
            if guard.locked_until - core.clock.now() > timedelta(days=365):
                break  # held
            core.clock.set(guard.locked_until + timedelta(seconds=1))
        with pytest.raises(IdentityNotVerified):
            identify(core, birth=WRONG - timedelta(days=number), caller=f"+1650555{number:04d}")
    # At most 100 of the ~36,500 possible birth dates were ever tried, over days.
    assert read_attempts(core)["evaluated"] == 100
    assert core.clock.now() - started > timedelta(days=4)
    core.clock.advance(timedelta(days=365).total_seconds())
    with pytest.raises(IdentityNotVerified):
        identify(core, caller="+13105550100")  # the member, right birth date, a year later
    core.unlock_member(MRN, by="test")
    assert identify(core, caller="+13105550100").member_id == member.id


def test_identifying_as_yourself_does_not_clear_a_numbers_guessing_record(core, member):
    for attempt in range(5):
        with pytest.raises(IdentityNotVerified):
            identify(core, mrn=f"5555{attempt:04d}")
    identify(core)
    with pytest.raises(IdentityNotVerified):
        identify(core, mrn="55559999")  # the sixth failure from this number locks it
    with pytest.raises(IdentityNotVerified):
        identify(core)


def test_failures_a_day_apart_do_not_add_up_to_a_lockout(core, member):
    for _ in range(2):
        with pytest.raises(IdentityNotVerified):
            identify(core, birth=date(2001, 1, 1))
    core.clock.advance(timedelta(hours=25).total_seconds())
    with pytest.raises(IdentityNotVerified):
        identify(core, birth=date(2001, 1, 1))
    assert identify(core).member_id == member.id
