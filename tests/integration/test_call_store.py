"""The call state in the database: two webhooks of a new call, and a call's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.call_state import CallStore, Waiting

NOW = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
SID = "CA" + "1" * 32


def store(engine) -> CallStore:
    return CallStore(engine, timedelta(minutes=30))


def test_two_webhooks_that_both_start_a_call_keep_one_row_with_the_later_state(clean_db):
    calls = store(clean_db)
    first, second = calls.load(SID, NOW), calls.load(SID, NOW)  # both see a new call
    first.language, second.language = "es", "en"
    second.relay = True
    calls.save(first, NOW)
    calls.save(second, NOW + timedelta(seconds=1))  # its INSERT conflicts: it updates
    kept = calls.load(SID, NOW + timedelta(seconds=2))
    assert not kept.is_new
    assert (kept.language, kept.relay) == ("en", True)


def test_an_ended_call_stays_ended_whether_or_not_its_state_was_ever_saved(clean_db):
    calls = store(clean_db)
    calls.end(SID, NOW)  # the status callback of a call the app never saved
    assert calls.load(SID, NOW).has_ended
    saved = "CA" + "2" * 32
    state = calls.load(saved, NOW)
    state.relay = True
    calls.save(state, NOW)
    calls.end(saved, NOW + timedelta(seconds=5))
    assert calls.load(saved, NOW + timedelta(seconds=6)).has_ended
    late = calls.load(saved, NOW)  # a webhook that read the state before the end
    late.language = "es"
    calls.save(late, NOW + timedelta(seconds=7))  # its save never revives the call
    assert calls.load(saved, NOW + timedelta(seconds=8)).has_ended


def test_a_state_read_before_an_answer_was_taken_is_not_written_back(clean_db):
    calls = store(clean_db)
    calls.save(calls.load(SID, NOW), NOW)
    stale, current = calls.load(SID, NOW), calls.load(SID, NOW)
    current.relay = True
    current.waiting = Waiting(token="bcdfghjkmnpqrstv", step="menu.main", answer="menu.choose")
    calls.save(current, NOW)  # asks a new prompt: the row now waits on its token
    stale.language = "es"
    calls.save(stale, NOW)  # read before: it would write the older state back
    kept = calls.load(SID, NOW)
    assert (kept.relay, kept.language) == (True, "en")
    assert calls.claim(SID, "bcdfghjkmnpqrstv") is True
    assert calls.claim(SID, "bcdfghjkmnpqrstv") is False  # the answer is taken once


TOKEN = "bcdfghjkmnpqrstv"


def waiting_call(calls: CallStore) -> None:
    state = calls.load(SID, NOW)
    state.waiting = Waiting(token=TOKEN, step="menu.main", answer="menu.choose")
    calls.save(state, NOW)


def test_an_answer_is_taken_as_its_call_is_loaded_and_only_once(clean_db):
    calls = store(clean_db)
    waiting_call(calls)
    calls.hold()  # as a webhook does: one connection for all its statements
    try:
        first = calls.load(SID, NOW, claiming=TOKEN)
        second = calls.load(SID, NOW, claiming=TOKEN)  # a double press, a replay
    finally:
        calls.release()
    assert first.claimed_token == TOKEN
    assert first.waiting is not None and first.waiting.token == TOKEN
    assert second.claimed_token is None and not second.is_new  # read, but not taken
    assert calls.claim(SID, TOKEN) is False


def test_an_answer_given_back_can_be_taken_by_the_prompts_own_answer(clean_db):
    calls = store(clean_db)
    waiting_call(calls)
    assert calls.load(SID, NOW, claiming=TOKEN).claimed_token == TOKEN
    calls.unclaim(SID, TOKEN)
    assert calls.load(SID, NOW, claiming=TOKEN).claimed_token == TOKEN


def test_an_expired_or_ended_call_gives_no_answer_to_take(clean_db):
    calls = store(clean_db)
    waiting_call(calls)
    expired = calls.load(SID, NOW + timedelta(hours=1), claiming=TOKEN)
    assert expired.is_new and expired.claimed_token is None
    calls.end(SID, NOW)
    ended = calls.load(SID, NOW, claiming=TOKEN)
    assert ended.has_ended and ended.claimed_token is None


def synchronous(connection) -> int:
    # On the driver's connection: through SQLAlchemy it would begin a write transaction.
    return connection.connection.driver_connection.execute("PRAGMA synchronous").fetchone()[0]


def test_on_sqlite_call_state_writes_skip_the_fsync_and_billing_connections_keep_it(clean_db):
    if clean_db.dialect.name != "sqlite":
        pytest.skip("SQLite's own setting")
    calls = store(clean_db)
    calls.hold()
    try:
        held = calls._held.connection
        assert synchronous(held) == 1  # NORMAL: the state's writes wait for no fsync
        waiting_call(calls)
    finally:
        calls.release()
    # Every connection back in the pool syncs each commit in full again (FULL), as the
    # billing core's transactions need.
    connections = [clean_db.connect() for _ in range(3)]
    try:
        assert [synchronous(c) for c in connections] == [2, 2, 2]
    finally:
        for connection in connections:
            connection.close()
