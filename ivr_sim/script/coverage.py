"""Coverage: which catalog prompts and flow steps the call scripts reach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ivr_sim.script.model import VOICE_PATH, CallScript
from ivr_sim.script.results import ScriptFailure, ScriptResult
from ivr_sim.script.runner import ScriptRunner, load_scripts

if TYPE_CHECKING:
    from flask import Flask


@dataclass
class CoverageReport:
    """Which scripts reach each catalog prompt and each flow step (endpoint under /voice)."""

    prompts: dict[str, list[str]]
    steps: dict[str, list[str]]
    step_rules: dict[str, str]
    failures: dict[str, str] = field(default_factory=dict)
    known_bugs: dict[str, str] = field(default_factory=dict)
    # Spoken requests heard (language:request), and the answers to questions given.
    intents: dict[str, list[str]] = field(default_factory=dict)
    answers: dict[str, list[str]] = field(default_factory=dict)

    @property
    def missing_prompts(self) -> list[str]:
        return [name for name, scripts in self.prompts.items() if not scripts]

    @property
    def missing_steps(self) -> list[str]:
        return [name for name, scripts in self.steps.items() if not scripts]

    @property
    def missing_intents(self) -> list[str]:
        return [name for name, scripts in self.intents.items() if not scripts]

    @property
    def missing_answers(self) -> list[str]:
        return [name for name, scripts in self.answers.items() if not scripts]

    @property
    def complete(self) -> bool:
        missing = (
            self.missing_prompts,
            self.missing_steps,
            self.missing_intents,
            self.missing_answers,
        )
        return not any(missing) and not self.failures

    def summary(self) -> str:
        counts = (
            ("prompts", self.prompts),
            ("flow steps", self.steps),
            ("spoken requests", self.intents),
            ("answers", self.answers),
        )
        return "; ".join(
            f"{name} reached: {sum(1 for s in found.values() if s)}/{len(found)}"
            for name, found in counts
        )

    def text(self, *, most: int = 4) -> str:
        """The report as text: each prompt and step with the scripts reaching it."""

        def scripts(names: list[str]) -> str:
            if not names:
                return "NOT REACHED"
            shown = ", ".join(names[:most])
            return shown + (f" (+{len(names) - most} more)" if len(names) > most else "")

        width = max(map(len, [*self.prompts, *self.steps, *self.intents, "x"]))
        lines = ["Catalog prompts:"]
        lines += [f"  {name:<{width}}  {scripts(s)}" for name, s in self.prompts.items()]
        lines.append("Flow steps:")
        lines += [
            f"  {name:<{width}}  {scripts(s)}  [{self.step_rules[name]}]"
            for name, s in self.steps.items()
        ]
        lines.append("Spoken requests:")
        lines += [f"  {name:<{width}}  {scripts(s)}" for name, s in self.intents.items()]
        lines.append("Answers to questions:")
        lines += [f"  {name:<{width}}  {scripts(s)}" for name, s in self.answers.items()]
        for name, bug in self.known_bugs.items():
            lines.append(f"Script {name} shows a known flow bug: {bug}")
        for name, why in self.failures.items():
            lines.append(f"Script {name} failed:\n{why}")
        lines.append(self.summary())
        if self.missing_prompts:
            lines.append("Not reached by any script: " + ", ".join(self.missing_prompts))
        if self.missing_steps:
            lines.append("Flow steps no script reaches: " + ", ".join(self.missing_steps))
        if self.missing_intents:
            lines.append("Spoken requests no script makes: " + ", ".join(self.missing_intents))
        if self.missing_answers:
            lines.append("Answers no script hears: " + ", ".join(self.missing_answers))
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

    from ivr.flows.questions import ANSWERS
    from ivr.intents import intents_for
    from ivr.prompts import Prompt

    prompts: dict[str, list[str]] = {prompt.name: [] for prompt in Prompt}
    intents: dict[str, list[str]] = {
        f"{language}:{name}": []
        for language in app.extensions["languages"]
        for name in sorted(intents_for(language).names)
    }
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
        for heard in sorted(result.requests):
            if name not in intents.setdefault(heard, []):
                intents[heard].append(name)
    # An answer is heard when the sentence it opens with is spoken.
    answers = {question: list(prompts[found.says.name]) for question, found in ANSWERS.items()}
    return CoverageReport(prompts, steps, rules, intents=intents, answers=answers)


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
