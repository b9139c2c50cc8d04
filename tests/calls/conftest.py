"""Fixtures for calls played through the virtual Twilio."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.support import NullTranslations

from ivr.sim import VirtualTwilio
from ivr.sim.script import ScriptFailure, ScriptRunner

SCRIPTS_DIR = Path(__file__).parent / "scripts"
# The members most call scripts have on file, as a billing feed.
PLAN_MEMBERS = SCRIPTS_DIR / "members" / "plan.json"


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
    """Play the script; a failure shows the script's own report."""
    try:
        ScriptRunner(app).run(script)
    except ScriptFailure as failure:
        report = str(failure)
    else:
        return
    pytest.fail(report, pytrace=False)
