"""Call scripts run the daily jobs between calls and check a member's payment plan."""

from __future__ import annotations

from datetime import date

import pytest

from ivr_sim.script import RunJob, ScriptError, ScriptFailure, ScriptRunner, parse_script
from tests.calls.conftest import passes
from tests.members import add_member
from tests.plan_helpers import DUE, set_up

MRN = "52000001"
BILLS = [
    ("B-1", date(2026, 10, 2), "Oakland Medical Center", 100_000, 0, DUE),
    ("B-2", date(2026, 11, 2), "Oakland Medical Center", 25_100, 0, date(2026, 12, 28)),
]
# A six-month plan set up on 11/27/2026: $208.50 paid that day, the next due 12/27/2026.
HEAD = "dial: 1-877-365-9900\nmembers: none\n"
BALANCES = '[{press: "52000001#"}, {press: "01021980"}, {press: "2"}]'


@pytest.fixture
def planned(core) -> int:
    """A member with a six-month card plan on their two bills, set up today; their id."""
    member_id = add_member(
        core, mrn=MRN, birth_date=date(1980, 1, 2), bills=BILLS, email="ana@example.org"
    )
    set_up(core, member_id)
    return member_id


def play(app, text: str) -> None:
    """Play a script on the database as the test left it; a failure shows the script's report."""
    script = parse_script(text, source="s.yaml")
    try:
        ScriptRunner(app, wipe=False).run(script)
    except ScriptFailure as failure:
        pytest.fail(str(failure), pytrace=False)


def failure_of(app, text: str) -> str:
    with pytest.raises(ScriptFailure) as failed:
        ScriptRunner(app, wipe=False).run(parse_script(text, source="s.yaml"))
    return str(failed.value)


def test_a_plans_run_between_two_calls_charges_the_installment_due_that_day(app, planned):
    play(
        app,
        f"""\
at: 2026-12-26T09:00:00-08:00
{HEAD}calls:
  - run: plans  # the day before the installment's: nothing is charged
  - steps: {BALANCES}
    expect:
      heard: ["Your total medical balance is $1,042.50."]
      plan: {{mrn: "{MRN}", status: active, paid: 1, left: 5}}
  - advance: 1d
  - run: plans
  - steps: {BALANCES}
    expect:
      heard: ["Your total medical balance is $834.00."]
      plan: {{mrn: "{MRN}", status: active, paid: 2, left: 4}}
      payments: {{mrn: "{MRN}", status: succeeded, amounts: [$208.50, $208.50]}}
""",
    )


def test_a_run_before_the_script_s_call_is_made_before_it(app, planned):
    play(
        app,
        f"""\
at: 2026-12-27T09:00:00-08:00
{HEAD}before:
  - run: plans
steps: {BALANCES}
expect:
  heard: ["Your total medical balance is $834.00."]
""",
    )


def test_a_reconcile_run_settles_a_payment_whose_answer_the_call_lost(app):
    passes(
        app,
        parse_script(
            """\
at: 2026-11-27T12:00:00-08:00
dial: 1-877-365-9900
calls:
  - steps:
      - press: "10000001#"
      - press: "04121980"
      - press: "1"  # the bill offered first, by card
      - pay: {card: "4000000000000341"}  # the processor times out after charging
      - press: "1"
      - hear: /^We are still confirming your payment of \\$200\\.00\\./
      - hang-up
    expect:
      payments: {mrn: "10000001", status: unknown, count: 1}
  - advance: 15m
  - run: reconcile
  - steps: [{press: "10000001#"}, {press: "04121980"}, {press: "4"}]
    expect:
      never_heard: [/still being confirmed/]
      payments: {mrn: "10000001", status: succeeded, count: 1}
"""
        ),
    )


@pytest.mark.parametrize("job", ["plans", "autopay", "scheduled", "reconcile"])
def test_each_daily_job_can_be_run_between_calls(job):
    script = parse_script(
        "at: 2026-11-27T12:00:00Z\ndial: 1-877-365-9900\n"
        f"calls:\n  - steps: [hang-up]\n  - run: {job}\n  - steps: [hang-up]\n"
    )
    assert script.items[1] == RunJob(job, 5)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "calls:\n  - steps: [hang-up]\n  - run: payroll\n",
            "s.yaml:5: run takes a job: plans, autopay, scheduled, reconcile, reminders; "
            "not 'payroll'",
        ),
        ("before:\n  - run: autopays\n" + "steps: [hang-up]\n", "s.yaml:4: run takes a job"),
        (
            "steps: [hang-up]\nexpect:\n  plan: {status: active}\n",
            "s.yaml:5: plan is a mapping with the member's mrn",
        ),
        (
            "steps: [hang-up]\nexpect:\n  plan:\n    mrn: 1\n    weeks: 3\n",
            "s.yaml:7: plan has no 'weeks'",
        ),
        (
            "steps: [hang-up]\nexpect:\n  plan:\n    mrn: 1\n    status: overdue\n",
            "s.yaml:7: plan status is one of active, completed, lapsed, cancelled, none",
        ),
        (
            "steps: [hang-up]\nexpect:\n  plan:\n    mrn: 1\n    paid: two\n",
            "s.yaml:7: plan paid is a whole number",
        ),
    ],
)
def test_a_mistaken_run_or_plan_item_is_refused_with_its_line(text, problem):
    with pytest.raises(ScriptError) as refused:
        parse_script("at: 2026-11-27T12:00:00Z\ndial: 1-877-365-9900\n" + text, source="s.yaml")
    assert problem in str(refused.value)


def test_the_plan_expectation_passes_for_the_member_s_plan_as_it_stands(app, planned):
    play(
        app,
        "at: 2026-11-27T12:30:00-08:00\n" + HEAD + "steps: [hang-up]\n"
        "expect:\n"
        f'  plan: {{mrn: "{MRN}", status: active, months: 6, paid: 1, left: 5,'
        ' method_last4: "4242"}\n',
    )


def test_the_plan_expectation_names_everything_that_differs(app, planned):
    report = failure_of(
        app,
        "at: 2026-11-27T12:30:00-08:00\n" + HEAD + "steps: [hang-up]\n"
        "expect:\n"
        f'  plan: {{mrn: "{MRN}", status: lapsed, months: 3, paid: 2, left: 1,'
        ' method_last4: "1111"}\n',
    )
    assert (
        "plan: the plan is active, not lapsed; the plan is over 6 months, not 3; "
        "1 installments paid, not 2; 5 installments left to pay, not 1; "
        "the plan's method ends in 4242, not 1111"
    ) in report


def test_a_member_without_a_plan_has_the_plan_status_none(app, core):
    add_member(core, mrn=MRN, birth_date=date(1980, 1, 2), bills=BILLS)
    play(
        app,
        "at: 2026-11-27T12:30:00-08:00\n" + HEAD + "steps: [hang-up]\n"
        f'expect:\n  plan: {{mrn: "{MRN}", status: none}}\n',
    )
    report = failure_of(
        app,
        "at: 2026-11-27T12:30:00-08:00\n" + HEAD + "steps: [hang-up]\n"
        f'expect:\n  plan: {{mrn: "{MRN}", paid: 1}}\n',
    )
    assert "plan: the member has no payment plan" in report


def test_a_member_with_a_plan_fails_the_plan_status_none(app, planned):
    report = failure_of(
        app,
        "at: 2026-11-27T12:30:00-08:00\n" + HEAD + "steps: [hang-up]\n"
        f'expect:\n  plan: {{mrn: "{MRN}", status: none}}\n',
    )
    assert "plan: the plan is active, not none" in report
