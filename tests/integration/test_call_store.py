"""The call state in the database: two webhooks of a new call, and a call's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
