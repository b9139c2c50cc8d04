"""Every call script under tests/calls/scripts plays as written, on each database backend."""

from __future__ import annotations

import re

import pytest

from ivr_sim.script import (
    ScriptError,
    ScriptFailure,
    ScriptRunner,
    find_scripts,
    load_script,
    parse_script,
    script_name,
)
from tests.calls.conftest import SCRIPTS_DIR, passes

SCRIPTS = find_scripts(SCRIPTS_DIR)


@pytest.mark.parametrize("path", SCRIPTS, ids=[script_name(path, SCRIPTS_DIR) for path in SCRIPTS])
def test_each_call_script_plays_as_written(app, path, request):
    script = load_script(path, name=script_name(path, SCRIPTS_DIR))
    if script.known_bug:
        # The script shows a flow bug: it must fail until the bug is fixed, then lose the mark.
        request.applymarker(pytest.mark.xfail(reason=script.known_bug, strict=True))
    passes(app, script)


GREETING_HEARD = """\
title: A caller who hears the wrong thing
at: 2026-11-27T12:00:00-08:00
dial: 1-877-365-9900
from: "+14155550123"
members: none
steps:
  - press: "10000001#"
  - hear: "Something the line never says."
"""


def test_a_failed_step_names_its_line_and_shows_the_call_so_far(app):
    script = parse_script(GREETING_HEARD, source="greeting.yaml", name="greeting")
    with pytest.raises(ScriptFailure) as failed:
        ScriptRunner(app).run(script)
    report = str(failed.value)
    assert 'failed at greeting.yaml:8: hear: "Something the line never says."' in report
    assert 'not heard since the last input (line 7: press: "10000001#")' in report
    assert "The call so far:" in report
    assert "  line 7: press 10000001#" in report
    # The answer's path carries its prompt's token (?t=...), which differs on every call.
    assert re.search(
        r"POST /voice/identify/mrn/answer\?t=\w+ Digits=10000001 FinishedOnKey=#", report
    )
    assert "      hears: Welcome to the Kaiser Permanente" in report


def test_plain_yaml_values_stay_what_is_written():
    script = parse_script(
        "at: 2026-11-27T12:00:00Z\ndial: 1-877-365-9900\n"
        "steps:\n  - press: 0123\n  - say: yes\n  - silence: 3\n  - hang-up\n"
    )
    steps = script.calls[0].steps
    assert [(step.action, step.value) for step in steps] == [
        ("press", "0123"),
        ("say", "yes"),
        ("silence", "3"),
        ("hang-up", None),
    ]
    assert [step.line for step in steps] == [4, 5, 6, 7]


HEAD = "at: 2026-11-27T12:00:00-08:00\ndial: 1-877-365-9900\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (HEAD + "steps:\n  - jump: 3\n", "s.yaml:4: a step does exactly one thing"),
        (HEAD + "steps:\n  - press: 12a\n", "s.yaml:4: press takes keys"),
        (HEAD + "steps:\n  - hear: /[/\n", "s.yaml:4: bad regular expression"),
        (HEAD + 'steps:\n  - press: "1"\n    wait: 2\n', "s.yaml:4: press does not take wait"),
        (HEAD + "steps:\n  - pay: {card: {number: ''}}\n", "s.yaml:4: pay card needs its number"),
        (HEAD + "steps:\n  - advance: soon\n", "s.yaml:4: 'soon' is not a duration"),
        (HEAD + "steps: []\ncalls: []\n", "give either steps (one call) or calls"),
        ("at: 2026-11-27T12:00\ndial: 1\nsteps: []\n", "s.yaml:1: '2026-11-27T12:00' has no zone"),
        (HEAD + "steps:\n  - hang-up\nexpect:\n  paid: true\n", "s.yaml:6: expect has no 'paid'"),
        (HEAD + "steps:\n  - press: [1\n", "s.yaml:5: not valid YAML"),
        (HEAD + "settings: [1]\nsteps:\n  - hang-up\n", "s.yaml:3: settings is a mapping"),
        (
            HEAD + "settings:\n  SECRET_KEY: x\nsteps:\n  - hang-up\n",
            "s.yaml:3: settings: SECRET_KEY is not one of the app's IVR_ settings",
        ),
    ],
)
def test_a_mistake_in_a_script_is_named_with_its_file_and_line(text, problem):
    with pytest.raises(ScriptError) as refused:
        parse_script(text, source="s.yaml")
    assert problem in str(refused.value)


def test_a_sentence_spoken_before_the_gather_is_one_no_key_can_stop():
    from tests.calls.conftest import said_before_gather

    waits = "<Response><Say>Thank you.</Say><Gather><Say>Press 1.</Say></Gather></Response>"
    assert said_before_gather(waits) == ["Thank you."]
    inside = "<Response><Gather><Say>Thank you.</Say></Gather><Redirect>/a</Redirect></Response>"
    assert said_before_gather(inside) == []
    assert said_before_gather("<Response><Say>Goodbye.</Say><Hangup/></Response>") == []


ZIP_ASKED = """\
at: 2026-11-27T12:00:00-08:00
dial: 1-877-365-9900
settings:
  IVR_PAY_POSTAL_CODE: true
steps:
  - press: "10000001#"
  - press: "04121980"
  - press: "1"
  - pay: {card: "4242424242424242"}
  - hear: "You are paying $200.00 for your 9/14 visit with your Visa ending in 4242."
"""


def test_a_script_sets_the_apps_settings_for_its_calls_only(app):
    asked_before = app.config["IVR_PAY_POSTAL_CODE"]
    result = ScriptRunner(app).run(parse_script(ZIP_ASKED, source="zip.yaml"))
    heard = [line for record in result.calls for line in record.call.heard]
    assert heard.count("Enter the billing ZIP code.") == 1
    assert app.config["IVR_PAY_POSTAL_CODE"] is asked_before is False


def test_a_script_naming_a_setting_the_app_does_not_have_is_refused(app):
    script = parse_script(ZIP_ASKED.replace("IVR_PAY_POSTAL_CODE", "IVR_NO_SUCH"), source="z")
    with pytest.raises(ValueError, match="no such setting: IVR_NO_SUCH"):
        ScriptRunner(app).run(script)
