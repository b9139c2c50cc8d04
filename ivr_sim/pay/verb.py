"""The <Pay> and <Prompt> TwiML verbs, parsed and checked as Twilio does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from ivr_sim.errors import TwimlError
from ivr_sim.pay.connector import PAY_CONNECTORS
from ivr_sim.pay.names import (
    ACH_DEBIT,
    BANK_ACCOUNT_TYPES,
    BANK_LANGUAGES,
    CARD_LANGUAGES,
    CARD_TYPES,
    CREDIT_CARD,
    DEFAULT_MAX_ATTEMPTS,
    INPUT_TIMEOUT,
    MAX_CHARGE,
    PROMPT_ERROR_TYPES,
    PROMPT_STEPS,
    TOKEN_TYPES,
)
from ivr_sim.twiml import GATHER_CHILDREN, VERB_PARSERS, Verb


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
