"""Recorded calls: one JSON line per turn, nothing sensitive written, scripts made from them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ivr_sim.recorded import REDACTED, load_recording, recording_to_script, replay
from ivr_sim.script import ScriptRunner, load_script
from tests.calls.conftest import PLAN_MEMBERS, add_sim_commands, passes, reword

NCAL = "1-877-365-9900"
CALLER = "+14155550123"
MAYA = ("60000006", "02141985")


@pytest.fixture
def runner(recorded_app) -> ScriptRunner:
    runner = ScriptRunner(recorded_app)
    runner.load_members(PLAN_MEMBERS)
    return runner


def recordings(app) -> list[Path]:
    return sorted(Path(app.config["IVR_RECORDINGS_DIR"]).glob("*.jsonl"))


def identify(call, mrn: str = MAYA[0], birth: str = MAYA[1]) -> None:
    call.press(mrn + "#")
    call.press(birth)


def press_until(call, path: str, since: int, key: str = "1", most: int = 4) -> None:
    """Press a key until the call has reached a flow step (after transcript turn `since`)."""
    for _ in range(most):
        # Reached by a request of its own, or answered inline (its prompt's action is there).
        if any(
            turn.path == path or f"{path}/answer" in turn.twiml for turn in call.transcript[since:]
        ):
            return
        call.press(key)
    raise AssertionError(f"{path} not reached; heard: {call.heard_since_input}")


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_webhook_turn_of_a_call_is_one_json_line_in_a_file_named_by_its_call_sid(
    twilio, runner, recorded_app
):
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    call.hang_up()
    [path] = recordings(recorded_app)
    assert path.name == f"{call.call_sid}.jsonl"
    assert path.stat().st_mode & 0o777 == 0o600
    turns = lines_of(path)
    assert [turn["path"] for turn in turns] == [turn.path for turn in call.transcript]
    assert turns[0]["at"] == "2026-11-27T20:00:00+00:00"
    # The greeting's answer also asks for the MRN (and offers Spanish and relay mode).
    assert sorted(turns[0]["prompts"]) == ["ASK_MRN", "GREETING", "OFFER_RELAY", "OFFER_SPANISH"]
    assert turns[0]["twiml"] == call.transcript[0].twiml
    assert turns[0]["params"]["To"] == NCAL
    assert turns[-1]["path"] == "/voice/status"


def test_nothing_is_recorded_without_a_recordings_folder(twilio, runner, recorded_app):
    recorded_app.config["IVR_RECORDINGS_DIR"] = ""
    call = twilio.call(to=NCAL, from_=CALLER)
    call.hang_up()
    folder = Path(recorded_app.config.get("IVR_RECORDINGS_DIR") or "/nonexistent")
    assert not folder.exists() or not list(folder.glob("*.jsonl"))


def test_mrn_and_birth_date_are_never_written_only_what_a_replay_needs(
    twilio, runner, recorded_app, core
):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press("12#")  # not a whole MRN
    identify(call, birth="07041976")  # the wrong birth date
    call.say("six zero zero zero zero zero zero six")
    call.say("zero two one four nineteen eighty five")
    assert call.heard_since_input[0] == "Thank you, Maya."
    call.hang_up()
    [path] = recordings(recorded_app)
    text = path.read_text(encoding="utf-8")
    for secret in ["60000006", "02141985", "07041976", "1985-02-14", "six zero zero", "eighty"]:
        assert secret not in text
    notes = [turn["redacted"] for turn in lines_of(path) if "redacted" in turn]
    digest = core.hasher.mrn(MAYA[0])
    assert notes == [
        {"Digits": {"field": "mrn", "via": "keys", "shape": "99", "outcome": "invalid"}},
        {
            "Digits": {
                "field": "mrn",
                "via": "keys",
                "shape": "99999999",
                "outcome": "entered",
                "mrn_digest": digest,
            }
        },
        {
            "Digits": {
                "field": "birth_date",
                "via": "keys",
                "shape": "99999999",
                "outcome": "not-matched",
            }
        },
        {
            "SpeechResult": {
                "field": "mrn",
                "via": "speech",
                "shape": "99999999",
                "outcome": "entered",
                "mrn_digest": digest,
            }
        },
        {
            "SpeechResult": {
                "field": "birth_date",
                "via": "speech",
                "shape": "99999999",
                "outcome": "identified",
            }
        },
    ]


def test_commands_at_the_identification_prompts_are_kept(twilio, runner, recorded_app):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.press("*")
    call.say("relay")
    call.hang_up()
    turns = lines_of(recordings(recorded_app)[0])
    # The path carries the token of the prompt answered: /voice/identify/mrn/answer?t=...
    answers = [t["params"] for t in turns if t["path"].startswith("/voice/identify/mrn/answer?")]
    assert [a.get("Digits", a.get("SpeechResult")) for a in answers] == ["*", "relay"]


def test_card_and_bank_details_are_written_only_as_their_last_four_digits(
    twilio, runner, recorded_app
):
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    for keys in ["9", "1", "2", "1"]:  # the main menu, the bill from October, in full, by card
        call.press(keys)
    since = len(call.transcript)
    call.pay_card("4242424242424242", expiry="1230", cvc="987", postal="94612")
    press_until(call, "/voice/pay/finished", since)
    call.press("9")
    for keys in ["1", "1", "2", "1"]:  # the other bill, in full, from a checking account
        call.press(keys)
    since = len(call.transcript)
    call.pay_bank("110000000", "000123456789")
    press_until(call, "/voice/pay/finished", since)
    call.hang_up()
    text = recordings(recorded_app)[0].read_text(encoding="utf-8")
    for secret in ["4242424242424242", "000123456789", "110000000", '"987"', '"94612"', "tok_"]:
        assert secret not in text
    turns = lines_of(recordings(recorded_app)[0])
    results = [turn["params"] for turn in turns if "Result" in turn["params"]]
    assert results[0]["PaymentCardNumber"] == "xxxx4242"
    assert results[0]["ExpirationDate"] == REDACTED
    assert results[0]["PaymentToken"] == REDACTED
    assert results[1]["BankAccountNumber"] == "xxxx89"
    assert results[1]["BankRoutingNumber"] == REDACTED


def test_a_card_number_keyed_at_a_menu_is_not_written(twilio, runner, recorded_app):
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    for keys in ["9", "1", "1", "1"]:  # the main menu, the first bill, by card
        call.press(keys)
    call.pay_card("5555555555554444")
    call.press("2")  # another amount
    call.press("4242424242424242#")
    call.hang_up()
    text = recordings(recorded_app)[0].read_text(encoding="utf-8")
    assert "4242424242424242" not in text
    assert '"shape":"9999999999999999"' in text


@pytest.mark.parametrize(
    ("said", "secrets"),
    [
        ("4242 4242 4242 4242", ["4242"]),
        ("four two four two four two four two four two four two four two four two", ["four"]),
        ("4242 four two four two 4242 cuatro dos cuatro dos", ["4242", "four", "cuatro"]),
        ("my birthday is April 12, 1980", ["April", "1980", "birthday"]),
        ("12 de abril de 1980", ["abril", "1980"]),
        ("04/12/1980", ["04/12", "1980"]),
        ("one zero zero zero zero zero zero one", ["zero", "10000001"]),
    ],
)
def test_a_card_number_or_a_date_said_at_a_menu_is_not_written(
    twilio, runner, recorded_app, said, secrets
):
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    call.say(said)  # at the main menu
    call.press("9")
    call.hang_up()
    text = recordings(recorded_app)[0].read_text(encoding="utf-8")
    # The call's and account's SIDs are random hex: "4242" may be in them by chance.
    text = re.sub(r"\b(CA|AC)[0-9a-f]{32}\b", "SID", text)
    for secret in [said, *secrets]:
        assert secret not in text
    [turn] = [t for t in lines_of(recordings(recorded_app)[0]) if "SpeechResult" in t["params"]]
    assert turn["params"]["SpeechResult"] == REDACTED
    assert set(turn["redacted"]["SpeechResult"]["shape"]) <= set("9")


def test_a_recording_problem_never_costs_the_caller_the_call_nor_logs_what_was_said(
    twilio, runner, recorded_app, monkeypatch, caplog
):
    from ivr import recording

    def broken(*args, **kwargs):
        raise ValueError("cannot redact 4242424242424242")

    monkeypatch.setattr(recording, "redact", broken)
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    assert call.heard_since_input[0] == "Thank you, Maya."
    call.say("4242 4242 4242 4242")
    call.hang_up()
    assert recordings(recorded_app) == []
    assert "could not be recorded (ValueError at " in caplog.text
    # Nothing said or raised is logged; only the CallSid, whose hex may hold any digits.
    assert "4242" not in caplog.text.replace(call.call_sid, "CA…")


def test_a_recordings_folder_that_cannot_be_written_never_costs_the_call(
    twilio, runner, recorded_app, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    recorded_app.config["IVR_RECORDINGS_DIR"] = str(blocker / "recordings")
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    assert call.heard_since_input[0] == "Thank you, Maya."
    call.hang_up()


def test_a_recorded_call_becomes_a_script_that_plays_as_written(
    twilio, runner, recorded_app, tmp_path
):
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call, birth="01011990")
    identify(call)
    call.press("2")  # balances
    call.press("*")
    call.press("9")
    for keys in ["1", "1", "1"]:  # the first bill, in full, by card
        call.press(keys)
    since = len(call.transcript)
    call.pay_card("4000000000009995")  # declined: insufficient funds
    press_until(call, "/voice/pay/declined", since)
    call.press("1")  # another way to pay
    call.press("1")
    since = len(call.transcript)
    call.pay_card("5555555555554444")
    press_until(call, "/voice/pay/finished", since)
    call.silence()
    call.hang_up()

    generated = recording_to_script(
        recordings(recorded_app), app=recorded_app, members=PLAN_MEMBERS, script_dir=tmp_path
    )
    assert generated.problems == []
    text = generated.text
    assert 'members: "' in text and "plan.json" in text
    assert '- press: "60000006#"  # the MRN of Maya Rivera' in text
    assert '- press: "01011970"  # a birth date that does not match' in text
    assert '- press: "02141985"  # Maya\'s birth date' in text
    assert '"number": "4000000000009995"' in text
    assert r'"/^Payment complete: your confirmation number is \\d{10}\\.$/"' in text
    (tmp_path / "recorded.yaml").write_text(text, encoding="utf-8")
    passes(recorded_app, load_script(tmp_path / "recorded.yaml"))


def test_each_way_a_payment_entry_ends_is_replayed_from_the_recording(
    twilio, runner, recorded_app, tmp_path
):
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    for keys in ["9", "1", "2", "1"]:  # the main menu, the October bill, in full, by card
        call.press(keys)
    call.press("*")  # cancels the card entry
    call.press("1")
    call.pay_card("4242424242424241")  # fails every attempt
    call.press("1")
    call.pay_connector_down = True
    call.pay_card("4242424242424242")
    call.pay_connector_down = False
    call.press("2")  # a bank account
    call.press("2")  # savings
    since = len(call.transcript)
    call.pay_bank("110000000", "000111111116")  # closed
    press_until(call, "/voice/pay/declined", since)
    call.hang_up()
    generated = recording_to_script(
        recordings(recorded_app), app=recorded_app, members=PLAN_MEMBERS, script_dir=tmp_path
    )
    assert generated.problems == []
    assert '- press: "*"  # the caller cancels the entry with star' in generated.text
    assert '- connector: "down"' in generated.text
    assert '"account": "000111111116", "type": "savings"' in generated.text
    passes(recorded_app, generated.script)


def test_calls_recorded_across_a_lockout_become_one_script_of_several_calls(
    twilio, runner, recorded_app, clock, tmp_path
):
    for _ in range(3):
        call = twilio.call(to=NCAL, from_="+15105550100")
        identify(call, birth="01011990")
        call.hang_up()
    clock.advance(20 * 60)
    call = twilio.call(to=NCAL, from_="+15105550111")
    identify(call)
    assert call.heard_since_input[0] == "Thank you, Maya."
    call.hang_up()
    generated = recording_to_script(
        recordings(recorded_app), app=recorded_app, members=PLAN_MEMBERS, script_dir=tmp_path
    )
    assert generated.text.count("\n  - at: ") == 4
    assert generated.script.calls[3].from_ == "+15105550111"
    passes(recorded_app, generated.script)


def test_replaying_a_recording_on_the_same_app_hears_the_same(twilio, runner, recorded_app):
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    call.press("6")
    call.hang_up()
    files = recordings(recorded_app)
    recorded_app.config["IVR_RECORDINGS_DIR"] = ""
    report = replay(files, runner=ScriptRunner(recorded_app), members=PLAN_MEMBERS)
    assert not report.differs
    assert report.text() == "The caller hears the same."


def test_replay_shows_a_reworded_prompt_as_a_unified_diff(twilio, runner, recorded_app):
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    call.press("9")
    call.hang_up()
    files = recordings(recorded_app)
    recorded_app.config["IVR_RECORDINGS_DIR"] = ""
    reword(recorded_app, {"Main menu.": "Here are your choices."})
    report = replay(files, runner=ScriptRunner(recorded_app), members=PLAN_MEMBERS)
    assert report.differs
    diff = report.diff.splitlines()
    assert diff[:2] == ["--- recorded", "+++ now"]
    assert "-  Main menu." in diff
    assert "+  Here are your choices." in diff
    assert any(line.startswith("@@") for line in diff)


def test_the_recording_reader_takes_back_what_the_app_wrote(twilio, runner, recorded_app):
    call = twilio.call(to=NCAL, from_=CALLER)
    call.hang_up()
    recording = load_recording(recordings(recorded_app)[0])
    assert recording.call_sid == call.call_sid
    assert (recording.dialed, recording.caller) == (NCAL, CALLER)
    assert recording.turns[0].prompts[0] == "GREETING"
    assert "ASK_MRN" in recording.turns[0].prompts


def test_ivr_calls_to_script_and_replay_work_from_the_command_line(
    twilio, runner, recorded_app, tmp_path
):
    add_sim_commands(recorded_app)
    call = twilio.call(to=NCAL, from_=CALLER)
    identify(call)
    call.press("9")
    call.press("6")
    call.hang_up()
    [recorded] = recordings(recorded_app)
    recorded_app.config["IVR_RECORDINGS_DIR"] = ""
    cli = recorded_app.test_cli_runner()
    output = tmp_path / "scripts" / "ways-to-pay.yaml"
    output.parent.mkdir()
    members = ["--members", str(PLAN_MEMBERS)]
    made = cli.invoke(args=["calls", "to-script", str(recorded), *members, "-o", str(output)])
    assert made.exit_code == 0, made.output
    assert "members: " in output.read_text(encoding="utf-8")
    passes(recorded_app, load_script(output))

    same = cli.invoke(args=["calls", "replay", str(recorded), *members])
    assert same.exit_code == 0, same.output
    assert "The caller hears the same." in same.output

    # A recording of what the line used to say: the replay shows the change and fails.
    recorded.write_text(
        recorded.read_text(encoding="utf-8").replace("Main menu.", "Top menu."), encoding="utf-8"
    )
    changed = cli.invoke(args=["calls", "replay", str(recorded), *members])
    assert changed.exit_code == 1
    assert "-  Top menu." in changed.output and "+  Main menu." in changed.output

    script = cli.invoke(args=["calls", "replay", str(output)])
    assert script.exit_code == 0, script.output
