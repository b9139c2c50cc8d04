"""Identification by MRN and birth date, with lock-outs that grow, on every database."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from billing_core.adapters.models import IdentityGuard, Member
from billing_core.domain.exceptions import IdentityNotVerified
from billing_core.domain.members import CoverageType

MRN = "10000001"
BIRTH = date(1980, 4, 12)
CALLER = "+14155550123"


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


def test_three_failures_lock_the_mrn_even_against_the_right_birth_date(core, member):
    for _ in range(3):
        with pytest.raises(IdentityNotVerified):
            identify(core, birth=date(2001, 1, 1), caller=f"+1415555{_:04d}")
    with pytest.raises(IdentityNotVerified):
        identify(core, caller="+14155559999")
    core.clock.advance(timedelta(minutes=16).total_seconds())
    assert identify(core, caller="+14155559999").member_id == member.id


def test_each_lockout_of_the_same_mrn_lasts_longer(core, member):
    lengths = []
    for _ in range(3):
        for attempt in range(3):
            with pytest.raises(IdentityNotVerified):
                identify(core, birth=date(2001, 1, 1), caller=f"+1415555{attempt:04d}")
        locked_at = core.clock.now()
        with core.unit_of_work() as uow:
            locked_until = uow.session.get(
                IdentityGuard, ("mrn", core.mrn_digest(MRN))
            ).locked_until
        lengths.append(locked_until - locked_at)
        core.clock.set(locked_until + timedelta(seconds=1))
    assert lengths == [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4)]


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
    # Twelve wrong guesses at once from different numbers: every one must count,
    # so the MRN is locked four times over, never fewer.
    barrier = threading.Barrier(12)
    errors = []

    def guess(n: int) -> None:
        barrier.wait()
        try:
            identify(core, birth=date(2001, 1, 1), caller=f"+1650555{n:04d}")
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
    with core.unit_of_work() as uow:
        guard = uow.session.get(IdentityGuard, ("mrn", core.mrn_digest(MRN)))
        # Attempts during a lock-out are refused without counting, so exactly one lock-out.
        assert guard.lockouts == 1
        assert guard.locked_until == core.clock.now() + timedelta(minutes=15)
        caller_rows = uow.session.scalar(
            select(func.count()).select_from(IdentityGuard).where(IdentityGuard.kind == "caller")
        )
    assert caller_rows == 12


def test_callers_who_withhold_their_number_do_not_lock_each_other_out(core, member):
    for attempt in range(8):
        with pytest.raises(IdentityNotVerified):
            identify(core, mrn=f"5555{attempt:04d}", caller="+266696687")
    assert identify(core, caller="+266696687").member_id == member.id


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
