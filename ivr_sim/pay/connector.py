"""Pay Connectors: what turns the digits into a token (the embedded sandbox)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from billing_core.adapters.gateways.sandbox import tokenize_bank, tokenize_card


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
