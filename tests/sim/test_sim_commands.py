"""The simulator's commands reach `ivr` through the flask.commands entry points, not imports."""

from __future__ import annotations

from click.testing import CliRunner
from flask.cli import ScriptInfo

from ivr.console import main


def _ivr(app, *args: str):
    """Run the installed `ivr` group (ivr.console.main, a FlaskGroup) on the test's app."""
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_the_ivr_command_lists_the_simulators_commands_from_their_entry_points(app):
    result = _ivr(app, "--help")
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.splitlines() if line.startswith("  ")}
    assert {"call", "calls", "demo"} <= listed
    # The app's own commands are there too.
    assert {"db", "billing", "regions", "payments", "outbox"} <= listed


def test_ivr_calls_has_the_simulators_commands_and_the_apps_purge(app):
    result = _ivr(app, "calls", "--help")
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.splitlines() if line.startswith("  ")}
    assert {"coverage", "to-script", "replay", "purge"} <= listed


def test_ivr_calls_purge_still_runs_through_the_plugged_in_group(app):
    result = _ivr(app, "calls", "purge")
    assert result.exit_code == 0, result.output
    assert "removed 0 expired call(s)" in result.output


def test_ivr_demo_loads_the_demo_members(app, database_url):
    app.config["DATABASE_URL"] = database_url  # the test's database, not the embedded file
    result = _ivr(app, "demo")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("demo members loaded: members: ")


def test_the_app_alone_has_no_simulator_command():
    from ivr.cli import calls

    assert set(calls.commands) == {"purge"}
