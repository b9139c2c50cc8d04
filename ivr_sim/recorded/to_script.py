"""Turning recorded calls into a call script that hears what the caller heard."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from billing_core.domain.clock import ManualClock
from ivr_sim.recorded.reading import RecordedTransport, RecordedTurn, Recording, load_recording
from ivr_sim.recorded.steps import DerivedStep, Identities, derive_steps, waits_for
from ivr_sim.script import (
    INPUT_ACTIONS,
    STATUS_PATH,
    CallScript,
    CallSpec,
    Exchange,
    ScriptResult,
    Step,
    member_records,
    members_document,
    parse_script,
    play_call,
)
from ivr_sim.twiml import Dial

CONFIRMATION = re.compile(r"\b[1-9]\d{9}\b")


@dataclass
class GeneratedScript:
    """A script made from recordings: its text, the parsed script, and what was heard then."""

    text: str
    script: CallScript
    heard: list[list[Exchange]]
    problems: list[str] = field(default_factory=list)


def _step(derived: DerivedStep) -> Step:
    value = derived.value
    written = derived.action if value is None else f"{derived.action}: {_flow(value)}"
    return Step(derived.action, value, {}, None, written)


def _flow(value: Any) -> str:
    """Write a value as YAML flow text (JSON is a subset that needs no escaping care)."""
    return json.dumps(value, ensure_ascii=False)


def heard_pattern(line: str) -> str:
    """Write a heard line for a script: exact, or a /regex/ where it holds a confirmation number."""
    if not CONFIRMATION.search(line):
        return line
    pieces = CONFIRMATION.split(line)
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
    identities = Identities(member_records(document, core, first_day), core.hasher)
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
        _waits, verb = waits_for(turn.twiml)
        if isinstance(verb, Dial):
            dialed.extend(verb.numbers)
    ended = recording.turns[-1].bare_path == STATUS_PATH
    items = [f"ended: {'true' if ended else 'false'}"]
    if dialed:
        items.append(f"dialed: {_flow(dialed)}")
    return items
