"""What a played call leaves: turns, exchanges, problems, and the script's result."""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr_sim.call import Call
from ivr_sim.script.model import CallScript, CallSpec, Step


class ScriptFailure(AssertionError):
    """The call did not go as the script says: the step, why, and the call so far."""

    def __init__(self, message: str, result: ScriptResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class TurnRecord:
    """One webhook request of a played call, with the catalog prompts its answer spoke."""

    path: str
    params: dict[str, str]
    twiml: str
    at: float
    prompts: tuple[str, ...]
    steps: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()

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
    def requests(self) -> set[str]:
        """Every spoken request the app heard on the script's calls, as language:request."""
        return {name for turn in self.turns for name in turn.requests}

    @property
    def paths(self) -> set[str]:
        """Every step reached: paths requested (without query strings) and steps run inline."""
        return {turn.bare_path for turn in self.turns} | {
            step for turn in self.turns for step in turn.steps
        }
