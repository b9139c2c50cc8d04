"""Reads that change nothing run in a read-only unit of work: no write lock, no commit;
a webhook's reads share one session."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from billing_core.domain.exceptions import MemberNotFound
from billing_core.domain.payments import PaymentTarget
from tests.members import add_member


def test_a_read_only_unit_of_work_refuses_to_commit(core):
    with core.reading() as uow, pytest.raises(RuntimeError, match="read-only"):
        uow.commit()


def test_a_read_goes_on_while_another_writer_holds_sqlite_s_write_lock(core, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL readers never wait for writers")
    member_id = add_member(core, mrn="30000003", birth_date=date(1990, 1, 31))
    with core.engine.connect() as writer:
        writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the database's one write lock
        # Each of these would wait for the lock (and fail after the busy timeout) if it
        # took it: they read a snapshot instead.
        assert core.saved_methods(member_id) == []
        assert core.plan_status(member_id) is None
        assert not core.autopay_status(member_id).enrolled
        writer.rollback()


def test_a_webhooks_reads_share_one_connection_and_each_sees_what_was_committed(core, checkouts):
    member_id = add_member(core, mrn="30000004", birth_date=date(1990, 1, 31))
    checkouts.clear()  # the member's adding
    core.share_reads()
    try:
        assert core.saved_methods(member_id) == []
        assert core.plan_status(member_id) is None
        shared = len(checkouts)
        core.save_method(
            member_id,
            kind="card",
            token="tok_visa",
            brand="visa",
            last4="4242",
            exp="1230",
            account_type=None,
        )  # a write in its own transaction, between two reads
        written = len(checkouts)
        assert [m.last4 for m in core.saved_methods(member_id)] == ["4242"]
        assert not core.autopay_status(member_id).enrolled
    finally:
        core.stop_sharing_reads()
    assert shared == 1  # two reads, one connection
    assert len(checkouts) == written  # the reads after the write took no other


def test_a_read_that_fails_leaves_the_next_read_a_working_session(core):
    member_id = add_member(core, mrn="30000005", birth_date=date(1990, 1, 31))
    core.share_reads()
    try:
        with pytest.raises(MemberNotFound):
            core.quote(member_id + 1000, PaymentTarget.all_bills())
        assert core.saved_methods(member_id) == []
    finally:
        core.stop_sharing_reads()
