"""Fixtures for calls played through the virtual Twilio."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from xml.etree import ElementTree

import pytest
from babel.support import NullTranslations

from ivr_sim import VirtualTwilio
from ivr_sim.script import ScriptFailure, ScriptRunner

SCRIPTS_DIR = Path(__file__).parent / "scripts"
# The members most call scripts have on file, as a billing feed.
PLAN_MEMBERS = SCRIPTS_DIR / "members" / "plan.json"


# The commands ivr_sim plugs into `ivr` (pyproject.toml's flask.commands entry points).
SIM_COMMANDS = ("call", "calls", "demo")


def add_sim_commands(app) -> None:
    """Give app.cli the simulator's commands, loaded from their entry points as `ivr` loads them.

    app.test_cli_runner() runs app.cli, which (unlike the `ivr` FlaskGroup) loads no plugins.
    """
    found = {ep.name: ep for ep in entry_points(group="flask.commands") if ep.name in SIM_COMMANDS}
    assert sorted(found) == sorted(SIM_COMMANDS), "reinstall: pip install -e ."
    for name, entry in found.items():
        app.cli.add_command(entry.load(), name)


@pytest.fixture
def twilio(app, clock):
    with VirtualTwilio.for_app(app, clock=clock) as virtual:
        yield virtual


@pytest.fixture
def recorded_app(app, tmp_path):
    """The app with call recording on, writing to a folder of the test's own."""
    from ivr import recording

    recording.install(app)
    app.config["IVR_RECORDINGS_DIR"] = str(tmp_path / "recordings")
    return app


class Reworded(NullTranslations):
    """English with some prompts worded differently: what a catalog change sounds like."""

    def __init__(self, changes: dict[str, str]) -> None:
        super().__init__()
        self.changes = changes

    def gettext(self, message: str) -> str:
        return self.changes.get(message, message)


def reword(app, changes: dict[str, str]) -> None:
    """Make the app speak some English prompts differently from now on."""
    app.extensions["translations"]["en"] = Reworded(changes)


def passes(app, script) -> None:
    """Play the script; a failure shows the script's own report. Every answer that asks
    something lets the caller press during every sentence of it (barge-in)."""
    try:
        result = ScriptRunner(app).run(script)
    except ScriptFailure as failure:
        report = str(failure)
    else:
        waits = [
            f"{turn.bare_path}: {sentence!r}"
            for turn in result.turns
            for sentence in said_before_gather(turn.twiml)
        ]
        assert not waits, "sentences a caller must sit through before pressing: " + "; ".join(waits)
        return
    pytest.fail(report, pytrace=False)


def said_before_gather(twiml: str) -> list[str]:
    """The <Say> texts at the top of an answer before its <Gather>: no key stops them."""
    root = ElementTree.fromstring(twiml)
    verbs = list(root)
    tags = [verb.tag for verb in verbs]
    if "Gather" not in tags:
        return []
    before = verbs[: tags.index("Gather")]
    return ["".join(verb.itertext()) for verb in before if verb.tag == "Say"]
