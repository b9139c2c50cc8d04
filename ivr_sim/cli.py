"""The simulator's commands: `ivr call`, `ivr calls coverage|to-script|replay`, `ivr demo`.

`ivr` (ivr.console.main, a FlaskGroup) loads them from the `flask.commands` entry points in
pyproject.toml; the app itself never imports them. `calls` here also carries the app's
own `calls purge`, since a plugin group stands in for the app's group of the same name.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from billing_core.adapters.migrate import upgrade as migrate
from billing_core.domain.clock import ManualClock
from ivr import create_app, recording
from ivr.cli import calls_purge, import_summary
from ivr.config import PROJECT_ROOT
from ivr_sim.demo import load_demo
from ivr_sim.recorded import recording_to_script, replay
from ivr_sim.script import AppChannel, HttpChannel, ScriptRunner, scratch_app, script_coverage
from ivr_sim.softphone import Softphone, espeak_speaker

SCRIPTS_DIR = PROJECT_ROOT / "tests" / "calls" / "scripts"


def app_with(base: Flask, **overrides: Any) -> Flask:
    """A new app with the base app's configuration and some values changed."""
    settings = dict(base.config)
    settings.update(overrides)
    app = create_app(settings)
    recording.install(app)
    return app


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Keep the app's own log lines (payments declined on purpose, ...) out of a report."""
    loggers = [logging.getLogger(name) for name in ("ivr", "billing_core")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


# -- ivr call ---------------------------------------------------------------------------------


def parse_at(text: str | None, number: str, app: Flask) -> datetime:
    """Read --at; a time without a zone is taken in the time zone of the region dialed."""
    if not text:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date and time such as 2026-11-27T12:00", param_hint="--at"
        ) from None
    if when.tzinfo is None:
        region, _relay = app.extensions["billing"].regions.for_dialed_number(number)
        when = when.replace(tzinfo=region.time_zone)
    return when


@click.command("call")
@click.argument("number")
@click.option("--from", "from_", default="+14155550100", show_default=True, help="caller number")
@click.option("--at", "at", default=None, help="the call's time, ISO (default: now)")
@click.option("--url", default=None, help="a running server (default: the app in process)")
@click.option(
    "--record",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="write the call's recording (<CallSid>.jsonl) to this folder",
)
@click.option("--quiet", is_flag=True, help="print the prompts without speaking them")
@with_appcontext
def call_command(
    number: str, from_: str, at: str | None, url: str | None, record: Path | None, quiet: bool
) -> None:
    """Call NUMBER from the terminal: hear the prompts, type keys, pay."""
    base = current_app._get_current_object()  # type: ignore[attr-defined]
    speak = None if quiet else espeak_speaker()
    when = parse_at(at, number, base)
    if url:
        token = base.config["IVR_TWILIO_AUTH_TOKEN"]
        channel = HttpChannel(url, token, base.config["IVR_PUBLIC_BASE_URL"] or None)
        if at:
            click.echo("(--at is ignored with --url: the server keeps its own time)")
        click.echo(f"Calling {number} from {from_} through {url}")
        phone = Softphone(
            channel, to=number, from_=from_, speak=speak, record_to=record, write=click.echo
        )
    else:
        clock = ManualClock(when)
        app = app_with(base, CLOCK=clock, IVR_RECORDINGS_DIR=str(record or ""))
        own_engine = "ENGINE" not in base.config or base.config["ENGINE"] is None
        channel = AppChannel(app)
        click.echo(f"Calling {number} from {from_} at {when.isoformat(timespec='minutes')}")
        click.echo("(type help for what you can type)")
        phone = Softphone(
            channel, to=number, from_=from_, clock=clock, speak=speak, write=click.echo
        )
    try:
        call = phone.run()
    finally:
        channel.close()
        if not url and own_engine:
            app.extensions["billing"].engine.dispose()
    if record is not None:
        click.echo(f"recorded: {Path(record) / (call.call_sid + '.jsonl')}")


# -- ivr calls coverage / to-script / replay -------------------------------------------------


@click.group("calls")
def calls() -> None:
    """Call scripts, recordings, coverage, and call state."""


calls.add_command(calls_purge)


@calls.command("coverage")
@click.option(
    "--scripts",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=SCRIPTS_DIR,
    show_default=True,
    help="the folder of call scripts",
)
@with_appcontext
def coverage_command(scripts: Path) -> None:
    """List every catalog prompt and flow step with the call scripts that reach them."""
    with tempfile.TemporaryDirectory(prefix="ivr-coverage-") as folder:
        with scratch_app(current_app.config, folder=Path(folder)) as app, quiet_logs():
            report = script_coverage(app, scripts)
    click.echo(report.text())
    if not report.complete:
        sys.exit(1)


@calls.command("to-script")
@click.argument("recordings", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--members",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="billing-feed JSON of the members on file (default: the demo data)",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write the script here (default: print it)",
)
@click.option("--title", default=None, help="the script's title")
@with_appcontext
def to_script_command(
    recordings: tuple[Path, ...], members: Path | None, output: Path | None, title: str | None
) -> None:
    """Turn recorded calls (<CallSid>.jsonl, one call each) into a call script."""
    generated = recording_to_script(
        _recording_files(recordings),
        app=current_app._get_current_object(),  # type: ignore[attr-defined]
        members=members,
        script_dir=output.parent if output else Path.cwd(),
        title=title,
    )
    for problem in generated.problems:
        click.echo(f"warning: {problem}", err=True)
    if output is None:
        click.echo(generated.text, nl=False)
    else:
        output.write_text(generated.text, encoding="utf-8")
        click.echo(f"wrote {output}")


@calls.command("replay")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--members",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="billing-feed JSON of the members on file, for recordings (default: the demo data)",
)
@with_appcontext
def replay_command(sources: tuple[Path, ...], members: Path | None) -> None:
    """Play recordings (or a call script) against the current app; show what sounds different.

    Exits with 1 when the caller would hear something else.
    """
    files = _recording_files(sources)
    with tempfile.TemporaryDirectory(prefix="ivr-replay-") as folder:
        with scratch_app(current_app.config, folder=Path(folder)) as app, quiet_logs():
            report = replay(files, runner=ScriptRunner(app), members=members)
    click.echo(report.text())
    if report.differs:
        sys.exit(1)


def _recording_files(paths: tuple[Path, ...]) -> list[Path]:
    """The files named, with each folder standing for the recordings in it."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.jsonl")) if path.is_dir() else [path])
    if not files:
        raise click.UsageError("no recordings (*.jsonl) found")
    return files


# -- ivr demo ------------------------------------------------------------------------------


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create the schema and load the demo members (see README)."""
    migrate(current_app.config["DATABASE_URL"])
    report = load_demo(current_app.extensions["billing"])
    click.echo(f"demo members loaded: {import_summary(report)}")
