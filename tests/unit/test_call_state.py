"""A call's state is typed, and reads and writes the JSON earlier releases wrote."""

from __future__ import annotations

from datetime import date

from ivr.call_state import CallState, Method, PayTarget

# What the previous release stored for a caller at the bank-payment read-back.
STORED_BY_THE_PREVIOUS_RELEASE = {
    "region": "ncal",
    "national": False,
    "language": "es",
    "relay": True,
    "offers_given": True,
    "member_id": 7,
    "member_name": "Ana Ruiz",
    "failures": {"pay_method": 1},
    "asking": "pay.confirm_answer",
    "resume": {"endpoint": "pay.confirm", "values": {}},
    "pay": {
        "targets": [
            {
                "kind": "bill",
                "bill_number": "B-1",
                "date_of_service": "2026-10-01",
                "facility": "Oakland Medical Center",
                "balance": 12500,
            },
            {"kind": "premium", "balance": 45000},
        ],
        "target": {"kind": "premium", "balance": 45000},
        "amount": 45000,
        "method_choices": [{"saved_id": 3}, {"new": "card"}, {"new": "bank"}],
        "method": {
            "kind": "bank",
            "token": "tok_bank",
            "last4": "6789",
            "account_type": "consumer-savings",
        },
        "idempotency_key": "CA1:abc",
    },
}


def test_a_call_in_progress_during_a_deploy_reads_every_value_it_stored():
    state = CallState.restore("CA1", STORED_BY_THE_PREVIOUS_RELEASE, is_new=False)
    assert (state.region, state.language, state.relay, state.member_id) == ("ncal", "es", True, 7)
    assert state.pay.targets is not None
    assert state.pay.targets[0].date_of_service == date(2026, 10, 1)
    assert state.pay.method == Method(
        kind="bank", token="tok_bank", last4="6789", account_type="consumer-savings"
    )
    assert state.resume is not None and state.resume.endpoint == "pay.confirm"
    assert state.unsaved() is None


def test_the_state_is_written_back_under_the_same_keys_leaving_out_defaults():
    state = CallState.restore("CA1", STORED_BY_THE_PREVIOUS_RELEASE, is_new=False)
    written = state.to_json()
    # False and empty values are left out: every reader treats absent as the default.
    expected = {k: v for k, v in STORED_BY_THE_PREVIOUS_RELEASE.items() if k != "national"}
    expected["resume"] = {"endpoint": "pay.confirm"}
    assert written == expected


def test_a_change_is_seen_and_an_unchanged_state_is_not_written():
    state = CallState.restore("CA1", {"region": "ncal"}, is_new=False)
    assert state.unsaved() is None
    state.pay.target = PayTarget(kind="premium", balance=100)
    assert state.unsaved() == {
        "region": "ncal",
        "pay": {"target": {"kind": "premium", "balance": 100}},
    }


def test_unknown_keys_from_another_release_are_dropped_not_refused():
    state = CallState.restore("CA1", {"region": "co", "from_the_future": 1}, is_new=False)
    assert state.to_json() == {"region": "co"}
    assert not state.is_new


def test_a_state_that_no_longer_reads_starts_the_call_afresh():
    state = CallState.restore("CA1", {"member_id": "not a number"}, is_new=False)
    assert state.is_new
    assert state.member_id is None


def test_failures_count_per_step_and_clear():
    state = CallState.restore("CA1", {}, is_new=True)
    assert [state.count_failure("mrn"), state.count_failure("mrn")] == [1, 2]
    state.clear_failures("mrn")
    assert state.failures == {}
