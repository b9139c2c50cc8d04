"""Reading call scripts from YAML into the script model, with checks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ivr_sim.script.errors import ScriptError
from ivr_sim.script.matching import matcher_at
from ivr_sim.script.model import (
    ACTION_ALIASES,
    DEFAULT_FROM,
    DIAL_OUTCOMES,
    DURATION_PATTERN,
    EXPECT_KEYS,
    FAULTS,
    JOBS,
    KEYS_PATTERN,
    PLAN_KEYS,
    PLAN_STATUSES,
    STEP_OPTIONS,
    Advance,
    CallScript,
    CallSpec,
    RunJob,
    ScriptItem,
    Step,
    TextMessage,
)
from ivr_sim.script.pay_entry import pay_values
from ivr_sim.script.values import number_value
from ivr_sim.script.yaml_lines import LineDict, LineList, load_yaml


def load_script(path: str | Path, *, name: str | None = None) -> CallScript:
    """Read and check a call script file."""
    path = Path(path)
    return parse_script(
        path.read_text(encoding="utf-8"),
        source=str(path),
        name=name or path.stem,
        base_dir=path.parent,
    )


def parse_script(
    text: str, *, source: str = "<script>", name: str = "script", base_dir: Path | None = None
) -> CallScript:
    """Parse call-script YAML into a CallScript, or raise ScriptError naming the line."""
    document = load_yaml(text, source)
    return _Parser(source).script(document, name, base_dir)


class _Parser:
    """Checks a script document piece by piece, naming the line of each mistake."""

    TOP_KEYS = frozenset(
        {"title", "description", "at", "dial", "from", "members", "before", "steps", "expect"}
        | {"calls", "dial_outcome", "known_bug", "settings"}
    )
    CALL_KEYS = frozenset(
        {"title", "description", "at", "dial", "from", "steps", "expect", "dial_outcome"}
    )

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, problem: str, line: int | None) -> ScriptError:
        return ScriptError(problem, self.source, line)

    def script(self, document: Any, name: str, base_dir: Path | None) -> CallScript:
        if not isinstance(document, LineDict):
            raise self.fail("a call script is a mapping (title, at, dial, steps, ...)", 1)
        self.unknown(document, self.TOP_KEYS, "a script")
        if "steps" in document and "calls" in document:
            raise self.fail("give either steps (one call) or calls (several), not both", 1)
        if "steps" not in document and "calls" not in document:
            raise self.fail("the script has no steps (or calls)", document.line)
        at = self.when(document, "at")
        if at is None:
            raise self.fail("at (the call's date and time, with its zone) is required", 1)
        defaults = {
            "dial": document.get("dial"),
            "from": document.get("from") or DEFAULT_FROM,
            "dial_outcome": document.get("dial_outcome"),
        }
        items: list[ScriptItem] = []
        before = document.get("before")
        if before is not None:
            items.extend(self.items(before, defaults, document.lines["before"], "before"))
        if "calls" in document:
            items.extend(self.items(document["calls"], defaults, document.lines["calls"], "calls"))
            if "expect" in document:
                raise self.fail("with calls, put expect inside each call", document.lines["expect"])
        else:
            items.append(self.call(document, defaults, top=True))
        if not any(isinstance(item, CallSpec) for item in items):
            raise self.fail("the script places no call", document.line)
        return CallScript(
            title=self.text(document, "title") or name,
            name=name,
            at=at,
            items=tuple(items),
            members=document.get("members"),
            source=self.source,
            base_dir=base_dir,
            known_bug=self.text(document, "known_bug"),
            settings=self.settings(document),
        )

    def settings(self, document: LineDict) -> dict[str, Any]:
        raw = document.get("settings")
        if raw is None:
            return {}
        line = document.lines["settings"]
        if not isinstance(raw, LineDict):
            raise self.fail("settings is a mapping of the app's IVR_ settings to values", line)
        for key, value in raw.items():
            if not str(key).startswith("IVR_"):
                raise self.fail(f"settings: {key} is not one of the app's IVR_ settings", line)
            if not isinstance(value, str | int | bool):
                raise self.fail(f"settings: {key} takes a plain value", line)
        return dict(raw)

    def items(self, raw: Any, defaults: dict[str, Any], line: int, where: str) -> list[ScriptItem]:
        if not isinstance(raw, LineList):
            raise self.fail(f"{where} is a list of calls, advance: and run: items", line)
        items: list[ScriptItem] = []
        for item, item_line in zip(raw, raw.lines, strict=True):
            if isinstance(item, LineDict) and set(item) == {"advance"}:
                items.append(Advance(self.duration(item["advance"], item_line), item_line))
            elif isinstance(item, LineDict) and set(item) == {"run"}:
                items.append(RunJob(self.job(item["run"], item_line), item_line))
            elif isinstance(item, LineDict) and set(item) == {"text"}:
                items.append(self.text_message(item["text"], defaults, item_line))
            elif isinstance(item, LineDict):
                items.append(self.call(item, defaults, top=False))
            else:
                raise self.fail(
                    f"each of {where} is a call (with steps), advance or run", item_line
                )
        return items

    def text_message(self, raw: Any, defaults: dict[str, Any], line: int) -> TextMessage:
        """A `text: {body, from, to}` item: from and to default to the script's from and dial."""
        if not isinstance(raw, dict) or not isinstance(raw.get("body"), str):
            raise self.fail("text takes {body: ..., from: ..., to: ...} (body required)", line)
        unknown = set(raw) - {"body", "from", "to"}
        if unknown:
            raise self.fail(f"text takes body, from and to, not {', '.join(sorted(unknown))}", line)
        sender = str(raw.get("from") or defaults.get("from") or "")
        to = str(raw.get("to") or defaults.get("dial") or "")
        if not sender or not to:
            raise self.fail("text needs from and to (or the script's from and dial)", line)
        return TextMessage(sender, to, raw["body"], line)

    def job(self, value: Any, line: int) -> str:
        if value not in JOBS:
            raise self.fail(f"run takes a job: {', '.join(JOBS)}; not {value!r}", line)
        return value

    def call(self, raw: LineDict, defaults: dict[str, Any], *, top: bool) -> CallSpec:
        if not top:
            self.unknown(raw, self.CALL_KEYS, "a call")
            if "steps" not in raw:
                raise self.fail("a call needs steps", raw.line)
        dial = raw.get("dial") or defaults["dial"]
        if not isinstance(dial, str) or not dial.strip():
            raise self.fail("dial (the number the caller dials) is required", raw.line)
        caller = raw.get("from") or defaults["from"]
        if not isinstance(caller, str):
            raise self.fail("from must be a phone number", raw.lines.get("from", raw.line))
        outcome = raw.get("dial_outcome") or defaults["dial_outcome"] or "completed"
        self.dial_outcome(outcome, raw.lines.get("dial_outcome", raw.line))
        steps = self.steps(raw.get("steps"), raw.lines.get("steps", raw.line))
        if "expect" in raw:
            expect = raw["expect"]
            line = raw.lines["expect"]
            self.expectations(expect, line)
            steps.append(Step("expect", expect, {}, line, "expect: ..."))
        return CallSpec(
            dial=dial.strip(),
            from_=caller.strip(),
            at=None if top else self.when(raw, "at"),
            steps=tuple(steps),
            line=raw.line,
            title="" if top else (self.text(raw, "title") or ""),
            dial_outcome=outcome,
        )

    def steps(self, raw: Any, line: int) -> list[Step]:
        if raw is None:
            return []
        if not isinstance(raw, LineList):
            raise self.fail("steps is a list", line)
        return [self.step(item, item_line) for item, item_line in zip(raw, raw.lines, strict=True)]

    def step(self, raw: Any, line: int) -> Step:
        if isinstance(raw, str):
            action = ACTION_ALIASES.get(raw.strip(), raw.strip())
            if action not in ("hang-up", "silence"):
                raise self.fail(
                    f'{raw!r} is not a step; write it as a mapping such as `press: "1"`', line
                )
            return Step(action, None, {}, line, action)
        if not isinstance(raw, LineDict) or not raw:
            raise self.fail('a step is a mapping such as `press: "1"` or `hear: ...`', line)
        actions = [key for key in raw if ACTION_ALIASES.get(key, key) in STEP_OPTIONS]
        if len(actions) != 1:
            named = ", ".join(map(str, raw)) or "nothing"
            raise self.fail(f"a step does exactly one thing; this one has {named}", line)
        key = actions[0]
        action = ACTION_ALIASES.get(key, key)
        options = {k: v for k, v in raw.items() if k != key}
        extra = set(options) - STEP_OPTIONS[action]
        if extra:
            raise self.fail(f"{action} does not take {', '.join(sorted(map(str, extra)))}", line)
        value = raw[key]
        step = Step(action, value, options, line, _written(key, value, options))
        self.check_step(step)
        return step

    def check_step(self, step: Step) -> None:
        action, value, line = step.action, step.value, step.line
        if action == "press":
            if not isinstance(value, str) or not KEYS_PATTERN.fullmatch(value.replace(" ", "")):
                raise self.fail('press takes keys: digits, * and # (quote them: "*")', line)
        elif action == "say":
            if not isinstance(value, str) or not value.strip():
                raise self.fail("say takes the words the caller says", line)
        elif action == "silence":
            if value is not None and not (isinstance(value, str) and value.isdigit()):
                raise self.fail("silence takes nothing, or how many times in a row", line)
        elif action in ("hear", "not_hear"):
            if not isinstance(value, str):
                raise self.fail(f"{action} takes one line of text or a /regex/", line)
            matcher_at(value, self.source, line)
        elif action == "hear_all":
            if not isinstance(value, LineList):
                raise self.fail("hear_all takes the list of lines heard since the last input", line)
            for item in value:
                if not isinstance(item, str):
                    raise self.fail("each line of hear_all is text or a /regex/", line)
                matcher_at(item, self.source, line)
        elif action == "pay":
            pay_values(value, self.source, line)
        elif action == "advance":
            self.duration(value, line)
        elif action == "connector":
            if value not in ("down", "up", "untyped"):
                raise self.fail("connector is down, up or untyped", line)
        elif action == "dial_outcome":
            self.dial_outcome(value, line)
        elif action == "fault":
            if value not in FAULTS:
                raise self.fail(f"fault is one of {', '.join(FAULTS)}", line)
        elif action == "expect":
            self.expectations(value, line)
        for name in ("delay", "confidence"):
            if name in step.options:
                number_value(step.options[name], name, self.source, line)

    def expectations(self, raw: Any, line: int) -> None:
        if not isinstance(raw, LineDict):
            raise self.fail("expect is a mapping (ended, dialed, balance, payments, ...)", line)
        self.unknown(raw, EXPECT_KEYS, "expect")
        if "plan" in raw:
            self.plan_expectation(raw["plan"], raw.lines.get("plan", line))

    def plan_expectation(self, raw: Any, line: int) -> None:
        if not isinstance(raw, LineDict) or "mrn" not in raw:
            raise self.fail("plan is a mapping with the member's mrn (status, months, ...)", line)
        self.unknown(raw, PLAN_KEYS, "plan")
        status = raw.get("status")
        if status is not None and str(status) not in PLAN_STATUSES:
            raise self.fail(
                f"plan status is one of {', '.join(PLAN_STATUSES)}", raw.lines.get("status")
            )
        for name in ("months", "paid", "left"):
            if name in raw and not str(raw[name]).isdigit():
                raise self.fail(f"plan {name} is a whole number", raw.lines.get(name))

    def dial_outcome(self, value: Any, line: int | None) -> None:
        if value not in DIAL_OUTCOMES:
            raise self.fail(f"dial_outcome is one of {', '.join(DIAL_OUTCOMES)}", line)

    def unknown(self, raw: LineDict, known: frozenset[str], what: str) -> None:
        for key in raw:
            if key not in known:
                allowed = ", ".join(sorted(known))
                raise self.fail(f"{what} has no {key!r} (it has {allowed})", raw.lines.get(key))

    def text(self, raw: LineDict, key: str) -> str | None:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(f"{key} must be text", raw.lines.get(key))
        return value

    def when(self, raw: LineDict, key: str) -> datetime | None:
        value = raw.get(key)
        if value is None:
            return None
        return parse_when(value, self.source, raw.lines.get(key))

    def duration(self, value: Any, line: int | None) -> float:
        return parse_duration(value, self.source, line)


def parse_when(value: Any, source: str = "", line: int | None = None) -> datetime:
    """Read an ISO date and time with its zone: 2026-11-27T12:00:00-08:00."""
    if not isinstance(value, str):
        raise ScriptError("a time is ISO text such as 2026-11-27T12:00:00-08:00", source, line)
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ScriptError(
            f"{value!r} is not an ISO date and time such as 2026-11-27T12:00:00-08:00",
            source,
            line,
        ) from None
    if when.tzinfo is None:
        # Business hours and due dates depend on the zone: a time without one is ambiguous.
        raise ScriptError(f"{value!r} has no zone (add -08:00, Z, ...)", source, line)
    return when


def parse_duration(value: Any, source: str = "", line: int | None = None) -> float:
    """Read a duration: seconds as a number, or 90s, 20m, 4h, 1d, 1h30m."""
    text = str(value).strip().replace(" ", "")
    try:
        return float(text)
    except ValueError:
        pass
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = DURATION_PATTERN.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ScriptError(f"{value!r} is not a duration such as 90s, 20m, 4h or 1d", source, line)
    return sum(float(number) * units[unit] for number, unit in parts)


def _written(key: str, value: Any, options: Mapping[str, Any]) -> str:
    if value is None:
        shown = key
    elif isinstance(value, str):
        shown = f"{key}: {json.dumps(value, ensure_ascii=False)}"
    elif isinstance(value, list):
        shown = f"{key}: [{len(value)} lines]"
    elif isinstance(value, Mapping) and key != "expect":
        flow = json.dumps(value, ensure_ascii=False)
        shown = f"{key}: {flow if len(flow) <= 80 else flow[:77] + '...'}"
    else:
        shown = f"{key}: ..."
    for name, option in options.items():
        shown += f", {name}: {option}"
    return shown
