"""Playing one call's steps on a virtual call and checking what the caller hears."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from billing_core.domain.clock import ManualClock
from ivr_sim.call import Call
from ivr_sim.errors import CallEnded, SimError
from ivr_sim.pay import PayField
from ivr_sim.script.channels import channel_prompts, channel_requests, channel_steps
from ivr_sim.script.matching import Matcher, matcher_at
from ivr_sim.script.model import CALL_PARAMS, CallSpec, Step
from ivr_sim.script.parser import parse_duration
from ivr_sim.script.pay_entry import pay_values
from ivr_sim.script.results import CallRecord, Exchange, Problem, TurnRecord
from ivr_sim.script.state_checks import StateChecks
from ivr_sim.script.values import CheckFailed, as_list, check, e164, flag
from ivr_sim.transport import Transport


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
        except CheckFailed as failed:
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
        except (ValueError, CheckFailed) as error:
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
                    raise CheckFailed(f"the <Pay> asks for a {asked} account, not {wanted}")
                call.pay_bank(entry.routing, entry.account, entry.delay)

    def _other(self, step: Step) -> None:
        action = step.action
        if action == "hear":
            self._hear(matcher_at(step.value))
        elif action == "hear_all":
            self._hear_all([matcher_at(line) for line in step.value])
        elif action == "not_hear":
            wanted = matcher_at(step.value)
            for line in self.since_input:
                if wanted.matches(line):
                    raise CheckFailed(f"heard {json.dumps(line)}, which must not be said here")
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
            if step.value == "app":
                # The next webhook fails outright (a crash, a dead host): Twilio falls back.
                self.call.fail_next_request = True
            elif step.value == "database" and self.checks is not None:
                self._fault = self.checks.database_fault()
            elif step.value == "call-state" and self.checks is not None:
                self._fault = self.checks.call_state_fault()
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
        raise CheckFailed(f"{wanted} {why} {self._since()}\n{_listing(lines)}")

    def _hear_all(self, wanted: list[Matcher]) -> None:
        lines = self.since_input
        if len(lines) == len(wanted) and all(
            w.matches(line) for w, line in zip(wanted, lines, strict=True)
        ):
            self._cursor = len(lines)
            return
        expected = "\n".join(f"    {w}" for w in wanted) or "    (nothing)"
        raise CheckFailed(
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
                    check(call.ended == flag(wanted), f"ended is {call.ended}")
                elif key == "hangup":
                    hung_up = call.ended and call.end_reason == "hangup"
                    check(
                        hung_up == flag(wanted),
                        f"the call {'ended: ' + str(call.end_reason) if call.ended else 'is live'}",
                    )
                elif key == "end_reason":
                    check(call.end_reason == wanted, f"end reason is {call.end_reason}")
                elif key == "dialed":
                    want = [e164(n) for n in as_list(wanted)]
                    got = [e164(n) for n in call.dialed]
                    check(got == want, f"dialed {got or 'nothing'}, not {want or 'nothing'}")
                elif key == "heard":
                    heard = call.heard
                    position = 0
                    for written in as_list(wanted):
                        wanted_line = matcher_at(written)
                        found = next(
                            (
                                i
                                for i in range(position, len(heard))
                                if wanted_line.matches(heard[i])
                            ),
                            None,
                        )
                        check(found is not None, f"{wanted_line} was never heard (in this order)")
                        position = (found or 0) + 1
                elif key == "never_heard":
                    for written in as_list(wanted):
                        banned = matcher_at(written)
                        said = [line for line in call.heard if banned.matches(line)]
                        shown = json.dumps(said[0], ensure_ascii=False) if said else ""
                        check(not said, f"{banned} was heard: {shown}")
                elif self.checks is not None:
                    self.checks.check(key, wanted)
            except CheckFailed as failed:
                failures.append(f"{key}: {failed}")
        if failures:
            raise CheckFailed("expectations not met:\n" + "\n".join(f"  {f}" for f in failures))

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
                    channel_requests(self.channel, index),
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
            raise StepFailed(message)
        self.problems.append(Problem(step.action, message))

    def log(self) -> list[str]:
        """The call so far, readably: each input, the requests it made, what was heard."""
        lines = [self.describe_call]
        for exchange in self.record.exchanges:
            step = exchange.step
            where = f"line {step.line}: " if step is not None and step.line else ""
            lines.append(f"  {where}{exchange.action}")
            for turn in exchange.turns:
                shown = " ".join(f"{k}={v}" for k, v in turn.params.items() if k not in CALL_PARAMS)
                lines.append(f"    [{turn.at:7.1f}s] POST {turn.path} {shown}".rstrip())
            for heard in exchange.heard:
                lines.append(f"      hears: {heard}")
        if self.call.ended:
            lines.append(f"  call ended: {self.call.end_reason}")
        return lines


class StepFailed(Exception):
    """A step failed in strict mode: its message names the script line."""


def _listing(lines: Sequence[str]) -> str:
    return "\n".join(f"    {json.dumps(line, ensure_ascii=False)}" for line in lines) or (
        "    (nothing)"
    )
