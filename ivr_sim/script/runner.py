"""Running call scripts against an app: a fresh database per script, every call played."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from billing_core.domain.clock import ManualClock
from billing_core.domain.regions import normalize_phone_number
from billing_core.services.feed_import import import_feed
from ivr_sim.call import Call
from ivr_sim.errors import SimError
from ivr_sim.ids import new_sid
from ivr_sim.script.channels import AppChannel
from ivr_sim.script.members import member_records, members_document
from ivr_sim.script.model import (
    FALLBACK_PATH,
    JOBS,
    SCRIPT_SUFFIXES,
    STATUS_PATH,
    VOICE_PATH,
    Advance,
    CallScript,
    CallSpec,
    RunJob,
    TextMessage,
)
from ivr_sim.script.parser import load_script
from ivr_sim.script.player import CallPlayer, StepFailed
from ivr_sim.script.results import CallRecord, ScriptFailure, ScriptResult
from ivr_sim.script.state_checks import StateChecks
from ivr_sim.transport import Transport

if TYPE_CHECKING:
    from flask import Flask

    from billing_core.core import BillingCore


class ScriptRunner:
    """Plays call scripts against a Flask app in process, on its database, at the script's time.

    The app must be built with a ManualClock (config CLOCK). With wipe (the default) every
    table is emptied before each script, so point it only at a disposable database.
    """

    def __init__(self, app: Flask, *, wipe: bool = True) -> None:
        core = app.extensions["billing"]
        if not isinstance(core.clock, ManualClock):
            raise ValueError("call scripts need an app built with a ManualClock (config CLOCK)")
        self.app = app
        self.core: BillingCore = core
        self.clock: ManualClock = core.clock
        self.wipe = wipe
        self.checks = StateChecks(core)

    def run(self, script: CallScript, *, strict: bool = True) -> ScriptResult:
        """Play the script; strict raises ScriptFailure at the first failed step."""
        unknown = [key for key in script.settings if key not in self.app.config]
        if unknown:
            raise ValueError(f"{script.name}: no such setting: {', '.join(unknown)}")
        saved = {key: self.app.config[key] for key in script.settings}
        self.app.config.update(script.settings)
        try:
            return self._run(script, strict=strict)
        finally:
            self.app.config.update(saved)

    def _run(self, script: CallScript, *, strict: bool) -> ScriptResult:
        result = ScriptResult(script)
        self.prepare(script)
        for item in script.items:
            if isinstance(item, Advance):
                self.clock.advance(item.seconds)
                continue
            if isinstance(item, RunJob):
                self.run_job(item.job)
                continue
            if isinstance(item, TextMessage):
                self.send_text(item)
                continue
            if item.at is not None:
                self.clock.set(item.at)
            position = len(result.calls) + 1
            channel = AppChannel(self.app)
            play_call(
                item,
                channel,
                result,
                clock=self.clock,
                checks=self.checks,
                strict=strict,
                number=(position, len(script.calls)),
                when=self.clock.now().astimezone((item.at or script.at).tzinfo),
            )
        return result

    def send_text(self, message: TextMessage) -> None:
        """Post the text to the app's Messaging webhook, signed, as Twilio does."""
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": normalize_phone_number(message.sender) or message.sender,
            "To": normalize_phone_number(message.to) or message.to,
            "Body": message.body,
            "NumMedia": "0",
        }
        status, _body = AppChannel(self.app).post("/sms", params)
        if status != 200:
            raise ValueError(f"the Messaging webhook answered {status}")

    def run_job(self, job: str) -> None:
        """Run one job over every member once, at the clock's time, as the worker does."""
        if job not in JOBS:
            raise ValueError(f"no daily job {job!r}")
        # The task itself, as the worker runs it: batches inline, the same code and reports.
        self.app.extensions["jobs"].run_now(job, self.clock.now())

    def prepare(self, script: CallScript) -> None:
        """Empty the database (with wipe), set the clock and load the script's members."""
        if self.wipe:
            self.empty_database()
        self.clock.set(script.at)
        self.load_members(script.members, script.base_dir, script.source)

    def load_members(self, spec: Any, base_dir: Path | None = None, source: str = "") -> int:
        """Import members (a feed file, document or list; None: the demo data); return how many."""
        document = members_document(spec, base_dir, source)
        records = member_records(document, self.core, self.clock.now().date(), source)
        if records:
            import_feed(
                self.core.unit_of_work(),
                records=records,
                hasher=self.core.hasher,
                now=self.clock.now(),
            )
        return len(records)

    def empty_database(self) -> None:
        """Delete every row of every table."""
        import ivr.call_state  # noqa: F401  (its table is emptied too)
        from billing_core.adapters.db import Base

        with self.core.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


def play_call(
    spec: CallSpec,
    channel: Transport,
    result: ScriptResult,
    *,
    clock: ManualClock | None,
    checks: StateChecks | None,
    strict: bool,
    number: tuple[int, int] = (1, 1),
    when: datetime | None = None,
) -> CallRecord:
    """Place one call of a script through `channel` and play its steps."""
    call = Call(
        channel,
        to=spec.dial,
        from_=spec.from_,
        voice_path=VOICE_PATH,
        status_path=STATUS_PATH,
        fallback_path=FALLBACK_PATH,
        account_sid=new_sid("AC"),
        clock=clock,
    )
    call.dial_outcome = spec.dial_outcome
    moment = f", at {when.isoformat()}" if when is not None else ""
    described = f"Call {number[0]} of {number[1]}: to {spec.dial} from {spec.from_}{moment}" + (
        f" ({spec.title})" if spec.title else ""
    )
    player = CallPlayer(
        call,
        channel,
        spec,
        source=result.script.source,
        clock=clock,
        checks=checks,
        strict=strict,
        problems=result.problems,
        describe_call=described,
    )
    result.calls.append(player.record)
    try:
        try:
            player.start()
        except SimError as error:
            stopped = str(error).split("\nCall so far:\n", 1)[0]
            player.fail_start(f"the virtual Twilio stopped at the start: {stopped}")
            return player.record
        player.play(spec.steps)
    except StepFailed as failed:
        log = "\n".join(player.log())
        title = result.script.title
        raise ScriptFailure(
            f"call script {title!r} failed at {failed}\n\nThe call so far:\n{log}", result
        ) from None
    return player.record


# -- finding and running every script ----------------------------------------------------------


def find_scripts(folder: str | Path) -> list[Path]:
    """Every call script under a folder, in name order."""
    root = Path(folder)
    return sorted(p for p in root.rglob("*") if p.suffix in SCRIPT_SUFFIXES and p.is_file())


def script_name(path: Path, root: Path) -> str:
    """The name a script goes by: its path under the scripts folder, without the suffix."""
    return path.relative_to(root).with_suffix("").as_posix()


def load_scripts(folder: str | Path) -> list[CallScript]:
    """Load every script under a folder."""
    root = Path(folder)
    return [load_script(path, name=script_name(path, root)) for path in find_scripts(root)]


@contextmanager
def scratch_app(config: Mapping[str, Any] | None = None, *, folder: Path) -> Iterator[Flask]:
    """An app on a fresh SQLite database in `folder`, with a ManualClock: for playing scripts."""
    from billing_core.adapters.db import make_engine
    from billing_core.adapters.migrate import upgrade as migrate
    from ivr import create_app

    url = f"sqlite:///{folder / 'scripts.sqlite3'}"
    migrate(url)
    engine = make_engine(url)
    settings = {
        key: value
        for key, value in (config or {}).items()
        if key not in ("ENGINE", "CLOCK", "DATABASE_URL", "GATEWAY", "SERVER_NAME")
    }
    settings.update(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "ENGINE": engine,
            "CLOCK": ManualClock(datetime.now(UTC)),
            "IVR_RECORDINGS_DIR": "",
        }
    )
    try:
        yield create_app(settings)
    finally:
        engine.dispose()
