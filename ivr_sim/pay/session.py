"""Running a <Pay> on a call: each field asked, checked, tokenized, the outcome posted."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from billing_core.adapters.gateways.sandbox import TokenizationError
from ivr_sim.call import VERB_HANDLERS, Call, PromptHeard
from ivr_sim.errors import CallEnded, SimError
from ivr_sim.pay.checks import (
    card_type_of,
    check_account_number,
    check_card_number,
    check_expiration_date,
    check_postal_code,
    check_routing_number,
    check_security_code,
)
from ivr_sim.pay.connector import PAY_CONNECTORS, PayConnector
from ivr_sim.pay.names import (
    ACCOUNT_NUMBER,
    ACH_DEBIT,
    BUILT_IN_CONFIRMATION,
    BUILT_IN_ERRORS,
    BUILT_IN_PROMPTS,
    CALLER_HUNG_UP,
    CALLER_INTERRUPTED_WITH_STAR,
    CARD_NUMBER,
    CONNECTOR_DOES_NOT_CHARGE,
    EXPIRATION_DATE,
    GATEWAY_REJECTED_TOKEN,
    INPUT_MATCHING_FAILED,
    INPUT_TIMEOUT,
    PAYMENT_CONNECTOR_ERROR,
    POSTAL_CODE,
    PROCESSING,
    ROUTING_NUMBER,
    SECURITY_CODE,
    SUCCESS,
    TIMEOUT,
    TOO_MANY_FAILED_ATTEMPTS,
    VALIDATION_ERROR,
)
from ivr_sim.pay.verb import Pay, Prompt, parse_pay
from ivr_sim.timing import KEY_SECONDS
from ivr_sim.twiml import VERB_PARSERS


@dataclass
class PayField:
    """A <Pay> field waiting for the caller's keys; what Call.waiting is during a <Pay>."""

    session: PaySession = dataclasses.field(repr=False, compare=False)
    field: str
    attempt: int
    error_type: str | None  # the error that made Twilio ask again, if any
    confirming: bool  # asking a second time, to match the first (requireMatchingInputs)
    timeout: float
    prompt_started: float
    prompt_ended: float
    barge_in: bool = True

    def accepts(self, kind: str) -> bool:
        """Tell whether the field listens for `kind` input: <Pay> takes keys only."""
        return kind == "dtmf"

    def take_digits(self, call: Call, keys: str) -> None:
        """Receive keys typed from the call's current time on."""
        self.session.take_keys(call, self, keys)

    def take_speech(self, call: Call, text: str, confidence: float) -> None:
        """<Pay> takes no speech; accepts() keeps the call from offering it."""
        raise SimError("<Pay> listens for keys only")

    def take_nothing(self, call: Call) -> None:
        """The caller typed nothing before the timeout: a failed attempt."""
        self.session.fail(call, self, TIMEOUT)

    def type_fields(self, call: Call, values: Mapping[str, str], delay: float, what: str) -> None:
        """Type each field this <Pay> asks for (Call.pay_card, Call.pay_bank)."""
        enter_fields(call, values, delay, what)

    def take_hang_up(self, call: Call) -> None:
        """The caller hung up while the field was being asked."""
        self.session.finish(call, CALLER_HUNG_UP, hung_up=True)


class PaySession:
    """One <Pay> running on a call: which field is asked, the digits so far, the outcome."""

    def __init__(
        self, verb: Pay, connector: PayConnector, action: str, status_callback: str | None
    ) -> None:
        self.verb = verb
        self.action = action
        self.status_callback = status_callback
        self.steps = _steps(verb)
        self.card_type: str | None = None
        self.current: PayField | None = None
        self.result: str | None = None
        self._connector = connector
        self._step = 0
        # The caller's digits live here only while the <Pay> runs; finish() clears them.
        self._digits: dict[str, str] = {}
        self._first_entry: str | None = None

    def start(self, call: Call) -> None:
        """Ask for the first field, or refuse at once if an attribute is invalid."""
        if self.verb.problems:
            call.note("<Pay> has invalid attributes: " + "; ".join(self.verb.problems))
            self.finish(call, VALIDATION_ERROR, payment_error="; ".join(self.verb.problems))
            return
        self.ask(call, self.steps[0], 1, None)

    def ask(
        self, call: Call, step: str, attempt: int, error: str | None, confirming: bool = False
    ) -> None:
        """Play the prompt for `step` and wait for the caller's keys."""
        status = {"For": step, "Attempt": str(attempt)}
        if error is not None:
            status["ErrorType"] = _reported(error)
        self._post_status(call, status)
        started = call.elapsed
        self._play_prompt(call, step, attempt, error, confirming)
        self.current = PayField(
            session=self,
            field=step,
            attempt=attempt,
            error_type=error,
            confirming=confirming,
            timeout=float(self.verb.timeout),
            prompt_started=started,
            prompt_ended=call.elapsed,
        )
        call.wait_for(self.current)

    def take_keys(self, call: Call, target: PayField, keys: str) -> None:
        """Type `keys` into the waiting field; keys after a # go into the next field."""
        entered = ""
        pressed = False
        for key in keys:
            call.advance(KEY_SECONDS)
            if key == "*":
                # A star ends <Pay> in any field, whatever was typed before it.
                self.finish(call, CALLER_INTERRUPTED_WITH_STAR)
                return
            pressed = True
            if key != "#":
                entered += key
            elif entered:
                self.submit(call, target, entered)
                if self.current is None:
                    return  # the <Pay> ended; any keys left over go nowhere
                target, entered, pressed = self.current, "", False
            # A # before any digit is ignored: the field keeps waiting for its digits.
        if not pressed:
            return  # the keys ended with a field finished; the next one waits
        # Without a closing #, Twilio waits out the timeout before it checks the digits.
        call.advance(target.timeout)
        if entered:
            self.submit(call, target, entered)
        else:
            self.fail(call, target, TIMEOUT)

    def submit(self, call: Call, target: PayField, digits: str) -> None:
        """Check a finished field and move on: the next field, a retry, or the connector."""
        if target.confirming:
            if digits == self._first_entry:
                self._accept(call, target.field, digits)
            else:
                self.fail(call, target, INPUT_MATCHING_FAILED)
            return
        error = self._check(call, target.field, digits)
        if error is not None:
            self.fail(call, target, error)
        elif self._confirms(target.field):
            self._first_entry = digits
            self.ask(call, target.field, target.attempt, None, confirming=True)
        else:
            self._accept(call, target.field, digits)

    def fail(self, call: Call, target: PayField, error: str) -> None:
        """Count a failed attempt: ask again with the error's prompt, or give up."""
        self._first_entry = None
        call.note(f"<Pay> {target.field}, attempt {target.attempt}: {error}")
        if target.attempt >= self.verb.max_attempts:
            self.finish(call, TOO_MANY_FAILED_ATTEMPTS, payment_error=_reported(error))
        else:
            self.ask(call, target.field, target.attempt + 1, error)

    def finish(
        self,
        call: Call,
        result: str,
        *,
        token: str | None = None,
        payment_error: str | None = None,
        error_code: str | None = None,
        connector_error: str | None = None,
        hung_up: bool = False,
    ) -> None:
        """End the <Pay>: forget the digits and post the outcome to the action URL."""
        params = {"Result": result, "PaymentMethod": self.verb.payment_method}
        params.update(self._masked())
        if not call.pay_reports_card_type and "PaymentCardType" in params:
            # Some connectors do not name the card's type; the app must cope without it.
            params["PaymentCardType"] = ""
        if token is not None:
            params["PaymentToken"] = token
            # Only a charge has a confirmation code; a tokenize transaction posts it empty.
            params["PaymentConfirmationCode"] = ""
        if payment_error is not None:
            params["PaymentError"] = payment_error
        if error_code is not None:
            params["PayErrorCode"] = error_code
        if connector_error is not None:
            params["ConnectorError"] = connector_error
        self._digits.clear()
        self._first_entry = None
        self.current = None
        self.result = result
        call.note(f"<Pay> ends: {result}")
        call.wait_for(None)
        self._post_status(call, params)
        if hung_up:
            # The call is over: Twilio still reports the outcome, but runs no answer.
            call.notify(self.action, {**params, "CallStatus": "completed"})
        else:
            call.fetch(self.action, "POST", params)

    # -- inner workings --------------------------------------------------------------------

    def _check(self, call: Call, step: str, digits: str) -> str | None:
        verb = self.verb
        if step == CARD_NUMBER:
            return check_card_number(digits, verb.valid_card_types)
        if step == EXPIRATION_DATE:
            return check_expiration_date(digits, _today(call))
        if step == SECURITY_CODE:
            return check_security_code(digits, self.card_type)
        if step == POSTAL_CODE:
            return check_postal_code(digits, verb.min_postal_code_length)
        if step == ROUTING_NUMBER:
            return check_routing_number(digits)
        return check_account_number(digits)

    def _confirms(self, step: str) -> bool:
        return any(p.for_ == step and p.require_matching_inputs for p in self.verb.prompts)

    def _accept(self, call: Call, step: str, digits: str) -> None:
        self._digits[step] = digits
        self._first_entry = None
        if step == CARD_NUMBER:
            self.card_type = card_type_of(digits)
        call.note(f"<Pay> {step} accepted")
        self._step += 1
        if self._step < len(self.steps):
            self.ask(call, self.steps[self._step], 1, None)
        else:
            self._process(call)

    def _process(self, call: Call) -> None:
        self._post_status(call, {"For": PROCESSING})
        self._play_prompt(call, PROCESSING, 1, None, False)
        if call.pay_connector_down:
            self.finish(
                call,
                PAYMENT_CONNECTOR_ERROR,
                payment_error="payment connector unreachable",
                connector_error="connection refused",
            )
            return
        if self.verb.charge_amount > 0:
            self.finish(
                call,
                PAYMENT_CONNECTOR_ERROR,
                payment_error="connector does not support creating charge",
                error_code=CONNECTOR_DOES_NOT_CHARGE,
            )
            return
        try:
            token = self._tokenize(call)
        except TokenizationError as exc:
            self.finish(
                call,
                PAYMENT_CONNECTOR_ERROR,
                payment_error="payment gateway rejected token creation",
                error_code=GATEWAY_REJECTED_TOKEN,
                connector_error=exc.reason,
            )
            return
        self.finish(call, SUCCESS, token=token)

    def _tokenize(self, call: Call) -> str:
        digits = self._digits
        if self.verb.payment_method == ACH_DEBIT:
            return self._connector.tokenize_bank(
                digits[ROUTING_NUMBER], digits[ACCOUNT_NUMBER], self.verb.bank_account_type
            )
        return self._connector.tokenize_card(
            digits[CARD_NUMBER],
            digits[EXPIRATION_DATE],
            digits.get(SECURITY_CODE),
            self._postal_code(),
            today=_today(call),
        )

    def _postal_code(self) -> str | None:
        given = self.verb.postal_code
        return given if isinstance(given, str) else self._digits.get(POSTAL_CODE)

    def _masked(self) -> dict[str, str]:
        # What Twilio shows of the digits: card and account endings, never the whole.
        digits = self._digits
        shown: dict[str, str] = {}
        if self.verb.payment_method == ACH_DEBIT:
            if ROUTING_NUMBER in digits:
                shown["BankRoutingNumber"] = digits[ROUTING_NUMBER]
            if ACCOUNT_NUMBER in digits:
                account = digits[ACCOUNT_NUMBER]
                shown["BankAccountNumber"] = "*" * (len(account) - 2) + account[-2:]
            shown["BankAccountType"] = self.verb.bank_account_type
            return shown
        if CARD_NUMBER in digits:
            number = digits[CARD_NUMBER]
            shown["PaymentCardNumber"] = "x" * (len(number) - 4) + number[-4:]
            shown["PaymentCardType"] = self.card_type or ""
        if EXPIRATION_DATE in digits:
            shown["ExpirationDate"] = digits[EXPIRATION_DATE]
        if SECURITY_CODE in digits:
            shown["SecurityCode"] = "*" * len(digits[SECURITY_CODE])
        postal_code = self._postal_code()
        if postal_code is not None:
            shown["PaymentCardPostalCode"] = postal_code
        return shown

    def _play_prompt(
        self, call: Call, step: str, attempt: int, error: str | None, confirming: bool
    ) -> None:
        prompt = choose_prompt(self.verb.prompts, step, attempt, error, self.card_type, confirming)
        if prompt is None:
            text = built_in_prompt(step, error, confirming)
            call.note(
                f"the app gave no <Prompt> for {step}"
                + (f" ({error})" if error else "")
                + f" on attempt {attempt}: Twilio's built-in prompt plays"
            )
            call.speak(text)
        else:
            before = len(call.heard)
            for child in prompt.children:
                call.run_verb(child)
            text = " ".join(call.heard[before:])
        call.pay_prompts.append(
            PromptHeard(step, attempt, error, self.card_type, text, built_in=prompt is None)
        )

    def _post_status(self, call: Call, params: Mapping[str, str]) -> None:
        if self.status_callback is None:
            return
        sent = {"AccountSid": call.account_sid, "CallSid": call.call_sid}
        sent.update(self._masked())
        sent.update(params)
        call.notify(self.status_callback, sent, self.verb.status_callback_method, call_params=False)

    def __repr__(self) -> str:
        # Never the digits: only where the <Pay> stands.
        step = self.current.field if self.current else self.result
        return f"<PaySession {self.verb.payment_method} {step}>"


def choose_prompt(
    prompts: tuple[Prompt, ...],
    step: str,
    attempt: int,
    error: str | None,
    card_type: str | None,
    confirming: bool,
) -> Prompt | None:
    """Pick the app's <Prompt> for this step, attempt, error and card, or None."""
    fitting = [
        p
        for p in prompts
        if p.for_ == step
        and p.require_matching_inputs == confirming
        and (not p.attempts or attempt in p.attempts)
        and (not p.card_types or card_type in p.card_types)
    ]
    if error is None:
        chosen = [p for p in fitting if not p.error_types]
    else:
        # An error's own prompt first; else one written for this retry (attempt="2 3").
        chosen = [p for p in fitting if error in p.error_types]
        chosen = chosen or [p for p in fitting if not p.error_types and p.attempts]
    # The most specific wins, document order breaking ties (min keeps the first).
    return min(chosen, key=lambda p: (not p.attempts, not p.card_types), default=None)


def built_in_prompt(step: str, error: str | None, confirming: bool = False) -> str:
    """Return what Twilio says for a step when the app gave no <Prompt> for it."""
    ask = BUILT_IN_CONFIRMATION if confirming else BUILT_IN_PROMPTS[step]
    return ask if error is None else f"{BUILT_IN_ERRORS.get(error, 'Sorry.')} {ask}"


def handle_pay(call: Call, verb: Pay) -> None:
    """Run <Pay>: ask each field, check it, tokenize, and post the outcome to the action."""
    connector = PAY_CONNECTORS.get(verb.payment_connector)
    if connector is None:
        raise SimError(f"<Pay> connector {verb.payment_connector!r} left PAY_CONNECTORS")
    action = call.resolve(verb.action) if verb.action else call.document_url
    status_callback = call.resolve(verb.status_callback) if verb.status_callback else None
    call.note(f"<Pay> {verb.payment_method} through connector {verb.payment_connector!r}")
    # <Parameter> children go to the connector (an ACH connector's settings, say) untouched.
    call.pay_parameters.append(dict(verb.parameters))
    if verb.parameters:
        shown = ", ".join(f"{name}={value}" for name, value in verb.parameters)
        call.note(f"<Pay> passes its connector the parameters {shown}")
    PaySession(verb, connector, action, status_callback).start(call)


def enter_fields(call: Call, values: Mapping[str, str], delay: float, what: str) -> None:
    """Type each field the waiting <Pay> asks for, in its order, each followed by #."""
    if call.ended:
        raise CallEnded(f"the call has ended ({call.end_reason}); the caller cannot act")
    first = call.waiting
    if not isinstance(first, PayField):
        raise SimError(f"{what} needs a <Pay> waiting for the caller; nothing is")
    session = first.session
    # Each press ends a field (or the <Pay>), so this ends within fields x maxAttempts.
    while not call.ended:
        target = call.waiting
        if not isinstance(target, PayField) or target.session is not session:
            return
        if target.field not in values:
            raise SimError(f"the <Pay> asks for {target.field}, which {what} does not type")
        call.press(values[target.field] + "#", delay=delay)


def _steps(verb: Pay) -> tuple[str, ...]:
    if verb.payment_method == ACH_DEBIT:
        return (ROUTING_NUMBER, ACCOUNT_NUMBER)
    steps = [CARD_NUMBER, EXPIRATION_DATE]
    if verb.security_code:
        steps.append(SECURITY_CODE)
    # A postal code given as the attribute's value is sent as it is, not asked.
    if verb.postal_code is True:
        steps.append(POSTAL_CODE)
    return tuple(steps)


def _reported(error: str) -> str:
    # The statusCallback and PaymentError name a silent field input-timeout.
    return INPUT_TIMEOUT if error == TIMEOUT else error


def _today(call: Call) -> date:
    # Expiry is checked against the call's clock when it has one, so tests can set the date.
    now: Callable[[], datetime] | None = getattr(call.clock, "now", None)
    return (now() if now is not None else datetime.now(UTC)).astimezone(UTC).date()


VERB_PARSERS["Pay"] = parse_pay
VERB_HANDLERS["Pay"] = handle_pay
