"""Recorded calls: each webhook of a call kept as a JSON line, turned into scripts, replayed.

With config IVR_RECORDINGS_DIR set to a folder, the app appends every turn of a call
to <folder>/<CallSid>.jsonl: the time, the path, the request parameters with anything
sensitive redacted, the TwiML answered and the catalog prompts it spoke.

Never written: the keys or speech a caller gives at identification (MRN, birth date),
card and bank data beyond what Twilio masks (card ending, account ending). In their
place a recording notes what a replay needs: the shape of the entry, whether it
identified the caller, and for an MRN its keyed digest (the same one the database
holds), which to-script matches against the members it knows to put the MRN back.
A line of a recording:

    {"at": "2026-11-27T20:00:14.9+00:00", "call_sid": "CA...", "path": "/voice/identify/mrn/answer",
     "params": {"Digits": "[redacted]", ...}, "redacted": {"Digits": {"field": "mrn", ...}},
     "prompts": ["ASK_BIRTH_DATE"], "twiml": "<?xml ...><Response>...</Response>"}
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, request
from twilio.twiml.voice_response import VoiceResponse

from billing_core.adapters.gateways.sandbox import (
    TEST_BANK_ACCOUNTS,
    TEST_CARDS,
    TEST_ROUTING_NUMBER,
)
from billing_core.domain.clock import ManualClock
from ivr.sim.errors import SimError, TwimlError
from ivr.sim.script import (
    INPUT_ACTIONS,
    PROMPTS_HEADER,
    STATUS_PATH,
    CallScript,
    CallSpec,
    Exchange,
    Problem,
    ScriptResult,
    ScriptRunner,
    Step,
    TurnRecord,
    load_script,
    matcher,
    member_records,
    members_document,
    parse_script,
    play_call,
    prompt_names,
)
from ivr.sim.twiml import Dial, Gather, Hangup, Redirect, parse_twiml

if TYPE_CHECKING:
    from billing_core.adapters.feed import MemberRecord
    from billing_core.domain.identity import IdentityHasher

log = logging.getLogger(__name__)

CONFIG_KEY = "IVR_RECORDINGS_DIR"
SUFFIX = ".jsonl"
REDACTED = "[redacted]"
IDENTIFICATION_PREFIX = "/voice/identify/"
_CALL_SID = re.compile(r"[A-Za-z0-9]{10,64}")
# Keys that are commands, not identity, even at the identification prompts.
COMMAND_KEYS = frozenset({"*", "#", "0", "7", "8", "9"})
# Parameters that carry card or bank data: never written.
CARD_PARAMS = ("PaymentToken", "ExpirationDate", "SecurityCode", "PaymentCardPostalCode")
BANK_PARAMS = ("BankRoutingNumber",)
# Masked numbers Twilio sends: only their last 4 digits are kept, whatever Twilio showed.
MASKED_PARAMS = ("PaymentCardNumber", "BankAccountNumber")
# A run this long in any other parameter may be a card, an account or an identity: redacted.
_LONG_DIGITS = re.compile(r"\d{8,}")
_PHONE_PARAMS = frozenset({"From", "To", "Called", "Caller"})
_SANDBOX_TOKEN = re.compile(r"b?tok_sandbox_(?P<outcome>[a-z-]+)_(?P<last4>\d{4})")
# Confirmation numbers differ on every run: compared and written as a pattern.
_CONFIRMATION = re.compile(r"\b[1-9]\d{9}\b")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


# -- recording in the app ----------------------------------------------------------------------


def install(app: Flask) -> None:
    """Record every webhook turn when config IVR_RECORDINGS_DIR names a folder."""
    if "recording" in app.extensions:
        return
    app.config.setdefault(CONFIG_KEY, os.environ.get(CONFIG_KEY, ""))
    app.extensions["recording"] = True
    app.after_request(_record_turn)


def _record_turn(response):
    folder = current_app.config.get(CONFIG_KEY)
    if not folder or response.status_code != 200:
        return response
    call_sid = request.form.get("CallSid", "")
    if not _CALL_SID.fullmatch(call_sid):
        return response  # no call to file it under, and a name that is safe as a file name
    try:
        state = g.get("call")
        digest = state.mrn_digest if state is not None else None
        query = request.query_string.decode()
        entry = turn_entry(
            at=current_app.extensions["billing"].clock.now(),
            call_sid=call_sid,
            path=request.path + (f"?{query}" if query else ""),
            params=request.form.to_dict(),
            twiml=response.get_data(as_text=True),
            prompts=prompt_names(response.headers.get(PROMPTS_HEADER)),
            mrn_digest=digest if isinstance(digest, str) else None,
        )
        append_turn(Path(folder), call_sid, entry)
    except Exception:  # noqa: BLE001 - a recording problem must never cost the caller the call
        log.exception("call %s: the turn could not be recorded", call_sid)
    return response


def turn_entry(
    *,
    at: datetime,
    call_sid: str,
    path: str,
    params: Mapping[str, str],
    twiml: str,
    prompts: Sequence[str],
    mrn_digest: str | None = None,
) -> dict[str, Any]:
    """Build one line of a recording, redacted."""
    kept, notes = redact(path, params, prompts, mrn_digest=mrn_digest)
    entry: dict[str, Any] = {
        "at": at.astimezone(UTC).isoformat(),
        "call_sid": call_sid,
        "path": path,
        "params": kept,
    }
    if notes:
        entry["redacted"] = notes
    entry["prompts"] = list(prompts)
    entry["twiml"] = twiml
    return entry


def append_turn(folder: Path, call_sid: str, entry: Mapping[str, Any]) -> Path:
    """Append a line to the call's recording; the file is readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{call_sid}{SUFFIX}"
    line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as file:
        file.write(line)
    return path


def redact(
    path: str,
    params: Mapping[str, str],
    prompts: Sequence[str] = (),
    *,
    mrn_digest: str | None = None,
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Return the parameters safe to write, and notes on what was taken out."""
    kept = dict(params)
    notes: dict[str, dict[str, Any]] = {}
    bare = path.split("?", 1)[0]
    if bare.startswith(IDENTIFICATION_PREFIX):
        field_name = (
            "mrn" if "/mrn" in bare else "birth_date" if "/birth-date" in bare else "identity"
        )
        for name in ("Digits", "SpeechResult"):
            value = params.get(name)
            if value is None or _is_command(name, value):
                continue
            keys = value if name == "Digits" else _spoken_keys(value)
            note: dict[str, Any] = {
                "field": field_name,
                "via": "keys" if name == "Digits" else "speech",
                "shape": re.sub(r"\d", "9", keys),
            }
            if field_name == "mrn":
                note["outcome"] = "invalid" if "MRN_INVALID" in prompts else "entered"
                if note["outcome"] == "entered" and mrn_digest:
                    note["mrn_digest"] = mrn_digest
            elif field_name == "birth_date":
                note["outcome"] = _identification_outcome(prompts)
            kept[name] = REDACTED
            notes[name] = note
    for name in (*CARD_PARAMS, *BANK_PARAMS):
        if name in params:
            kept[name] = REDACTED
            note = {}
            token = _SANDBOX_TOKEN.match(params[name]) if name == "PaymentToken" else None
            if token is not None:
                # A sandbox token names only its test outcome and last 4: enough to replay.
                note = {"outcome": token["outcome"], "last4": token["last4"]}
            notes[name] = note
    for name in MASKED_PARAMS:
        if params.get(name):
            digits = re.sub(r"\D", "", params[name])[-4:]
            kept[name] = "x" * 4 + digits
    for name, value in kept.items():
        if name in _PHONE_PARAMS or name.endswith("Sid") or name in notes:
            continue
        if isinstance(value, str) and _LONG_DIGITS.search(value):
            kept[name] = REDACTED
            notes[name] = {"shape": re.sub(r"\d", "9", value)}
    return kept, notes


def _is_command(name: str, value: str) -> bool:
    from ivr.kernel import SPOKEN_COMMANDS

    if name == "Digits":
        return value.strip() in COMMAND_KEYS or value.strip() == ""
    return value.strip().lower().strip(".!?¡¿ ") in SPOKEN_COMMANDS


def _spoken_keys(speech: str) -> str:
    from ivr.spoken_digits import spoken_to_keys

    return spoken_to_keys(speech.strip().lower()) or "?"


def _identification_outcome(prompts: Sequence[str]) -> str:
    if "IDENTIFIED" in prompts:
        return "identified"
    if "NOT_MATCHED" in prompts:
        return "not-matched"
    if "BIRTH_DATE_INVALID" in prompts:
        return "invalid"
    return "other"


class ClientRecorder:
    """Writes a call's turns from the caller's side (a softphone on a remote server).

    The same format and redaction as the app's own recording, without the MRN digest,
    which only the app knows: to-script leaves the MRN for the operator to fill in.
    """

    def __init__(self, folder: Path, call_sid: str, started: datetime) -> None:
        self.folder = folder
        self.call_sid = call_sid
        self.started = started
        self.written = 0
        self.path = folder / f"{call_sid}{SUFFIX}"

    def write(self, turns: Sequence[TurnRecord]) -> None:
        """Append the turns not written yet."""
        for turn in turns[self.written :]:
            entry = turn_entry(
                at=self.started + timedelta(seconds=turn.at),
                call_sid=self.call_sid,
                path=turn.path,
                params=turn.params,
                twiml=turn.twiml,
                prompts=turn.prompts,
            )
            append_turn(self.folder, self.call_sid, entry)
        self.written = max(self.written, len(turns))


# -- reading recordings --------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedTurn:
    """One turn of a recorded call."""

    at: datetime
    path: str
    params: dict[str, str]
    twiml: str
    prompts: tuple[str, ...]
    redacted: dict[str, dict[str, Any]]

    @property
    def bare_path(self) -> str:
        return self.path.split("?", 1)[0]


@dataclass(frozen=True)
class Recording:
    """A recorded call: its turns in order."""

    call_sid: str
    source: str
    turns: tuple[RecordedTurn, ...]

    @property
    def started(self) -> datetime:
        return self.turns[0].at

    @property
    def dialed(self) -> str:
        return self.turns[0].params.get("To") or self.turns[0].params.get("Called", "")

    @property
    def caller(self) -> str:
        return self.turns[0].params.get("From") or self.turns[0].params.get("Caller", "")


class RecordingError(ValueError):
    """A file that is not a call recording."""


def load_recording(path: str | Path) -> Recording:
    """Read a <CallSid>.jsonl recording."""
    path = Path(path)
    turns: list[RecordedTurn] = []
    call_sid = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns.append(
                RecordedTurn(
                    at=datetime.fromisoformat(raw["at"]),
                    path=raw["path"],
                    params=dict(raw.get("params") or {}),
                    twiml=raw.get("twiml") or "",
                    prompts=tuple(raw.get("prompts") or ()),
                    redacted=dict(raw.get("redacted") or {}),
                )
            )
            call_sid = call_sid or raw.get("call_sid", "")
        except (ValueError, KeyError, TypeError) as bad:
            raise RecordingError(f"{path}:{number}: not a recorded turn ({bad})") from None
    if not turns:
        raise RecordingError(f"{path}: the recording is empty")
    return Recording(call_sid or path.stem, str(path), tuple(turns))


class RecordedTransport:
    """Answers a call's requests with the recorded TwiML, in order: the call as it was."""

    public_base_url = "https://recorded.invalid"

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.prompts: list[tuple[str, ...]] = []
        self._next = 0

    def public_url(self, path: str) -> str:
        return self.public_base_url + (path if path.startswith("/") else "/" + path)

    def post(self, path: str, params: Mapping[str, str]) -> tuple[int, str]:
        return self.send("POST", self.public_url(path), params)

    def send(self, method: str, url: str, params: Mapping[str, str]) -> tuple[int, str]:
        path = self.path_of(url)
        turns = self.recording.turns
        if self._next >= len(turns):
            if path.startswith(STATUS_PATH):
                self.prompts.append(())
                return 200, str(VoiceResponse())
            raise SimError(f"the recording ends before the request to {path}")
        turn = turns[self._next]
        if turn.path != path:
            raise SimError(
                f"the replayed call requests {path}, the recording has {turn.path} "
                f"(turn {self._next + 1} of {len(turns)})"
            )
        self._next += 1
        self.prompts.append(turn.prompts)
        return 200, turn.twiml

    def path_of(self, url: str) -> str:
        return url.removeprefix(self.public_base_url) or "/"

    def fresh(self) -> RecordedTransport:
        return self

    def close(self) -> None:
        """Nothing to release."""


# -- from a recording to a script ---------------------------------------------------------------


@dataclass
class DerivedStep:
    """A step worked out from a recording, with a note for the script's reader."""

    action: str
    value: Any = None
    note: str | None = None


@dataclass
class GeneratedScript:
    """A script made from recordings: its text, the parsed script, and what was heard then."""

    text: str
    script: CallScript
    heard: list[list[Exchange]]
    problems: list[str] = field(default_factory=list)


class _Identities:
    """Puts identification entries back from the members a script will have on file."""

    def __init__(self, members: Iterable[MemberRecord], hasher: IdentityHasher) -> None:
        self.by_digest = {hasher.mrn(member.mrn): member for member in members}
        self.member: MemberRecord | None = None

    def keys(self, note: Mapping[str, Any]) -> tuple[str, str]:
        """Return the keys to enter for a redacted entry, and a note saying what they are."""
        field_name = note.get("field")
        shape = str(note.get("shape", ""))
        if field_name == "mrn":
            if note.get("outcome") == "invalid":
                self.member = None
                return "12", "an incomplete MRN, as the caller entered (the entry is redacted)"
            member = self.by_digest.get(note.get("mrn_digest", ""))
            self.member = member
            if member is not None:
                return member.mrn, f"the MRN of {member.first_name} {member.last_name}"
            return "9" * max(len(shape), 8), (
                "an MRN no member here has: FILL IN if the caller was a member on file"
            )
        if field_name == "birth_date":
            outcome = note.get("outcome")
            member = self.member
            if outcome == "identified" and member is not None:
                return member.birth_date.strftime("%m%d%Y"), f"{member.first_name}'s birth date"
            if outcome == "identified":
                return "01011970", "FILL IN: the birth date of the member who called"
            if outcome == "not-matched":
                wrong = "01011970"
                if member is not None and member.birth_date.strftime("%m%d%Y") == wrong:
                    wrong = "01021970"
                return wrong, "a birth date that does not match, as on the recorded call"
            return "99999999", "not a date, as the caller entered (the entry is redacted)"
        return shape or "9", "a redacted entry, in its shape"


def _waits_for(twiml: str) -> tuple[str, Any]:
    """What a TwiML document leaves the call waiting for: gather, pay, dial, or nothing."""
    try:
        verbs = parse_twiml(twiml)
    except TwimlError:
        return "end", None
    for verb in verbs:
        if isinstance(verb, Gather):
            return "gather", verb
        if verb.name == "Pay":
            return "pay", verb
        if isinstance(verb, Dial):
            return ("dial", verb) if verb.action else ("end", verb)
        if isinstance(verb, Hangup):
            return "end", verb
        if isinstance(verb, Redirect):
            return "redirect", verb
    return "end", None


def _card_number(outcome: str | None, last4: str | None) -> str | None:
    for number, (_brand, card_outcome) in TEST_CARDS.items():
        if card_outcome == outcome and number.endswith(last4 or "-"):
            return number
    return None


def _bank_account(outcome: str | None, last4: str | None) -> str | None:
    for account, account_outcome in TEST_BANK_ACCOUNTS.items():
        if account_outcome == outcome and account.endswith(last4 or "-"):
            return account
    return None


def _pay_steps(turn: RecordedTurn, verb: Any, at: datetime) -> list[DerivedStep]:
    bank = getattr(verb, "payment_method", "credit-card") == "ach-debit"
    result = turn.params.get("Result", "")
    token = turn.redacted.get("PaymentToken", {})
    expiry = f"12{(at.year + 4) % 100:02d}"
    if bank:
        account = _bank_account(token.get("outcome"), token.get("last4"))
        entry: dict[str, Any] = {"bank": {"routing": TEST_ROUTING_NUMBER}}
        entry["bank"]["account"] = account or "000123456789"
        kind = getattr(verb, "bank_account_type", "")
        entry["bank"]["type"] = "savings" if "savings" in kind else "checking"
        found = account is not None
    else:
        number = _card_number(token.get("outcome"), token.get("last4"))
        card = number or "4242424242424242"
        entry = {"card": {"number": card, "expiry": expiry}}
        if card.startswith(("34", "37")):
            entry["card"]["cvc"] = "1234"
        found = number is not None
    if result == "success":
        note = None if found else "a test card or account standing in for the recorded one"
        return [DerivedStep("pay", entry, note)]
    if result == "caller-interrupted-with-star":
        return [DerivedStep("press", "*", "the caller cancels the entry with star")]
    if result == "caller-hung-up":
        return [DerivedStep("hang-up", None, "the caller hangs up during the entry")]
    if result == "too-many-failed-attempts":
        if bank:
            bad = {"bank": {"routing": "123456789", "account": "000123456789"}}
        else:
            bad = {"card": {"number": "4242424242424241", "expiry": expiry}}
        return [DerivedStep("pay", bad, "digits that fail every attempt, as on the recorded call")]
    if result in ("payment-connector-error", "internal-error"):
        return [
            DerivedStep("connector", "down", "the payment processor could not be reached"),
            DerivedStep("pay", entry),
            DerivedStep("connector", "up"),
        ]
    return [DerivedStep("pay", entry, f"the recorded <Pay> ended with {result or 'no result'}")]


def derive_steps(
    recording: Recording, identities: _Identities
) -> tuple[list[DerivedStep], str | None]:
    """Work out what the caller did from the requests the app received."""
    steps: list[DerivedStep] = []
    call_dial_outcome: str | None = None
    last_input: int | None = None
    waits, verb = "redirect", None
    for index, turn in enumerate(recording.turns):
        if index == 0:
            waits, verb = _waits_for(turn.twiml)
            continue
        if turn.bare_path == STATUS_PATH:
            if waits in ("gather", "pay"):
                steps.append(DerivedStep("hang-up"))
            waits, verb = "end", None
            continue
        if waits == "gather":
            last_input = len(steps)
            steps.append(_gather_step(turn, identities))
        elif waits == "pay":
            last_input = len(steps)
            steps.extend(_pay_steps(turn, verb, recording.started))
        elif waits == "dial":
            outcome = turn.params.get("DialCallStatus", "completed")
            if outcome not in ("completed", "answered"):
                if last_input is None:
                    call_dial_outcome = outcome
                else:
                    note = "the specialist's line does not take the call"
                    steps.insert(last_input, DerivedStep("dial_outcome", outcome, note))
                    last_input += 1
        waits, verb = _waits_for(turn.twiml)
    return steps, call_dial_outcome


def _gather_step(turn: RecordedTurn, identities: _Identities) -> DerivedStep:
    params = turn.params
    finished = params.get("FinishedOnKey", "")
    if "Digits" in params:
        keys, note = params["Digits"], None
        if keys == REDACTED:
            keys, note = identities.keys(turn.redacted.get("Digits", {}))
        keys += finished if finished in ("#", "*") else ""
        if not keys:
            return DerivedStep("silence", None, "an empty entry")
        return DerivedStep("press", keys, note)
    if "SpeechResult" in params:
        speech, note = params["SpeechResult"], None
        if speech == REDACTED:
            keys, note = identities.keys(turn.redacted.get("SpeechResult", {}))
            speech = " ".join(DIGIT_WORDS[int(d)] for d in keys if d.isdigit()) or "hello"
        return DerivedStep("say", speech, note)
    return DerivedStep("silence")


def _step(derived: DerivedStep) -> Step:
    value = derived.value
    written = derived.action if value is None else f"{derived.action}: {_flow(value)}"
    return Step(derived.action, value, {}, None, written)


def _flow(value: Any) -> str:
    """Write a value as YAML flow text (JSON is a subset that needs no escaping care)."""
    return json.dumps(value, ensure_ascii=False)


def heard_pattern(line: str) -> str:
    """Write a heard line for a script: exact, or a /regex/ where it holds a confirmation number."""
    if not _CONFIRMATION.search(line):
        return line
    pieces = _CONFIRMATION.split(line)
    return "/^" + r"\d{10}".join(_escape(piece) for piece in pieces) + "$/"


def _escape(text: str) -> str:
    # Only what a regular expression reads specially, so the line stays readable.
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def recording_to_script(
    sources: Sequence[str | Path],
    *,
    app: Flask,
    members: str | Path | None = None,
    script_dir: Path | None = None,
    title: str | None = None,
) -> GeneratedScript:
    """Make a call script from recordings (one call each, in time order).

    members: the feed file the script will have on file (None: the demo data); MRNs and
    birth dates are put back from it. script_dir: where the script will be saved, so
    that its members: line names the file from there.
    """
    recordings = sorted((load_recording(s) for s in sources), key=lambda r: r.started)
    core = app.extensions["billing"]
    script_dir = (script_dir or Path.cwd()).resolve()
    members_ref = None
    if members is not None:
        members_ref = os.path.relpath(Path(members).resolve(), script_dir)
    document = members_document(members_ref, script_dir)
    first_day = recordings[0].started.date()
    identities = _Identities(member_records(document, core, first_day), core.hasher)
    calls: list[tuple[Recording, list[DerivedStep], str | None]] = []
    for recording in recordings:
        steps, dial_outcome = derive_steps(recording, identities)
        calls.append((recording, steps, dial_outcome))

    # Play the recorded answers back to a virtual caller making the same moves: what the
    # caller heard then, exactly as the simulator hears it.
    heard: list[list[Exchange]] = []
    problems: list[str] = []
    for recording, steps, dial_outcome in calls:
        spec = CallSpec(
            dial=recording.dialed,
            from_=recording.caller,
            at=recording.started,
            steps=tuple(_step(s) for s in steps),
            line=None,
            dial_outcome=dial_outcome or "completed",
        )
        played = ScriptResult(CallScript("playback", "playback", recording.started, (spec,)))
        record = play_call(
            spec,
            RecordedTransport(recording),
            played,
            clock=ManualClock(recording.started),
            checks=None,
            strict=False,
        )
        heard.append(record.exchanges)
        problems.extend(f"{recording.source}: {p}" for p in played.problems)

    # Times are written in the dialed region's zone: the hours and dates the caller hears.
    zone = core.regions.for_dialed_number(recordings[0].dialed)[0].time_zone
    calls = [(_in_zone(r, zone), steps, outcome) for r, steps, outcome in calls]
    named = title or _title([recording for recording, _steps, _outcome in calls])
    text = _script_text(calls, heard, title=named, members_ref=members_ref)
    script = parse_script(text, source="<generated>", name="generated", base_dir=script_dir)
    return GeneratedScript(text, script, heard, problems)


def _in_zone(recording: Recording, zone: Any) -> Recording:
    turns = tuple(
        RecordedTurn(t.at.astimezone(zone), t.path, t.params, t.twiml, t.prompts, t.redacted)
        for t in recording.turns
    )
    return Recording(recording.call_sid, recording.source, turns)


def _title(recordings: Sequence[Recording]) -> str:
    first = recordings[0]
    when = first.started.strftime("%Y-%m-%d %H:%M %Z")
    calls = f"{len(recordings)} recorded calls" if len(recordings) > 1 else "Recorded call"
    return f"{calls} to {first.dialed}, {when}"


def _script_text(
    calls: Sequence[tuple[Recording, list[DerivedStep], str | None]],
    heard: Sequence[list[Exchange]],
    *,
    title: str,
    members_ref: str | None,
) -> str:
    first = calls[0][0]
    lines = [
        f"title: {_flow(title)}",
        f"at: {first.started.isoformat()}",
        f"dial: {_flow(first.dialed)}",
        f"from: {_flow(first.caller)}",
    ]
    if members_ref:
        lines.append(f"members: {_flow(members_ref)}")
    else:
        lines.append("# members: the demo data (give members: FILE for others)")
    several = len(calls) > 1
    keys = "    " if several else ""  # where a call's keys sit
    items = keys + "  "  # where its steps sit
    if several:
        lines.append("calls:")
    for (recording, steps, dial_outcome), exchanges in zip(calls, heard, strict=True):
        if several:
            lines.append(f"  - at: {recording.started.isoformat()}")
            lines.append(f"{keys}dial: {_flow(recording.dialed)}")
            lines.append(f"{keys}from: {_flow(recording.caller)}")
        lines.append(f"{keys}# recorded as {recording.call_sid}")
        if dial_outcome:
            lines.append(f"{keys}dial_outcome: {dial_outcome}")
        lines.append(f"{keys}steps:")
        # The first exchange is the call's start; each input step has the next one.
        inputs = iter(exchanges[1:])
        lines.extend(_hear_lines(exchanges[0].heard if exchanges else [], items))
        for step in steps:
            line = f"{items}- {step.action}" + (
                "" if step.value is None else f": {_flow(step.value)}"
            )
            if step.note:
                line += f"  # {step.note}"
            lines.append(line)
            if step.action in INPUT_ACTIONS:
                exchange = next(inputs, None)
                if exchange is not None:
                    lines.extend(_hear_lines(exchange.heard, items))
        ending = _ending(recording)
        lines.append(f"{keys}expect:")
        lines.extend(f"{items}{item}" for item in ending)
    return "\n".join(lines) + "\n"


def _hear_lines(heard: Sequence[str], indent: str) -> list[str]:
    if not heard:
        return []
    lines = [f"{indent}- hear_all:"]
    lines += [f"{indent}    - {_flow(heard_pattern(line))}" for line in heard]
    return lines


def _ending(recording: Recording) -> list[str]:
    dialed: list[str] = []
    for turn in recording.turns:
        _waits, verb = _waits_for(turn.twiml)
        if isinstance(verb, Dial):
            dialed.extend(verb.numbers)
    ended = recording.turns[-1].bare_path == STATUS_PATH
    items = [f"ended: {'true' if ended else 'false'}"]
    if dialed:
        items.append(f"dialed: {_flow(dialed)}")
    return items


# -- replaying ---------------------------------------------------------------------------------


@dataclass
class ReplayReport:
    """What a replay found: the differences in what the caller hears, and any step that failed."""

    diff: str
    problems: list[str]

    @property
    def differs(self) -> bool:
        return bool(self.diff) or bool(self.problems)

    def text(self) -> str:
        parts = []
        if self.diff:
            parts.append(self.diff)
        if self.problems:
            parts.append("Steps that could not be played as before:")
            parts.extend(self.problems)
        return "\n".join(parts) if parts else "The caller hears the same."


def _masked(line: str) -> str:
    return _CONFIRMATION.sub("##########", line)


def _transcript(calls: Sequence[Sequence[tuple[str, list[str]]]]) -> list[str]:
    lines: list[str] = []
    for number, exchanges in enumerate(calls, start=1):
        if len(calls) > 1:
            lines.append(f"== call {number}")
        for action, heard in exchanges:
            lines.append(f"> {action}")
            lines.extend(f"  {_masked(line)}" for line in heard)
    return lines


def _actual(result: ScriptResult) -> list[list[tuple[str, list[str]]]]:
    return [[(e.action, list(e.heard)) for e in record.exchanges] for record in result.calls]


def replay(
    sources: Sequence[str | Path], *, runner: ScriptRunner, members: Any = None
) -> ReplayReport:
    """Play recordings (or a script) against the runner's app; report what sounds different."""
    paths = [Path(source) for source in sources]
    if all(path.suffix in (".yaml", ".yml") for path in paths):
        if len(paths) != 1:
            raise ValueError("replay takes one script at a time")
        return _replay_script(load_script(paths[0]), runner)
    generated = recording_to_script(paths, app=runner.app, members=members)
    expected = [[(e.action, list(e.heard)) for e in exchanges] for exchanges in generated.heard]
    result = runner.run(generated.script, strict=False)
    problems = [*generated.problems, *_blocking(result.problems)]
    diff = _diff(_transcript(expected), _transcript(_actual(result)), "recorded")
    return ReplayReport(diff, problems)


def _blocking(problems: Iterable[Problem]) -> list[str]:
    # Hear checks that fail are what the diff shows; the rest say a step could not be played.
    return [str(p) for p in problems if p.action not in ("hear", "hear_all", "not_hear")]


def _replay_script(script: CallScript, runner: ScriptRunner) -> ReplayReport:
    result = runner.run(script, strict=False)
    expected: list[list[tuple[str, list[str]]]] = []
    actual: list[list[tuple[str, list[str]]]] = []
    for spec, record in zip(script.calls, result.calls, strict=False):
        groups = _hear_groups(spec)
        want_call: list[tuple[str, list[str]]] = []
        got_call: list[tuple[str, list[str]]] = []
        for position, exchange in enumerate(record.exchanges):
            checks, exact = groups[position] if position < len(groups) else ([], False)
            heard = list(exchange.heard)
            want = [_expected_line(m, heard) for m in checks]
            if exact or not checks:
                got = heard if exact else []
            else:
                matched = [line for line in heard if any(m.matches(line) for m in checks)]
                missing = any(not any(m.matches(line) for line in heard) for m in checks)
                got = heard if missing else matched
            want_call.append((exchange.action, want))
            got_call.append((exchange.action, got))
        expected.append(want_call)
        actual.append(got_call)
    diff = _diff(_transcript(expected), _transcript(actual), "script")
    return ReplayReport(diff, _blocking(result.problems))


def _hear_groups(spec: CallSpec) -> list[tuple[list[Any], bool]]:
    """For the call's start and each input step: the lines it must hear, and if exactly these."""
    groups: list[tuple[list[Any], bool]] = [([], False)]
    for step in spec.steps:
        if step.is_input:
            groups.append(([], False))
        elif step.action == "hear":
            groups[-1][0].append(matcher(step.value))
        elif step.action == "hear_all":
            groups[-1] = ([matcher(line) for line in step.value], True)
    return groups


def _expected_line(wanted: Any, heard: Sequence[str]) -> str:
    if wanted.pattern is None:
        return wanted.written
    found = next((line for line in heard if wanted.matches(line)), None)
    return found if found is not None else wanted.written


def _diff(expected: list[str], actual: list[str], before: str) -> str:
    return "\n".join(
        difflib.unified_diff(expected, actual, fromfile=before, tofile="now", lineterm="")
    )
