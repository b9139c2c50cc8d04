"""Reading values in scripts and checks: numbers, flags, lists, phone numbers, money."""

from __future__ import annotations

from typing import Any

from billing_core.domain import money
from billing_core.domain.regions import normalize_phone_number
from ivr_sim.script.errors import ScriptError


class CheckFailed(Exception):
    """A check of the call did not hold."""


def check(condition: bool, why: str) -> None:
    if not condition:
        raise CheckFailed(why)


def number_value(value: Any, name: str, source: str, line: int | None) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ScriptError(f"{name} must be a number", source, line) from None


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on"):
        return True
    if text in ("false", "no", "off"):
        return False
    raise CheckFailed(f"{value!r} is not true or false")


def as_list(value: Any) -> list[Any]:
    if value is None or value == "none":
        return []
    return list(value) if isinstance(value, list) else [value]


def e164(number: Any) -> str:
    return normalize_phone_number(str(number)) or str(number)


def money_cents(value: Any) -> int:
    """Read money as a script writes it: cents (20000) or dollars ("$200.00", "200.00")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip().replace(",", "")
    try:
        if text.startswith("$") or "." in text:
            return money.parse_money(text.removeprefix("$"))
        return int(text)
    except ValueError:
        raise CheckFailed(f"{value!r} is not an amount (cents, or dollars as $12.34)") from None


def money_text(cents: int) -> str:
    """Cents as a script shows them: $1,234.50."""
    return money.format_amount(cents, "en")
