"""The card or bank digits a script's pay step types into a <Pay>."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivr_sim.script.errors import ScriptError
from ivr_sim.script.model import DEFAULT_ROUTING
from ivr_sim.script.values import number_value


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
    delay = number_value(raw.get("delay", 1.0), "delay", source, line)
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
