"""The softphone: a call from the terminal, driven here by lines typed into its loop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr_sim.recorded import recording_to_script, replay
from ivr_sim.script import AppChannel, ScriptRunner
from ivr_sim.softphone import Softphone
from tests.calls.conftest import PLAN_MEMBERS, add_sim_commands, passes, reword
from tests.conftest import served

NCAL = "1-877-365-9900"
CALLER = "+14155550123"


class Terminal:
    """Lines a person would type, and everything the softphone printed, prompts included."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.output: list[str] = []

    def read(self, prompt: str) -> str:
        if not self.lines:
            self.output.append(prompt)
            raise EOFError
        line = self.lines.pop(0)
        self.output.append(prompt + line)
        return line

    def write(self, text: str) -> None:
        self.output.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.output)


@pytest.fixture
def runner(app) -> ScriptRunner:
    runner = ScriptRunner(app)
    runner.load_members(PLAN_MEMBERS)
    return runner


def softphone(app, clock, terminal: Terminal, **options) -> Softphone:
    return Softphone(
        AppChannel(app),
        to=NCAL,
        from_=CALLER,
        clock=clock,
        read=terminal.read,
        write=terminal.write,
        **options,
    )


def test_the_softphone_prints_each_prompt_as_spoken_and_takes_keys_typed_as_lines(
    app, clock, runner
):
    terminal = Terminal("60000006#", "02141985", "6")
    call = softphone(app, clock, terminal).run()
    output = terminal.output
    assert output[0].startswith("  Welcome to the Kaiser Permanente")
    assert "keys> 60000006#" in output
    assert "  Thank you, Maya." in output
    assert "keys> 6" in output
    assert "  P.O. Box 7158, Pasadena, CA 91109-7158." in output
    # The typed lines ran out: the caller hangs up.
    assert output[-1] == "[call ended: caller-hung-up]"
    assert call.end_reason == "caller-hung-up"


def test_an_empty_line_lets_the_prompt_time_out_in_virtual_time(app, clock, runner):
    terminal = Terminal("")
    phone = softphone(app, clock, terminal)
    started = clock.now()
    call = phone.run()
    assert "  Sorry, I did not hear your answer." in terminal.output
    waited = (clock.now() - started).total_seconds()
    assert waited >= app.config["IVR_GATHER_TIMEOUT"]
    assert call.elapsed == pytest.approx(waited)


def test_card_and_bank_lines_type_into_the_payment_entry(app, clock, core, runner):
    terminal = Terminal(
        "60000006#",
        "02141985",
        "9",  # the main menu, past the offer to pay all the bills by card
        "1",  # pay
        "2",  # the October bill, in full
        "1",  # a new card
        "card 4242-4242-4242-4242 1230 123 94612",
        "1",
        "9",
        "1",
        "1",  # the other bill, in full
        "2",  # a bank account
        "1",  # checking
        "bank 110000000 000123456789",
        "1",
    )
    softphone(app, clock, terminal).run()
    assert "pay (card number)> card 4242-4242-4242-4242 1230 123 94612" in terminal.output
    assert "pay (routing number)> bank 110000000 000123456789" in terminal.output
    summary = core.account_summary(ScriptRunner(app).checks.member_id("60000006"), channel="test")
    assert summary.medical_balance_cents == 0


def test_a_line_the_keypad_cannot_type_is_explained_and_the_call_goes_on(app, clock, runner):
    terminal = Terminal("abc", "help", "60000006#")
    call = softphone(app, clock, terminal).run()
    assert "  (keys must be made of 0-9, * and #, not 'abc')" in terminal.output
    assert any(line.startswith("Type keys and press Enter") for line in terminal.output)
    assert any(turn.params.get("Digits") == "60000006" for turn in call.transcript)


def test_each_prompt_is_spoken_aloud_when_a_speaker_is_given(app, clock, runner):
    spoken: list[tuple[str, str]] = []
    terminal = Terminal()
    softphone(
        app, clock, terminal, speak=lambda text, language: spoken.append((text, language))
    ).run()
    heard = [line.strip() for line in terminal.output if line.startswith("  ")]
    assert [text for text, _language in spoken] == heard
    assert spoken[0][1] == "en-US"


def test_a_recorded_softphone_session_becomes_a_script_that_passes(
    recorded_app, clock, runner, tmp_path
):
    terminal = Terminal("60000006#", "01011990", "60000006#", "02141985", "2", "*", "9", "0")
    call = softphone(recorded_app, clock, terminal).run()
    assert call.dialed == ["+18002181059"]
    recorded_app.config["IVR_RECORDINGS_DIR"] = str(tmp_path / "elsewhere")
    files = sorted((tmp_path / "recordings").glob("*.jsonl"))
    generated = recording_to_script(
        files, app=recorded_app, members=PLAN_MEMBERS, script_dir=tmp_path
    )
    assert '- press: "60000006#"  # the MRN of Maya Rivera' in generated.text
    assert 'dialed: ["+18002181059"]' in generated.text
    script_file = tmp_path / "softphone-session.yaml"
    script_file.write_text(generated.text, encoding="utf-8")
    passes(recorded_app, generated.script)


def test_a_reworded_prompt_shows_in_the_replay_of_a_softphone_recording(
    recorded_app, clock, runner, tmp_path
):
    terminal = Terminal("60000006#", "02141985", "6")
    softphone(recorded_app, clock, terminal).run()
    files = sorted((tmp_path / "recordings").glob("*.jsonl"))
    recorded_app.config["IVR_RECORDINGS_DIR"] = ""
    assert not replay(files, runner=ScriptRunner(recorded_app), members=PLAN_MEMBERS).differs

    reword(
        recorded_app,
        {"Please write your medical record number on your check.": "Write your MRN on the check."},
    )
    report = replay(files, runner=ScriptRunner(recorded_app), members=PLAN_MEMBERS)
    assert report.differs
    assert "-  Please write your medical record number on your check." in report.diff
    assert "+  Write your MRN on the check." in report.diff


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app served over HTTP on a free local port."""
    with served(app) as url:
        yield url


def test_ivr_call_url_calls_a_running_server_and_records_from_the_callers_side(
    app, runner, server, tmp_path
):
    add_sim_commands(app)
    arguments = ["call", NCAL, "--from", CALLER, "--url", server, "--record", str(tmp_path)]
    result = app.test_cli_runner().invoke(
        args=[*arguments, "--quiet"],
        input="60000006#\n02141985\n4\n",
    )
    assert result.exit_code == 0, result.output
    assert f"Calling {NCAL} from {CALLER} through {server}" in result.output
    assert "  Thank you, Maya." in result.output
    [recorded] = sorted(tmp_path.glob("*.jsonl"))
    text = recorded.read_text(encoding="utf-8")
    assert "60000006" not in text and "02141985" not in text
    assert '"prompts":["GREETING",' in text
    # Only the app knows which member an MRN belongs to: the script leaves it to fill in.
    generated = recording_to_script([recorded], app=app, members=PLAN_MEMBERS)
    assert "FILL IN" in generated.text


def test_ivr_call_places_a_call_from_the_terminal_at_the_time_given(app, runner, tmp_path):
    add_sim_commands(app)
    result = app.test_cli_runner().invoke(
        args=[
            "call",
            NCAL,
            "--from",
            CALLER,
            "--at",
            "2026-11-29T10:00",  # a Sunday morning in California: specialists are out
            "--quiet",
            "--record",
            str(tmp_path),
        ],
        input="60000006#\n02141985\n0\n",
    )
    assert result.exit_code == 0, result.output
    assert "Calling 1-877-365-9900 from +14155550123 at 2026-11-29T10:00-08:00" in result.output
    assert "  Thank you, Maya." in result.output
    assert "  Our billing specialists are not available right now." in result.output
    assert "[call ended: caller-hung-up]" in result.output
    [recorded] = list(Path(tmp_path).glob("*.jsonl"))
    assert f"recorded: {recorded}" in result.output
