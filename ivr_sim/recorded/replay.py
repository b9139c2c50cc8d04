"""Replaying recordings or a script against the app, with a diff of what sounds different."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr_sim.recorded.to_script import CONFIRMATION, recording_to_script
from ivr_sim.script import (
    CallScript,
    CallSpec,
    Problem,
    ScriptResult,
    ScriptRunner,
    load_script,
    matcher,
)


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
    return CONFIRMATION.sub("##########", line)


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
