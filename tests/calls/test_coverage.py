"""Every prompt of the catalog, flow step, spoken request and answer is reached by a call script.

A prompt added to ivr/prompts.py, or a step added under /voice, fails this test until a
script under tests/calls/scripts makes the line say it (docs/call-scripts.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_sim.script import scratch_app, script_coverage
from tests.calls.conftest import SCRIPTS_DIR, add_sim_commands
from tests.conftest import AUTH_TOKEN, IDENTITY_KEY, PUBLIC_BASE_URL

CONFIG = {
    "IVR_IDENTITY_KEY": IDENTITY_KEY,
    "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
}
# Prompts no script can reach for a reason outside the scripts. Each entry must still be
# unreached: once its cause is fixed the test says so, and the entry goes.
NOT_REACHABLE_YET: dict[str, str] = {
    # Said only when the daily run begins the charge between the caller's choice and their
    # "yes"; scripts cannot run a job (tests/calls/test_scheduled_calls.py hears it).
    "SCHEDULED_ALREADY_STARTED": "needs the scheduled run mid-call",
}
GREETING_ONLY = """\
title: The greeting, then the caller hangs up
at: 2026-11-27T12:00:00-08:00
dial: 1-877-365-9900
members: none
steps:
  - hear: /^Welcome to the Kaiser Permanente/
  - hang-up
"""


def test_every_catalog_prompt_and_flow_step_is_reached_by_a_call_script(tmp_path):
    with scratch_app(CONFIG, folder=tmp_path) as app:
        report = script_coverage(app, SCRIPTS_DIR)
    assert not report.failures, "\n\n".join(report.failures.values())
    missing = [name for name in report.missing_prompts if name not in NOT_REACHABLE_YET]
    assert not missing, (
        "catalog prompts no call script reaches: "
        + ", ".join(missing)
        + "\nAdd a script under tests/calls/scripts that makes the line say them."
    )
    reached = [name for name in NOT_REACHABLE_YET if name not in report.missing_prompts]
    assert not reached, "now reached: remove from NOT_REACHABLE_YET: " + ", ".join(reached)
    assert not report.missing_steps, "flow steps no call script reaches: " + ", ".join(
        report.missing_steps
    )
    assert not report.missing_intents, "spoken requests no call script makes: " + ", ".join(
        report.missing_intents
    )
    assert not report.missing_answers, "answers no call script hears: " + ", ".join(
        report.missing_answers
    )


@pytest.fixture
def one_script(tmp_path) -> Path:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "greeting.yaml").write_text(GREETING_ONLY, encoding="utf-8")
    return folder


def test_the_coverage_report_names_the_scripts_reaching_each_prompt_and_step(tmp_path, one_script):
    with scratch_app(CONFIG, folder=tmp_path) as app:
        report = script_coverage(app, one_script)
    assert report.prompts["GREETING"] == ["greeting"]
    assert report.prompts["ASK_MRN"] == ["greeting"]
    assert report.prompts["IDENTIFIED"] == []
    assert report.steps["entry.incoming"] == ["greeting"]
    assert report.steps["status.call_status"] == ["greeting"]
    assert report.steps["menu.main"] == []
    assert report.intents["es:pay_premium"] == []
    assert report.answers["due"] == []
    assert "IDENTIFIED" in report.missing_prompts
    assert "en:balances" in report.missing_intents
    assert "menu.main" in report.missing_steps
    assert not report.complete


def test_ivr_calls_coverage_lists_what_each_script_reaches_and_fails_on_a_gap(app, one_script):
    add_sim_commands(app)
    result = app.test_cli_runner().invoke(args=["calls", "coverage", "--scripts", str(one_script)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.split() == ["GREETING", "greeting"] for line in lines)
    assert any(line.split()[:3] == ["IDENTIFIED", "NOT", "REACHED"] for line in lines)
    assert any(line.startswith("prompts reached: ") for line in lines)
    assert any(line.split()[:3] == ["es:questions", "NOT", "REACHED"] for line in lines)
