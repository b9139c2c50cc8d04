"""Reads that change nothing run in a read-only unit of work: no write lock, no commit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

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
