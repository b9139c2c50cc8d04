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

from ivr.recording import PROMPTS_HEADER, prompt_names
from ivr_sim.script.channels import (
    AppChannel,
    HttpChannel,
    channel_prompts,
    channel_steps,
)
from ivr_sim.script.coverage import CoverageReport, coverage, run_all, script_coverage, voice_steps
from ivr_sim.script.errors import ScriptError
from ivr_sim.script.matching import Matcher, matcher
from ivr_sim.script.members import demo_available, demo_document, member_records, members_document
from ivr_sim.script.model import (
    CHECK_ACTIONS,
    DEFAULT_BASE_URL,
    DEFAULT_FROM,
    DEFAULT_ROUTING,
    DIAL_OUTCOMES,
    EXPECT_KEYS,
    FALLBACK_PATH,
    FAULTS,
    INPUT_ACTIONS,
    JOBS,
    OTHER_ACTIONS,
    PLAN_KEYS,
    PLAN_STATUSES,
    SCRIPT_SUFFIXES,
    STATUS_PATH,
    STEP_OPTIONS,
    STEPS_HEADER,
    VOICE_PATH,
    Advance,
    CallScript,
    CallSpec,
    RunJob,
    ScriptItem,
    Step,
)
from ivr_sim.script.parser import load_script, parse_duration, parse_script, parse_when
from ivr_sim.script.pay_entry import PayEntry, pay_values
from ivr_sim.script.player import CallPlayer
from ivr_sim.script.results import (
    CallRecord,
    Exchange,
    Problem,
    ScriptFailure,
    ScriptResult,
    TurnRecord,
)
from ivr_sim.script.runner import (
    ScriptRunner,
    find_scripts,
    load_scripts,
    play_call,
    scratch_app,
    script_name,
)
from ivr_sim.script.state_checks import StateChecks
from ivr_sim.script.values import (
    CheckFailed,
    as_list,
    check,
    e164,
    flag,
    money_cents,
    money_text,
    number_value,
)
from ivr_sim.script.yaml_lines import LineDict, LineList, load_yaml

__all__ = [
    "Advance",
    "AppChannel",
    "CHECK_ACTIONS",
    "CallPlayer",
    "CallRecord",
    "CallScript",
    "CallSpec",
    "CheckFailed",
    "CoverageReport",
    "DEFAULT_BASE_URL",
    "DEFAULT_FROM",
    "DEFAULT_ROUTING",
    "DIAL_OUTCOMES",
    "EXPECT_KEYS",
    "Exchange",
    "FAULTS",
    "HttpChannel",
    "INPUT_ACTIONS",
    "JOBS",
    "LineDict",
    "LineList",
    "Matcher",
    "OTHER_ACTIONS",
    "PLAN_KEYS",
    "PLAN_STATUSES",
    "PROMPTS_HEADER",
    "PayEntry",
    "Problem",
    "RunJob",
    "SCRIPT_SUFFIXES",
    "FALLBACK_PATH",
    "STATUS_PATH",
    "STEPS_HEADER",
    "STEP_OPTIONS",
    "ScriptError",
    "ScriptFailure",
    "ScriptItem",
    "ScriptResult",
    "ScriptRunner",
    "StateChecks",
    "Step",
    "TurnRecord",
    "VOICE_PATH",
    "as_list",
    "channel_prompts",
    "channel_steps",
    "check",
    "coverage",
    "demo_available",
    "demo_document",
    "e164",
    "find_scripts",
    "flag",
    "load_script",
    "load_scripts",
    "load_yaml",
    "matcher",
    "member_records",
    "members_document",
    "money_cents",
    "money_text",
    "number_value",
    "parse_duration",
    "parse_script",
    "parse_when",
    "pay_values",
    "play_call",
    "prompt_names",
    "run_all",
    "scratch_app",
    "script_coverage",
    "script_name",
    "voice_steps",
]
