"""Call scripts: a phone call (or a few) written as YAML and played through the virtual Twilio.

A script says when the call happens, who is on file, what the caller does and what
they must hear; the runner plays it against the app in process and checks every
step. docs/call-scripts.md describes the format; in short:

    title: Paying a bill in full by card
    at: 2026-11-27T12:00:00-08:00
    dial: 1-877-365-9900
    from: "+14155550123"
    members: members/standard.json
    steps:
      - hear: "Enter your medical record number, then press pound."
      - press: "60000006#"
      - press: "02141985"
      - hear: "Thank you, Maya."
      - hang-up
    expect:
      ended: true

Plain YAML scalars stay text here (no octal key presses, no `yes` turned into true),
and every step keeps its line, so a failure names the line it failed at and shows the
call so far: what was heard, pressed and posted.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from billing_core.domain.clock import ManualClock
from billing_core.domain.regions import normalize_phone_number
from billing_core.services.feed_import import MemberRecord, import_feed, parse_feed_document
from ivr.sim.call import Call
from ivr.sim.errors import CallEnded, SimError
from ivr.sim.ids import new_sid
from ivr.sim.pay import PayField
from ivr.sim.transport import FlaskTransport, HttpTransport, Transport

if TYPE_CHECKING:
    from flask import Flask

    from billing_core.core import BillingCore

PROMPTS_HEADER = "X-IVR-Prompts"
# Paths of the steps an answer ran without a request of its own.
STEPS_HEADER = "X-IVR-Steps"
VOICE_PATH = "/voice"
STATUS_PATH = "/voice/status"
DEFAULT_FROM = "+14155550100"
DEFAULT_BASE_URL = "https://ivr.invalid"
DEFAULT_ROUTING = "110000000"
SCRIPT_SUFFIXES = (".yaml", ".yml")

# Parameters the same on every request of a call: left out of the readable log.
_CALL_PARAMS = frozenset(
    {
        "CallSid",
        "AccountSid",
        "From",
        "To",
        "Called",
        "Caller",
        "Direction",
        "ApiVersion",
        "CallStatus",
    }
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_KEYS = re.compile(r"[0-9*#]+")


# -- errors ---------------------------------------------------------------------------------


class ScriptError(ValueError):
    """The script file is not a valid call script; the message names the file and line."""

    def __init__(self, problem: str, source: str = "", line: int | None = None) -> None:
        where = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
        super().__init__(where + problem)
        self.problem = problem
        self.source = source
        self.line = line


class ScriptFailure(AssertionError):
    """The call did not go as the script says: the step, why, and the call so far."""

    def __init__(self, message: str, result: ScriptResult) -> None:
        super().__init__(message)
        self.result = result


# -- YAML with line numbers ------------------------------------------------------------------


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line: int = 0
    lines: dict[Any, int]


class LineList(list[Any]):
    """A YAML sequence that remembers the line of each item."""

    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader where plain scalars stay text and every mapping and list keeps its lines."""


# Only null is resolved implicitly: `press: 0123` stays "0123", `say: yes` stays "yes".
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise ScriptError(f"{key!r} appears twice", loader.name, key_node.start_mark.line + 1)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def load_yaml(text: str, source: str = "<script>") -> Any:
    """Parse YAML the way call scripts are read: text scalars, lines kept."""
    loader = _Loader(text)
    loader.name = source
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as bad:
        mark = bad.problem_mark
        raise ScriptError(
            f"not valid YAML: {bad.problem}", source, mark.line + 1 if mark else None
        ) from None
    finally:
        loader.dispose()


# -- the script model ------------------------------------------------------------------------

INPUT_ACTIONS = frozenset({"press", "say", "silence", "pay", "hang-up"})
CHECK_ACTIONS = frozenset({"hear", "hear_all", "not_hear", "expect"})
OTHER_ACTIONS = frozenset({"advance", "connector", "dial_outcome", "fault"})
# Extra keys a step may carry besides its action.
STEP_OPTIONS: dict[str, frozenset[str]] = {
    "press": frozenset({"delay"}),
    "say": frozenset({"delay", "confidence"}),
    "silence": frozenset({"delay"}),
    "pay": frozenset(),
    "hang-up": frozenset(),
    "hear": frozenset(),
    "hear_all": frozenset(),
    "not_hear": frozenset(),
    "expect": frozenset(),
    "advance": frozenset(),
    "connector": frozenset(),
    "dial_outcome": frozenset(),
    "fault": frozenset(),
}
_ACTION_ALIASES = {"hang_up": "hang-up", "hangup": "hang-up", "hang up": "hang-up"}
EXPECT_KEYS = frozenset(
    {
        "ended",
        "hangup",
        "end_reason",
        "dialed",
        "balance",
        "payments",
        "saved_methods",
        "texts",
        "heard",
        "never_heard",
    }
)
DIAL_OUTCOMES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
FAULTS = ("database", "none")


@dataclass(frozen=True)
class Step:
    """One step of a call: something the caller does, a check, or a change of conditions."""

    action: str
    value: Any
    options: Mapping[str, Any]
    line: int | None
    written: str  # the step as written, on one line, for messages

    @property
    def is_input(self) -> bool:
        return self.action in INPUT_ACTIONS


@dataclass(frozen=True)
class CallSpec:
    """One call of a script: who dials what, when, and its steps (end expectations last)."""

    dial: str
    from_: str
    at: datetime | None
    steps: tuple[Step, ...]
    line: int | None
    title: str = ""
    dial_outcome: str = "completed"


@dataclass(frozen=True)
class Advance:
    """Time passing between calls."""

    seconds: float
    line: int | None


@dataclass(frozen=True)
class CallScript:
    """A whole script: its calls (and the time between them), members, start time."""

    title: str
    name: str
    at: datetime
    items: tuple[CallSpec | Advance, ...]
    members: Any = None  # None: the demo data; else a feed document, list or file path
    source: str = ""
    base_dir: Path | None = None
    # A flow bug the script shows: it is expected to fail until the bug is fixed.
    known_bug: str | None = None

    @property
    def calls(self) -> list[CallSpec]:
        return [item for item in self.items if isinstance(item, CallSpec)]


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
        | {"calls", "dial_outcome", "known_bug"}
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
        items: list[CallSpec | Advance] = []
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
        )

    def items(
        self, raw: Any, defaults: dict[str, Any], line: int, where: str
    ) -> list[CallSpec | Advance]:
        if not isinstance(raw, LineList):
            raise self.fail(f"{where} is a list of calls and advance: steps", line)
        items: list[CallSpec | Advance] = []
        for item, item_line in zip(raw, raw.lines, strict=True):
            if isinstance(item, LineDict) and set(item) == {"advance"}:
                items.append(Advance(self.duration(item["advance"], item_line), item_line))
            elif isinstance(item, LineDict):
                items.append(self.call(item, defaults, top=False))
            else:
                raise self.fail(f"each of {where} is a call (with steps) or advance", item_line)
        return items

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
            action = _ACTION_ALIASES.get(raw.strip(), raw.strip())
            if action not in ("hang-up", "silence"):
                raise self.fail(
                    f'{raw!r} is not a step; write it as a mapping such as `press: "1"`', line
                )
            return Step(action, None, {}, line, action)
        if not isinstance(raw, LineDict) or not raw:
            raise self.fail('a step is a mapping such as `press: "1"` or `hear: ...`', line)
        actions = [key for key in raw if _ACTION_ALIASES.get(key, key) in STEP_OPTIONS]
        if len(actions) != 1:
            named = ", ".join(map(str, raw)) or "nothing"
            raise self.fail(f"a step does exactly one thing; this one has {named}", line)
        key = actions[0]
        action = _ACTION_ALIASES.get(key, key)
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
            if not isinstance(value, str) or not _KEYS.fullmatch(value.replace(" ", "")):
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
            _matcher(value, self.source, line)
        elif action == "hear_all":
            if not isinstance(value, LineList):
                raise self.fail("hear_all takes the list of lines heard since the last input", line)
            for item in value:
                if not isinstance(item, str):
                    raise self.fail("each line of hear_all is text or a /regex/", line)
                _matcher(item, self.source, line)
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
                _number(step.options[name], name, self.source, line)

    def expectations(self, raw: Any, line: int) -> None:
        if not isinstance(raw, LineDict):
            raise self.fail("expect is a mapping (ended, dialed, balance, payments, ...)", line)
        self.unknown(raw, EXPECT_KEYS, "expect")

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
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ScriptError(f"{value!r} is not a duration such as 90s, 20m, 4h or 1d", source, line)
    return sum(float(number) * units[unit] for number, unit in parts)


def _number(value: Any, name: str, source: str, line: int | None) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ScriptError(f"{name} must be a number", source, line) from None


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


# -- matching heard lines ----------------------------------------------------------------------


@dataclass(frozen=True)
class Matcher:
    """A line the caller must (or must not) hear: exact text, or /regex/ searched in the line."""

    written: str
    pattern: re.Pattern[str] | None

    def matches(self, line: str) -> bool:
        if self.pattern is not None:
            return self.pattern.search(line) is not None
        return line == self.written

    def __str__(self) -> str:
        if self.pattern is not None:
            return self.written
        return json.dumps(self.written, ensure_ascii=False)


def _matcher(written: str, source: str = "", line: int | None = None) -> Matcher:
    if len(written) >= 2 and written.startswith("/") and written.endswith("/"):
        try:
            return Matcher(written, re.compile(written[1:-1]))
        except re.error as bad:
            raise ScriptError(f"bad regular expression {written}: {bad}", source, line) from None
    return Matcher(written, None)


def matcher(written: str) -> Matcher:
    """Return the matcher for a hear line: exact text, or /regex/."""
    return _matcher(written)


# -- <Pay> entries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PayEntry:
    """What the caller types into a <Pay>: a card or a bank account."""

    kind: str  # "card" or "bank"
    number: str = ""
    expiry: str = "1230"
    cvc: str = "123"
    postal: str = "94612"
    routing: str = DEFAULT_ROUTING
    account: str = ""
    account_type: str | None = None
    delay: float = 1.0

    def describe(self) -> str:
        if self.kind == "card":
            return f"card ending {self.number[-4:]}"
        return f"bank account ending {self.account[-4:]}"


def pay_values(raw: Any, source: str = "", line: int | None = None) -> PayEntry:
    """Read a pay step: {card: NUMBER | {number, expiry, cvc, postal}} or {bank: ...}."""
    if not isinstance(raw, Mapping) or not ({"card", "bank"} & set(raw)):
        raise ScriptError(
            "pay takes card: {number, expiry, cvc, postal} or bank: {routing, account, type}",
            source,
            line,
        )
    unknown = set(raw) - {"card", "bank", "delay"}
    if unknown or ("card" in raw and "bank" in raw):
        raise ScriptError("pay takes one of card or bank (and delay)", source, line)
    delay = _number(raw.get("delay", 1.0), "delay", source, line)
    kind = "card" if "card" in raw else "bank"
    fields = raw[kind]
    if isinstance(fields, str):
        fields = {"number": fields} if kind == "card" else {"account": fields}
    if not isinstance(fields, Mapping):
        raise ScriptError(f"pay {kind} takes a number or a mapping of fields", source, line)
    allowed = {"number", "expiry", "cvc", "postal"} if kind == "card" else {"routing", "account"}
    allowed = allowed | ({"type"} if kind == "bank" else set())
    extra = set(fields) - allowed
    if extra:
        raise ScriptError(
            f"pay {kind} has no {', '.join(sorted(extra))} (it has {', '.join(sorted(allowed))})",
            source,
            line,
        )

    def digits(name: str, default: str) -> str:
        value = str(fields.get(name, default)).replace(" ", "").replace("-", "")
        if not re.fullmatch(r"[0-9]*", value):
            raise ScriptError(f"pay {kind} {name} must be digits", source, line)
        return value

    if kind == "card":
        number = digits("number", "")
        if not number:
            raise ScriptError("pay card needs its number", source, line)
        return PayEntry(
            "card",
            number=number,
            expiry=digits("expiry", "1230"),
            cvc=digits("cvc", "1234" if number.startswith(("34", "37")) else "123"),
            postal=digits("postal", "94612"),
            delay=delay,
        )
    account = digits("account", "")
    if not account:
        raise ScriptError("pay bank needs its account number", source, line)
    account_type = fields.get("type")
    if account_type is not None and account_type not in ("checking", "savings"):
        raise ScriptError("pay bank type is checking or savings", source, line)
    return PayEntry(
        "bank",
        routing=digits("routing", DEFAULT_ROUTING),
        account=account,
        account_type=account_type,
        delay=delay,
    )


# -- what a played call leaves ------------------------------------------------------------------


@dataclass(frozen=True)
class TurnRecord:
    """One webhook request of a played call, with the catalog prompts its answer spoke."""

    path: str
    params: dict[str, str]
    twiml: str
    at: float
    prompts: tuple[str, ...]
    steps: tuple[str, ...] = ()

    @property
    def bare_path(self) -> str:
        return self.path.split("?", 1)[0]


@dataclass
class Exchange:
    """Something the caller did (or the call starting) and what they heard after it."""

    action: str
    step: Step | None
    heard: list[str] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)


@dataclass
class CallRecord:
    """A call as it was played: the sim's call and its exchanges."""

    spec: CallSpec
    call: Call
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def turns(self) -> list[TurnRecord]:
        return [turn for exchange in self.exchanges for turn in exchange.turns]


@dataclass(frozen=True)
class Problem:
    """A step that failed when the script is played without stopping at the first failure."""

    action: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class ScriptResult:
    """A played script: each call, and the problems found when not stopping at the first."""

    script: CallScript
    calls: list[CallRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def turns(self) -> list[TurnRecord]:
        return [turn for record in self.calls for turn in record.turns]

    @property
    def prompts(self) -> set[str]:
        """Names of every catalog prompt the app spoke on the script's calls."""
        return {name for turn in self.turns for name in turn.prompts}

    @property
    def paths(self) -> set[str]:
        """Every step reached: paths requested (without query strings) and steps run inline."""
        return {turn.bare_path for turn in self.turns} | {
            step for turn in self.turns for step in turn.steps
        }


# -- channels: how a played call reaches the app ----------------------------------------------


def prompt_names(header: str | None) -> tuple[str, ...]:
    """Split an X-IVR-Prompts header into prompt names."""
    return tuple(name for name in (header or "").split(",") if name)


class AppChannel(FlaskTransport):
    """Reaches a Flask app in process and keeps the prompt names of every answer."""

    def __init__(
        self, app: Flask, public_base_url: str | None = None, auth_token: str | None = None
    ) -> None:
        super().__init__(
            app,
            public_base_url or app.config.get("IVR_PUBLIC_BASE_URL") or DEFAULT_BASE_URL,
            auth_token or app.config.get("IVR_TWILIO_AUTH_TOKEN"),
        )
        self.prompts: list[tuple[str, ...]] = []
        self.steps: list[tuple[str, ...]] = []

    def _deliver(
        self, method: str, base: str, path: str, body: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, str]:
        response = self._client.open(
            path, base_url=base, method=method, data=body or None, headers=headers
        )
        try:
            self.prompts.append(prompt_names(response.headers.get(PROMPTS_HEADER)))
            self.steps.append(prompt_names(response.headers.get(STEPS_HEADER)))
            return response.status_code, response.get_data(as_text=True)
        finally:
            response.close()

    def fresh(self) -> AppChannel:
        return AppChannel(self.app, self.public_base_url, self.auth_token)


class HttpChannel(HttpTransport):
    """Reaches a running server over HTTP and keeps the prompt names of every answer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prompts: list[tuple[str, ...]] = []
        self.steps: list[tuple[str, ...]] = []

    def _deliver(
        self, method: str, base: str, path: str, body: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, str]:
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                data=body or None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except Exception as exc:
            raise SimError(f"{method} {self.base_url + path} failed: {exc}") from exc
        with response:
            self.prompts.append(prompt_names(response.headers.get(PROMPTS_HEADER)))
            self.steps.append(prompt_names(response.headers.get(STEPS_HEADER)))
            return response.status_code, response.text

    def fresh(self) -> HttpChannel:
        return HttpChannel(self.base_url, self.auth_token, self.public_base_url, self.timeout)


def channel_prompts(channel: Transport, index: int) -> tuple[str, ...]:
    """Return the prompt names of the channel's index-th answer, when it keeps them."""
    prompts: list[tuple[str, ...]] = getattr(channel, "prompts", [])
    return prompts[index] if index < len(prompts) else ()


def channel_steps(channel: Transport, index: int) -> tuple[str, ...]:
    """Return the paths of the steps the channel's index-th answer ran inline."""
    steps: list[tuple[str, ...]] = getattr(channel, "steps", [])
    return steps[index] if index < len(steps) else ()


# -- playing a call ----------------------------------------------------------------------------


class CallPlayer:
    """Plays one call's steps on a sim call, keeping what was heard and posted after each."""

    def __init__(
        self,
        call: Call,
        channel: Transport,
        spec: CallSpec,
        *,
        source: str,
        clock: ManualClock | None,
        checks: StateChecks | None,
        strict: bool,
        problems: list[Problem],
        describe_call: str,
    ) -> None:
        self.call = call
        self.channel = channel
        self.spec = spec
        self.source = source
        self.clock = clock
        self.checks = checks
        self.strict = strict
        self.problems = problems
        self.describe_call = describe_call
        self.record = CallRecord(spec, call)
        self._heard_mark = 0
        self._turn_mark = 0
        self._cursor = 0  # where the next hear step looks from, among lines since the input
        self._last_input: Step | None = None
        self._fault: Callable[[], None] | None = None

    # -- running --------------------------------------------------------------------------

    def start(self) -> None:
        """Place the call: post the voice webhook and run to the first prompt."""
        exchange = Exchange("call starts", None)
        self.record.exchanges.append(exchange)
        try:
            self.call.start()
        finally:
            self._collect(exchange)

    def play(self, steps: Iterable[Step]) -> None:
        """Run the steps in order; a failed check raises (strict) or is noted."""
        try:
            for step in steps:
                if not self.run_step(step):
                    break
        finally:
            if self._fault is not None:
                self._fault()
                self._fault = None

    def run_step(self, step: Step) -> bool:
        """Run one step; return False when the call cannot go on (lenient mode)."""
        if step.is_input:
            return self._input(step)
        try:
            self._other(step)
        except _CheckFailed as failed:
            self._problem(step, str(failed))
        return True

    def _input(self, step: Step) -> bool:
        exchange = Exchange(self._describe(step), step)
        self.record.exchanges.append(exchange)
        self._heard_mark = len(self.call.heard)
        self._cursor = 0
        self._last_input = step
        try:
            self._give(step)
        except CallEnded:
            self._collect(exchange)
            reason = self.call.end_reason or "ended"
            self._problem(step, f"the call has already ended ({reason}): the caller cannot act")
            return False
        except SimError as error:
            self._collect(exchange)
            # The call so far follows the failure anyway: the sim's own copy of it is left out.
            stopped = str(error).split("\nCall so far:\n", 1)[0]
            self._problem(step, f"the virtual Twilio stopped: {stopped}")
            return False
        except (ValueError, _CheckFailed) as error:
            self._collect(exchange)
            self._problem(step, str(error))
            return False
        self._collect(exchange)
        return True

    def _give(self, step: Step) -> None:
        call = self.call
        delay = float(step.options.get("delay", 1.0))
        if step.action == "press":
            call.press(str(step.value).replace(" ", ""), delay=delay)
        elif step.action == "say":
            confidence = float(step.options.get("confidence", 0.9))
            call.say(str(step.value), delay=delay, confidence=confidence)
        elif step.action == "silence":
            # Silent N times in a row, or (with delay) for that long: each prompt that
            # comes up meanwhile times out too, as it would for a caller who walked away.
            started = call.elapsed
            for _ in range(int(step.value or 1)):
                call.silence()
            while call.waiting is not None and call.elapsed - started < float(
                step.options.get("delay", 0)
            ):
                call.silence()
        elif step.action == "hang-up":
            call.hang_up()
        elif step.action == "pay":
            entry = pay_values(step.value, self.source, step.line)
            if call.ended:
                raise CallEnded("ended")
            if not isinstance(call.waiting, PayField):
                raise ValueError("pay needs a <Pay> waiting for the caller's card or account")
            if entry.kind == "card":
                call.pay_card(entry.number, entry.expiry, entry.cvc, entry.postal, entry.delay)
            else:
                wanted = entry.account_type
                asked = call.waiting.session.verb.bank_account_type
                if wanted is not None and wanted not in asked:
                    raise _CheckFailed(f"the <Pay> asks for a {asked} account, not {wanted}")
                call.pay_bank(entry.routing, entry.account, entry.delay)

    def _other(self, step: Step) -> None:
        action = step.action
        if action == "hear":
            self._hear(_matcher(step.value))
        elif action == "hear_all":
            self._hear_all([_matcher(line) for line in step.value])
        elif action == "not_hear":
            wanted = _matcher(step.value)
            for line in self.since_input:
                if wanted.matches(line):
                    raise _CheckFailed(f"heard {json.dumps(line)}, which must not be said here")
        elif action == "advance":
            if self.clock is not None:
                self.clock.advance(parse_duration(step.value, self.source, step.line))
        elif action == "connector":
            self.call.pay_connector_down = step.value == "down"
            # "untyped": the connector works but does not report the card's type.
            self.call.pay_reports_card_type = step.value != "untyped"
        elif action == "dial_outcome":
            self.call.dial_outcome = step.value
        elif action == "fault":
            if self._fault is not None:
                self._fault()
                self._fault = None
            if step.value != "none" and self.checks is not None:
                self._fault = self.checks.database_fault()
        elif action == "expect":
            self._expect(step.value)

    @property
    def since_input(self) -> list[str]:
        """Lines heard since the caller's last input step (a whole <Pay> entry counts as one)."""
        return self.call.heard[self._heard_mark :]

    def _hear(self, wanted: Matcher) -> None:
        lines = self.since_input
        for index in range(self._cursor, len(lines)):
            if wanted.matches(lines[index]):
                self._cursor = index + 1
                return
        earlier = any(wanted.matches(line) for line in lines[: self._cursor])
        why = "heard, but before the line the previous hear matched" if earlier else "not heard"
        raise _CheckFailed(f"{wanted} {why} {self._since()}\n{_listing(lines)}")

    def _hear_all(self, wanted: list[Matcher]) -> None:
        lines = self.since_input
        if len(lines) == len(wanted) and all(
            w.matches(line) for w, line in zip(wanted, lines, strict=True)
        ):
            self._cursor = len(lines)
            return
        expected = "\n".join(f"    {w}" for w in wanted) or "    (nothing)"
        raise _CheckFailed(
            f"the lines heard {self._since()} are not these:\n{expected}\n"
            f"  heard instead:\n{_listing(lines)}"
        )

    def _since(self) -> str:
        if self._last_input is None:
            return "since the call started"
        where = f"line {self._last_input.line}: " if self._last_input.line else ""
        return f"since the last input ({where}{self._last_input.written})"

    def _expect(self, raw: Mapping[str, Any]) -> None:
        failures: list[str] = []
        call = self.call
        for key, wanted in raw.items():
            try:
                if key == "ended":
                    _check(call.ended == _flag(wanted), f"ended is {call.ended}")
                elif key == "hangup":
                    hung_up = call.ended and call.end_reason == "hangup"
                    _check(
                        hung_up == _flag(wanted),
                        f"the call {'ended: ' + str(call.end_reason) if call.ended else 'is live'}",
                    )
                elif key == "end_reason":
                    _check(call.end_reason == wanted, f"end reason is {call.end_reason}")
                elif key == "dialed":
                    want = [_e164(n) for n in _as_list(wanted)]
                    got = [_e164(n) for n in call.dialed]
                    _check(got == want, f"dialed {got or 'nothing'}, not {want or 'nothing'}")
                elif key == "heard":
                    heard = call.heard
                    position = 0
                    for written in _as_list(wanted):
                        wanted_line = _matcher(written)
                        found = next(
                            (
                                i
                                for i in range(position, len(heard))
                                if wanted_line.matches(heard[i])
                            ),
                            None,
                        )
                        _check(found is not None, f"{wanted_line} was never heard (in this order)")
                        position = (found or 0) + 1
                elif key == "never_heard":
                    for written in _as_list(wanted):
                        banned = _matcher(written)
                        said = [line for line in call.heard if banned.matches(line)]
                        shown = json.dumps(said[0], ensure_ascii=False) if said else ""
                        _check(not said, f"{banned} was heard: {shown}")
                elif self.checks is not None:
                    self.checks.check(key, wanted)
            except _CheckFailed as failed:
                failures.append(f"{key}: {failed}")
        if failures:
            raise _CheckFailed("expectations not met:\n" + "\n".join(f"  {f}" for f in failures))

    # -- bookkeeping ----------------------------------------------------------------------

    def _collect(self, exchange: Exchange) -> None:
        transcript = self.call.transcript
        for index in range(self._turn_mark, len(transcript)):
            turn = transcript[index]
            exchange.turns.append(
                TurnRecord(
                    turn.path,
                    dict(turn.params),
                    turn.twiml,
                    turn.at,
                    channel_prompts(self.channel, index),
                    channel_steps(self.channel, index),
                )
            )
        self._turn_mark = len(transcript)
        exchange.heard = self.call.heard[self._heard_mark :]

    def _describe(self, step: Step) -> str:
        if step.action == "press":
            return f"press {step.value}"
        if step.action == "say":
            return f'say "{step.value}"'
        if step.action == "silence":
            times = int(step.value or 1)
            shown = "silence" if times == 1 else f"silence x{times}"
            if "delay" in step.options:
                shown += f" for {step.options['delay']}s"
            return shown
        if step.action == "pay":
            return "pay " + pay_values(step.value, self.source, step.line).describe()
        return step.action

    def fail_start(self, why: str) -> None:
        """Report a call that could not even start."""
        self._problem(Step("call", None, {}, self.spec.line, f"call {self.spec.dial}"), why)

    def _problem(self, step: Step, why: str) -> None:
        where = f"{self.source}:{step.line}" if step.line else self.source
        message = f"{where}: {step.written}\n  {why}"
        if self.strict:
            raise _StepFailed(message)
        self.problems.append(Problem(step.action, message))

    def log(self) -> list[str]:
        """The call so far, readably: each input, the requests it made, what was heard."""
        lines = [self.describe_call]
        for exchange in self.record.exchanges:
            step = exchange.step
            where = f"line {step.line}: " if step is not None and step.line else ""
            lines.append(f"  {where}{exchange.action}")
            for turn in exchange.turns:
                shown = " ".join(
                    f"{k}={v}" for k, v in turn.params.items() if k not in _CALL_PARAMS
                )
                lines.append(f"    [{turn.at:7.1f}s] POST {turn.path} {shown}".rstrip())
            for heard in exchange.heard:
                lines.append(f"      hears: {heard}")
        if self.call.ended:
            lines.append(f"  call ended: {self.call.end_reason}")
        return lines


class _CheckFailed(Exception):
    """A check of the call did not hold."""


class _StepFailed(Exception):
    """A step failed in strict mode: its message names the script line."""


def _check(condition: bool, why: str) -> None:
    if not condition:
        raise _CheckFailed(why)


def _listing(lines: Sequence[str]) -> str:
    return "\n".join(f"    {json.dumps(line, ensure_ascii=False)}" for line in lines) or (
        "    (nothing)"
    )


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on"):
        return True
    if text in ("false", "no", "off"):
        return False
    raise _CheckFailed(f"{value!r} is not true or false")


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "none":
        return []
    return list(value) if isinstance(value, list) else [value]


def _e164(number: Any) -> str:
    return normalize_phone_number(str(number)) or str(number)


def money_cents(value: Any) -> int:
    """Read money as a script writes it: cents (20000) or dollars ("$200.00", "200.00")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip().replace(",", "")
    try:
        if text.startswith("$") or "." in text:
            return int((Decimal(text.lstrip("$")) * 100).to_integral_exact())
        return int(text)
    except (InvalidOperation, ValueError, ArithmeticError):
        raise _CheckFailed(f"{value!r} is not an amount (cents, or dollars as $12.34)") from None


def _money_text(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


# -- billing-core checks and members -----------------------------------------------------------


class StateChecks:
    """Checks of the billing core's state that expect: asks for, and the database fault."""

    def __init__(self, core: BillingCore) -> None:
        self.core = core

    def member_id(self, mrn: Any) -> int:
        from sqlalchemy import select

        from billing_core.adapters.models import Member

        digest = self.core.hasher.mrn(str(mrn))
        with self.core.unit_of_work() as uow:
            found = uow.session.scalar(select(Member.id).where(Member.mrn_digest == digest))
        if found is None:
            raise _CheckFailed(f"no member with MRN {mrn} is on file")
        return found

    def check(self, key: str, wanted: Any) -> None:
        if key == "balance":
            self._balance(wanted)
        elif key == "payments":
            self._payments(wanted)
        elif key == "saved_methods":
            self._saved_methods(wanted)
        elif key == "texts":
            self._texts(wanted)

    def _balance(self, wanted: Any) -> None:
        if not isinstance(wanted, Mapping) or "mrn" not in wanted:
            raise _CheckFailed("balance needs the member's mrn")
        summary = self.core.account_summary(self.member_id(wanted["mrn"]), channel="script")
        problems = []
        if "bills" in wanted:
            want = [money_cents(v) for v in _as_list(wanted["bills"])]
            got = [bill.balance_cents for bill in summary.bills]
            if got != want:
                problems.append(
                    f"open bills are {[_money_text(c) for c in got]}, "
                    f"not {[_money_text(c) for c in want]}"
                )
        for name, got in (
            ("premium", summary.premium_balance_cents),
            ("medical", summary.medical_balance_cents),
        ):
            if name in wanted and got != money_cents(wanted[name]):
                problems.append(
                    f"{name} balance is {_money_text(got)}, "
                    f"not {_money_text(money_cents(wanted[name]))}"
                )
        if problems:
            raise _CheckFailed("; ".join(problems))

    def _payments(self, wanted: Any) -> None:
        from sqlalchemy import select

        from billing_core.adapters.models import Payment

        if not isinstance(wanted, Mapping):
            raise _CheckFailed("payments takes count, status, amounts and mrn")
        query = select(Payment).order_by(Payment.created_at, Payment.id)
        if "mrn" in wanted:
            query = query.where(Payment.member_id == self.member_id(wanted["mrn"]))
        with self.core.unit_of_work() as uow:
            payments = [(p.status.value, p.amount_cents) for p in uow.session.scalars(query)]
        status = wanted.get("status")
        if status is not None:
            payments = [p for p in payments if p[0] == str(status).lower()]
        what = f"{status} payments" if status else "payments"
        if "count" in wanted and len(payments) != int(wanted["count"]):
            raise _CheckFailed(f"{len(payments)} {what}, not {wanted['count']}")
        if "amounts" in wanted:
            want = [money_cents(v) for v in _as_list(wanted["amounts"])]
            got = [amount for _status, amount in payments]
            if got != want:
                raise _CheckFailed(
                    f"{what} of {[_money_text(c) for c in got]}, "
                    f"not {[_money_text(c) for c in want]}"
                )

    def _saved_methods(self, wanted: Any) -> None:
        if not isinstance(wanted, Mapping) or "mrn" not in wanted:
            raise _CheckFailed("saved_methods needs the member's mrn and a count")
        methods = self.core.saved_methods(self.member_id(wanted["mrn"]))
        if "count" in wanted and len(methods) != int(wanted["count"]):
            raise _CheckFailed(f"{len(methods)} saved methods, not {wanted['count']}")

    def _texts(self, wanted: Any) -> None:
        from sqlalchemy import func, select

        from billing_core.adapters.models import OutboxMessage

        with self.core.unit_of_work() as uow:
            count = uow.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "sms")
            )
        if count != int(wanted):
            raise _CheckFailed(f"{count} text messages queued, not {wanted}")

    def database_fault(self) -> Callable[[], None]:
        """Make every statement fail, as a database outage would; return the undo."""
        from sqlalchemy import event
        from sqlalchemy.exc import OperationalError

        engine = self.core.engine
        outage = ConnectionError("the database is down (a call script's fault step)")

        def refuse(*_args: Any, **_kwargs: Any) -> None:
            raise OperationalError("(script fault)", {}, outage)

        def expected(record: logging.LogRecord) -> bool:
            # The app logs each failure with its traceback; for a planned outage that is noise.
            error = record.exc_info[1] if record.exc_info else None
            return not (isinstance(error, OperationalError) and error.orig is outage)

        app_log = logging.getLogger("ivr.calls")
        event.listen(engine, "before_cursor_execute", refuse)
        app_log.addFilter(expected)

        def undo() -> None:
            event.remove(engine, "before_cursor_execute", refuse)
            app_log.removeFilter(expected)

        return undo


def demo_available() -> bool:
    """Tell whether billing_core.demo (the demo members) exists."""
    return importlib.util.find_spec("billing_core.demo") is not None


def demo_document() -> Any:
    """Return the demo members as a feed document, or None when there are none."""
    if not demo_available():
        return None
    from billing_core import demo

    feed = demo.demo_feed()
    if isinstance(feed, str):
        return json.loads(feed, parse_float=Decimal)
    if isinstance(feed, Mapping):
        return feed
    members = list(feed)
    # Checked records pass as they are; plain mappings are a feed's members list.
    return members if members and isinstance(members[0], MemberRecord) else {"members": members}


def members_document(spec: Any, base_dir: Path | None, source: str = "") -> Any:
    """Turn a script's members: into a feed document; None when there are no members."""
    if spec is None or spec == "demo":
        document = demo_document()
        if document is None and spec == "demo":
            raise ScriptError("members: demo, but billing_core.demo does not exist yet", source)
        return document
    if spec in ("none", []):
        return None
    if isinstance(spec, list):
        return {"members": spec}
    if isinstance(spec, Mapping):
        return spec
    if isinstance(spec, str | Path):
        path = Path(spec)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ScriptError(f"members file {spec} does not exist (looked at {path})", source)
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            return json.loads(text, parse_float=Decimal)
        return load_yaml(text, str(path))
    raise ScriptError("members is a list, a feed document, a file name, demo or none", source)


def member_records(document: Any, core: BillingCore, today: Any, source: str = "") -> list[Any]:
    """Check a feed document's members; a list of MemberRecords passes as it is."""
    if document is None:
        return []
    if not isinstance(document, Mapping):
        return list(document)
    from billing_core.domain.exceptions import FeedRejected

    try:
        return parse_feed_document(document, regions=core.regions, today=today)
    except FeedRejected as rejected:
        raise ScriptError(
            "members are not a valid billing feed:\n  " + "\n  ".join(rejected.problems), source
        ) from None


# -- running scripts against an app ----------------------------------------------------------


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
        result = ScriptResult(script)
        self.prepare(script)
        for item in script.items:
            if isinstance(item, Advance):
                self.clock.advance(item.seconds)
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
    except _StepFailed as failed:
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


# -- coverage ----------------------------------------------------------------------------------


@dataclass
class CoverageReport:
    """Which scripts reach each catalog prompt and each flow step (endpoint under /voice)."""

    prompts: dict[str, list[str]]
    steps: dict[str, list[str]]
    step_rules: dict[str, str]
    failures: dict[str, str] = field(default_factory=dict)
    known_bugs: dict[str, str] = field(default_factory=dict)

    @property
    def missing_prompts(self) -> list[str]:
        return [name for name, scripts in self.prompts.items() if not scripts]

    @property
    def missing_steps(self) -> list[str]:
        return [name for name, scripts in self.steps.items() if not scripts]

    @property
    def complete(self) -> bool:
        return not self.missing_prompts and not self.missing_steps and not self.failures

    def summary(self) -> str:
        reached_prompts = len(self.prompts) - len(self.missing_prompts)
        reached_steps = len(self.steps) - len(self.missing_steps)
        return (
            f"prompts reached: {reached_prompts}/{len(self.prompts)}; "
            f"flow steps reached: {reached_steps}/{len(self.steps)}"
        )

    def text(self, *, most: int = 4) -> str:
        """The report as text: each prompt and step with the scripts reaching it."""

        def scripts(names: list[str]) -> str:
            if not names:
                return "NOT REACHED"
            shown = ", ".join(names[:most])
            return shown + (f" (+{len(names) - most} more)" if len(names) > most else "")

        width = max(map(len, [*self.prompts, *self.steps, "x"]))
        lines = ["Catalog prompts:"]
        lines += [f"  {name:<{width}}  {scripts(s)}" for name, s in self.prompts.items()]
        lines.append("Flow steps:")
        lines += [
            f"  {name:<{width}}  {scripts(s)}  [{self.step_rules[name]}]"
            for name, s in self.steps.items()
        ]
        for name, bug in self.known_bugs.items():
            lines.append(f"Script {name} shows a known flow bug: {bug}")
        for name, why in self.failures.items():
            lines.append(f"Script {name} failed:\n{why}")
        lines.append(self.summary())
        if self.missing_prompts:
            lines.append("Not reached by any script: " + ", ".join(self.missing_prompts))
        if self.missing_steps:
            lines.append("Flow steps no script reaches: " + ", ".join(self.missing_steps))
        return "\n".join(lines)


def voice_steps(app: Flask) -> dict[str, str]:
    """Every flow step: endpoint name -> URL rule, for each rule under /voice."""
    steps: dict[str, str] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(VOICE_PATH) and rule.endpoint not in steps:
            steps[rule.endpoint] = rule.rule
    return steps


def coverage(app: Flask, results: Iterable[ScriptResult]) -> CoverageReport:
    """Tell which played scripts reached each catalog prompt and flow step."""
    from werkzeug.exceptions import HTTPException

    from ivr.prompts import Prompt

    prompts: dict[str, list[str]] = {prompt.name: [] for prompt in Prompt}
    rules = voice_steps(app)
    steps: dict[str, list[str]] = {endpoint: [] for endpoint in rules}
    adapter = app.url_map.bind("localhost")
    for result in results:
        name = result.script.name
        for prompt in sorted(result.prompts):
            if name not in prompts.setdefault(prompt, []):
                prompts[prompt].append(name)
        for path in sorted(result.paths):
            try:
                endpoint, _args = adapter.match(path, method="POST")
            except HTTPException:
                continue
            if endpoint in steps and name not in steps[endpoint]:
                steps[endpoint].append(name)
    return CoverageReport(prompts, steps, rules)


def run_all(app: Flask, scripts: Iterable[CallScript]) -> tuple[list[ScriptResult], dict[str, str]]:
    """Play every script; return the results (failed ones partly played) and the failures.

    A script marked known_bug is expected to fail: only its passing counts as a failure.
    """
    runner = ScriptRunner(app)
    results: list[ScriptResult] = []
    failures: dict[str, str] = {}
    for script in scripts:
        try:
            results.append(runner.run(script))
        except ScriptFailure as failed:
            results.append(failed.result)
            if not script.known_bug:
                failures[script.name] = str(failed)
        else:
            if script.known_bug:
                failures[script.name] = f"passes now: remove known_bug ({script.known_bug})"
    return results, failures


def script_coverage(app: Flask, folder: str | Path) -> CoverageReport:
    """Play every script under `folder` against the app and report what they reach."""
    scripts = load_scripts(folder)
    results, failures = run_all(app, scripts)
    report = coverage(app, results)
    report.failures = failures
    report.known_bugs = {s.name: s.known_bug for s in scripts if s.known_bug}
    return report
