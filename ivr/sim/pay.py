"""<Pay> on the virtual Twilio: card or bank digits asked field by field, then tokenized.

Twilio captures the digits, checks them (Luhn, card type, expiry, security code length,
postal code, ABA routing checksum), re-asks a field that fails, and hands the valid
digits to a Pay Connector. Here the connector is the embedded sandbox gateway, so the app
receives the same parameters Twilio posts: a token, the card ending, its type and expiry,
never the full number or the security code.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, ClassVar, NamedTuple, Protocol

from billing_core.adapters.gateways.sandbox import TokenizationError, tokenize_bank, tokenize_card
from ivr.sim.errors import CallEnded, SimError, TwimlError
from ivr.sim.handlers import VERB_HANDLERS
from ivr.sim.timing import KEY_SECONDS
from ivr.sim.twiml import GATHER_CHILDREN, VERB_PARSERS, Verb

if TYPE_CHECKING:
    from ivr.sim.call import Call

CREDIT_CARD = "credit-card"
ACH_DEBIT = "ach-debit"

# The payment steps, which are also the values of <Prompt for>.
CARD_NUMBER = "payment-card-number"
EXPIRATION_DATE = "expiration-date"
SECURITY_CODE = "security-code"
POSTAL_CODE = "postal-code"
ROUTING_NUMBER = "bank-routing-number"
ACCOUNT_NUMBER = "bank-account-number"
PROCESSING = "payment-processing"
PROMPT_STEPS = (
    CARD_NUMBER,
    EXPIRATION_DATE,
    SECURITY_CODE,
    POSTAL_CODE,
    ROUTING_NUMBER,
    ACCOUNT_NUMBER,
    PROCESSING,
)

# What <Prompt errorType> names. A field the caller leaves silent is "timeout" here, while
# the statusCallback and PaymentError call the same thing "input-timeout".
TIMEOUT = "timeout"
INPUT_TIMEOUT = "input-timeout"
INVALID_CARD_NUMBER = "invalid-card-number"
INVALID_CARD_TYPE = "invalid-card-type"
INVALID_DATE = "invalid-date"
INVALID_SECURITY_CODE = "invalid-security-code"
INVALID_POSTAL_CODE = "invalid-postal-code"
INVALID_ROUTING_NUMBER = "invalid-bank-routing-number"
INVALID_ACCOUNT_NUMBER = "invalid-bank-account-number"
INPUT_MATCHING_FAILED = "input-matching-failed"
PROMPT_ERROR_TYPES = frozenset(
    {
        TIMEOUT,
        INVALID_CARD_NUMBER,
        INVALID_CARD_TYPE,
        INVALID_DATE,
        "date-validation-failed",
        INVALID_SECURITY_CODE,
        INVALID_POSTAL_CODE,
        INVALID_ROUTING_NUMBER,
        INVALID_ACCOUNT_NUMBER,
        INPUT_MATCHING_FAILED,
    }
)

# The Result values Twilio posts to the action URL.
SUCCESS = "success"
TOO_MANY_FAILED_ATTEMPTS = "too-many-failed-attempts"
PAYMENT_CONNECTOR_ERROR = "payment-connector-error"
CALLER_INTERRUPTED_WITH_STAR = "caller-interrupted-with-star"
CALLER_HUNG_UP = "caller-hung-up"
VALIDATION_ERROR = "validation-error"

# Twilio error codes for what the sandbox connector can refuse.
CONNECTOR_DOES_NOT_CHARGE = "64007"
GATEWAY_REJECTED_TOKEN = "64010"

CARD_TYPES = (
    "visa",
    "mastercard",
    "amex",
    "maestro",
    "discover",
    "optima",
    "jcb",
    "diners-club",
    "enroute",
)
BANK_ACCOUNT_TYPES = ("consumer-checking", "consumer-savings", "commercial-checking")
TOKEN_TYPES = ("one-time", "reusable", "payment-method")
CARD_LANGUAGES = (
    "en-AU",
    "en-CA",
    "en-GB",
    "en-IN",
    "en-US",
    "es-ES",
    "es-MX",
    "fr-CA",
    "fr-FR",
    "de-DE",
    "it-IT",
)
BANK_LANGUAGES = ("en-AU", "en-CA", "en-GB", "en-IN", "en-US")
MAX_CHARGE = Decimal("1000000")
# Twilio documents its default as retrying a failed field once, so two tries in all.
DEFAULT_MAX_ATTEMPTS = 2

# Card type by the number's first digits (Twilio's validCardTypes table), and the lengths
# each type may have. Discover is tried before Maestro, which otherwise claims every 6.
_CARD_PREFIXES: tuple[tuple[str, re.Pattern[str], frozenset[int]], ...] = tuple(
    (name, re.compile(prefix), frozenset(lengths))
    for name, prefix, lengths in (
        ("amex", r"3[47]", (15,)),
        ("jcb", r"35(2[89]|[3-8]\d)", range(16, 20)),
        ("diners-club", r"36", range(14, 20)),
        ("diners-club", r"30[0-4]|3095|3[89]", range(16, 20)),
        ("enroute", r"2014|2149", (15,)),
        ("mastercard", r"5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720", (16,)),
        ("visa", r"4", (13, 16, 19)),
        ("discover", r"6011|6[45]", range(16, 20)),
        ("maestro", r"5[0678]|6", range(12, 20)),
    )
)

# What Twilio says when the app gives no <Prompt> for a step (English, whatever the
# language attribute says).
BUILT_IN_PROMPTS: dict[str, str] = {
    CARD_NUMBER: "Please enter your credit card number, followed by the pound key.",
    EXPIRATION_DATE: (
        "Please enter your card's expiration date, two digits for the month and two "
        "digits for the year, followed by the pound key."
    ),
    SECURITY_CODE: "Please enter your card's security code, followed by the pound key.",
    POSTAL_CODE: "Please enter your billing zip code, followed by the pound key.",
    ROUTING_NUMBER: "Please enter your bank routing number, followed by the pound key.",
    ACCOUNT_NUMBER: "Please enter your bank account number, followed by the pound key.",
    PROCESSING: "Please wait while we process your payment.",
}
BUILT_IN_CONFIRMATION = "Please enter it again to confirm, followed by the pound key."
BUILT_IN_ERRORS: dict[str, str] = {
    TIMEOUT: "Sorry, we didn't receive any input.",
    INVALID_CARD_NUMBER: "Sorry, that card number is not valid.",
    INVALID_CARD_TYPE: "Sorry, we don't accept that type of card.",
    INVALID_DATE: "Sorry, that expiration date is not valid.",
    INVALID_SECURITY_CODE: "Sorry, that security code is not valid.",
    INVALID_POSTAL_CODE: "Sorry, that zip code is not valid.",
    INVALID_ROUTING_NUMBER: "Sorry, that routing number is not valid.",
    INVALID_ACCOUNT_NUMBER: "Sorry, that account number is not valid.",
    INPUT_MATCHING_FAILED: "Sorry, the two entries did not match.",
}


# -- the TwiML ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    """<Prompt> inside <Pay>: what to play for a step, on some attempts, errors or cards."""

    for_: str
    error_types: tuple[str, ...] = ()
    attempts: tuple[int, ...] = ()
    card_types: tuple[str, ...] = ()
    require_matching_inputs: bool = False
    children: tuple[Verb, ...] = ()


@dataclass(frozen=True)
class Pay(Verb):
    """<Pay>: its attributes with Twilio's defaults filled in, and its <Prompt>s."""

    name: ClassVar[str] = "Pay"
    payment_connector: str = "Default"
    payment_method: str = CREDIT_CARD
    bank_account_type: str = "consumer-checking"
    action: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    timeout: int = 5
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    security_code: bool = True
    # True or False to ask or not; a string is the postal code itself, so it is not asked.
    postal_code: bool | str = True
    min_postal_code_length: int | None = None
    token_type: str = "reusable"
    charge_amount: Decimal = Decimal(0)
    currency: str = "usd"
    language: str = "en-US"
    description: str | None = None
    valid_card_types: tuple[str, ...] = ("visa", "mastercard", "amex")
    input: str = "dtmf"
    prompts: tuple[Prompt, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    # Attribute values Twilio answers with Result validation-error instead of asking.
    problems: tuple[str, ...] = ()


class _Attributes:
    """Reads <Pay> attributes, noting each bad value as Twilio's validation-error would."""

    def __init__(self, element: ET.Element) -> None:
        self.element = element
        self.problems: list[str] = []

    def text(self, attribute: str) -> str | None:
        raw = self.element.get(attribute)
        return None if raw is None else raw.strip()

    def bad(self, attribute: str, why: str) -> None:
        self.problems.append(f"{attribute}={self.element.get(attribute)!r} ({why})")

    def choice(self, attribute: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(attribute)
        if value is None:
            return default
        for option in allowed:
            if value.lower() == option.lower():
                return option
        self.bad(attribute, "not one of " + ", ".join(allowed))
        return default

    def whole(self, attribute: str, default: int, low: int, high: int | None = None) -> int:
        value = self.text(attribute)
        if value is None:
            return default
        if value.isdigit() and int(value) >= low and (high is None or int(value) <= high):
            return int(value)
        self.bad(attribute, f"not a whole number from {low}" + (f" to {high}" if high else ""))
        return default

    def flag(self, attribute: str, default: bool) -> bool:
        return self.choice(attribute, ("true", "false"), str(default).lower()) == "true"

    def url(self, attribute: str) -> str | None:
        # An empty URL means "none", as Twilio reads an empty action.
        return self.text(attribute) or None


def parse_pay(element: ET.Element) -> Pay:
    """Parse <Pay> and its <Prompt> and <Parameter> children."""
    connector = (element.get("paymentConnector") or "").strip() or "Default"
    if connector not in PAY_CONNECTORS:
        named = "names the Pay Connector" if element.get("paymentConnector") else "has none, so"
        raise TwimlError(
            f"<Pay> {named} {connector!r}, which the virtual Twilio does not have; it has "
            f"{', '.join(sorted(PAY_CONNECTORS))} (PAY_CONNECTORS lists them)"
        )
    prompts: list[Prompt] = []
    parameters: list[tuple[str, str]] = []
    for child in element:
        if child.tag == "Prompt":
            prompts.append(parse_prompt(child))
        elif child.tag == "Parameter":
            parameters.append((child.get("name", ""), child.get("value", "")))
        else:
            raise TwimlError(f"<Pay> can only contain <Prompt> or <Parameter>, not <{child.tag}>")

    read = _Attributes(element)
    method = read.choice("paymentMethod", (CREDIT_CARD, ACH_DEBIT), CREDIT_CARD)
    languages = BANK_LANGUAGES if method == ACH_DEBIT else CARD_LANGUAGES
    language = read.choice("language", languages, "en-US")
    return Pay(
        payment_connector=connector,
        payment_method=method,
        bank_account_type=read.choice("bankAccountType", BANK_ACCOUNT_TYPES, "consumer-checking"),
        action=read.url("action"),
        status_callback=read.url("statusCallback"),
        status_callback_method=read.choice("statusCallbackMethod", ("GET", "POST"), "POST"),
        timeout=read.whole("timeout", 5, 1),
        max_attempts=read.whole("maxAttempts", DEFAULT_MAX_ATTEMPTS, 1, 3),
        security_code=read.flag("securityCode", True),
        postal_code=_postal_code(read),
        min_postal_code_length=read.whole("minPostalCodeLength", 0, 1) or None,
        token_type=read.choice("tokenType", TOKEN_TYPES, "reusable"),
        charge_amount=_charge_amount(read),
        currency=read.text("currency") or "usd",
        language=language,
        description=read.text("description"),
        valid_card_types=_valid_card_types(read),
        input=read.choice("input", ("dtmf",), "dtmf"),
        prompts=tuple(prompts),
        parameters=tuple(parameters),
        problems=tuple(read.problems),
    )


def _postal_code(read: _Attributes) -> bool | str:
    value = read.text("postalCode")
    if value is None:
        return True
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not value:
        read.bad("postalCode", "true, false or the postal code itself")
        return True
    return value


def _charge_amount(read: _Attributes) -> Decimal:
    value = read.text("chargeAmount")
    if value is None:
        return Decimal(0)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or not 0 <= amount <= MAX_CHARGE:
        read.bad("chargeAmount", "not a number between 0.00 - 1,000,000.00")
        return Decimal(0)
    return amount


def _valid_card_types(read: _Attributes) -> tuple[str, ...]:
    value = read.text("validCardTypes")
    if value is None:
        return ("visa", "mastercard", "amex")
    types = tuple(value.lower().split())
    if not types or not set(types) <= set(CARD_TYPES):
        read.bad("validCardTypes", "space-separated, from " + " ".join(CARD_TYPES))
        return ("visa", "mastercard", "amex")
    return types


def parse_prompt(element: ET.Element) -> Prompt:
    """Parse <Prompt>, whose Say, Play and Pause children are what the caller hears."""
    step = (element.get("for") or "").strip()
    if step not in PROMPT_STEPS:
        raise TwimlError(f"<Prompt for={step!r}> must be one of {', '.join(PROMPT_STEPS)}")
    error_types = tuple((element.get("errorType") or "").split())
    for error_type in error_types:
        if error_type not in PROMPT_ERROR_TYPES:
            timeout = error_type == INPUT_TIMEOUT
            hint = ' (a silent caller is errorType="timeout")' if timeout else ""
            raise TwimlError(f"<Prompt errorType={error_type!r}> is not a <Pay> error type{hint}")
    attempts: list[int] = []
    for attempt in (element.get("attempt") or "").split():
        if not attempt.isdigit() or not 1 <= int(attempt) <= 10:
            raise TwimlError(f"<Prompt attempt={attempt!r}> must be whole numbers from 1 to 10")
        attempts.append(int(attempt))
    card_types = tuple((element.get("cardType") or "").lower().split())
    if not set(card_types) <= set(CARD_TYPES):
        raise TwimlError(f"<Prompt cardType={element.get('cardType')!r}> names an unknown card")
    matching = (element.get("requireMatchingInputs") or "false").strip().lower()
    if matching not in ("true", "false"):
        raise TwimlError(f"<Prompt requireMatchingInputs={matching!r}> must be true or false")
    children: list[Verb] = []
    for child in element:
        if child.tag not in GATHER_CHILDREN:
            allowed = "<Say>, <Play> or <Pause>"
            raise TwimlError(f"<Prompt> can only contain {allowed}, not <{child.tag}>")
        children.append(VERB_PARSERS[child.tag](child))
    return Prompt(
        for_=step,
        error_types=error_types,
        attempts=tuple(attempts),
        card_types=card_types,
        require_matching_inputs=matching == "true",
        children=tuple(children),
    )


# -- checking digits as Twilio does ------------------------------------------------------


def card_type_of(number: str) -> str | None:
    """Return the card type Twilio reads from the number's first digits, or None."""
    for name, prefix, _ in _CARD_PREFIXES:
        if prefix.match(number):
            return name
    return None


def check_card_number(number: str, valid_types: tuple[str, ...]) -> str | None:
    """Return the error type for a card number, or None when Twilio would take it."""
    if not re.fullmatch(r"\d{12,19}", number) or not luhn_valid(number):
        return INVALID_CARD_NUMBER
    for name, prefix, lengths in _CARD_PREFIXES:
        if prefix.match(number):
            if len(number) not in lengths:
                return INVALID_CARD_NUMBER
            return None if name in valid_types else INVALID_CARD_TYPE
    return INVALID_CARD_TYPE


def check_expiration_date(mmyy: str, today: date) -> str | None:
    """Return invalid-date unless `mmyy` is a real month, this one or later."""
    if not re.fullmatch(r"\d{4}", mmyy):
        return INVALID_DATE
    month, year = int(mmyy[:2]), 2000 + int(mmyy[2:])
    if not 1 <= month <= 12 or (year, month) < (today.year, today.month):
        return INVALID_DATE
    return None


def check_security_code(code: str, card_type: str | None) -> str | None:
    """Return invalid-security-code unless it has 3 digits, or 4 for American Express."""
    length = 4 if card_type == "amex" else 3
    return None if re.fullmatch(rf"\d{{{length}}}", code) else INVALID_SECURITY_CODE


def check_postal_code(code: str, min_length: int | None) -> str | None:
    """Return invalid-postal-code unless it is a 5 or 9 digit ZIP (or minPostalCodeLength)."""
    if min_length is not None:
        return None if code.isdigit() and len(code) >= min_length else INVALID_POSTAL_CODE
    return None if re.fullmatch(r"\d{5}(\d{4})?", code) else INVALID_POSTAL_CODE


def check_routing_number(routing: str) -> str | None:
    """Return invalid-bank-routing-number unless it has 9 digits and a valid ABA checksum."""
    if not re.fullmatch(r"\d{9}", routing) or not aba_valid(routing):
        return INVALID_ROUTING_NUMBER
    return None


def check_account_number(account: str) -> str | None:
    """Return invalid-bank-account-number unless it has 4 to 17 digits."""
    return None if re.fullmatch(r"\d{4,17}", account) else INVALID_ACCOUNT_NUMBER


def luhn_valid(number: str) -> bool:
    """Tell whether a digit string passes the Luhn check that card numbers carry."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def aba_valid(routing: str) -> bool:
    """Tell whether 9 digits pass the ABA routing number checksum (weights 3, 7, 1)."""
    weights = (3, 7, 1) * 3
    total = sum(int(digit) * weight for digit, weight in zip(routing, weights, strict=True))
    return total % 10 == 0


# -- the connector -----------------------------------------------------------------------


class PayConnector(Protocol):
    """A Pay Connector: turns valid digits into a token, or raises TokenizationError."""

    def tokenize_card(
        self,
        number: str,
        expiration_date: str,
        security_code: str | None,
        postal_code: str | None,
        *,
        today: date,
    ) -> str:
        """Return a token for the card; `expiration_date` is MMYY."""
        ...

    def tokenize_bank(self, routing: str, account: str, account_type: str) -> str:
        """Return a token for the bank account."""
        ...


class SandboxConnector:
    """The embedded sandbox gateway as a Pay Connector: test numbers, fixed outcomes."""

    def tokenize_card(
        self,
        number: str,
        expiration_date: str,
        security_code: str | None,
        postal_code: str | None,
        *,
        today: date,
    ) -> str:
        """Tokenize a card through billing_core.adapters.gateways.sandbox.tokenize_card."""
        month, year = int(expiration_date[:2]), int(expiration_date[2:])
        card = tokenize_card(number, month, year, security_code or "", postal_code, today=today)
        return card.token

    def tokenize_bank(self, routing: str, account: str, account_type: str) -> str:
        """Tokenize a bank account through billing_core.adapters.gateways.sandbox.tokenize_bank."""
        return tokenize_bank(routing, account, account_type).token


# Pay Connectors installed on the virtual account, by the unique name paymentConnector gives.
PAY_CONNECTORS: dict[str, PayConnector] = {"sandbox": SandboxConnector()}


# -- running it ----------------------------------------------------------------------------


class PromptHeard(NamedTuple):
    """One <Pay> prompt the caller heard, and whether the app supplied it or Twilio did."""

    step: str
    attempt: int
    error_type: str | None
    card_type: str | None
    text: str
    built_in: bool


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
            # A # before any digit is ignored, as a Gather ignores its finishOnKey.
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
