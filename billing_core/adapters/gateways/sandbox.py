"""The embedded sandbox gateway: Stripe-style test numbers with fixed outcomes.

It plays both sides a real deployment splits: the tokenizing connector Twilio <Pay>
calls (tokenize_card, tokenize_bank) and the processor the billing core charges. A
token carries only its outcome and the last 4 digits, never the number. Charges are
kept in the sandbox_charges table, so a repeated idempotency key is answered from
there and another process (the reconcile job) can look a charge up.
See docs/sandbox-gateway.md for every test number and token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.orm import Session, sessionmaker

from billing_core.adapters.db import make_session_factory, upsert_insert
from billing_core.adapters.gateways.base import (
    CLEARING,
    DECLINED,
    RETURNED,
    SETTLED,
    SUCCEEDED,
    VOIDED,
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    RefundResult,
    Settlement,
)
from billing_core.adapters.models import SandboxCharge, SandboxRefund
from billing_core.domain.clock import Clock
from billing_core.domain.payments import RETURN_CODES, luhn_valid

ERROR = "error"
TIMEOUT = "timeout"


@dataclass(frozen=True)
class SandboxOutcome:
    """What charging a token with this outcome does."""

    slug: str
    kind: str
    decline_code: str | None = None


OUTCOMES: dict[str, SandboxOutcome] = {
    o.slug: o
    for o in (
        SandboxOutcome("success", SUCCEEDED),
        SandboxOutcome("declined", DECLINED, "card_declined"),
        SandboxOutcome("insufficient-funds", DECLINED, "insufficient_funds"),
        SandboxOutcome("expired-card", DECLINED, "expired_card"),
        SandboxOutcome("incorrect-cvc", DECLINED, "incorrect_cvc"),
        SandboxOutcome("account-closed", DECLINED, "account_closed"),
        SandboxOutcome("no-account", DECLINED, "no_account"),
        SandboxOutcome("processing-error", ERROR),
        SandboxOutcome("timeout", TIMEOUT),
        # Bank debits the gateway accepts and the member's bank sends back on settlement.
        *(SandboxOutcome(f"return-{code.lower()}", SUCCEEDED) for code in RETURN_CODES),
    )
}
# A bank debit settles, or comes back, this many business days after it is made.
CLEARING_BUSINESS_DAYS = 2

# Test card number -> (brand, outcome). Any other valid card number is declined.
TEST_CARDS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("visa", "success"),
    "5555555555554444": ("mastercard", "success"),
    "378282246310005": ("amex", "success"),
    "6011111111111117": ("discover", "success"),
    "4000000000000002": ("visa", "declined"),
    "4000000000009995": ("visa", "insufficient-funds"),
    "4000000000000069": ("visa", "expired-card"),
    "4000000000000127": ("visa", "incorrect-cvc"),
    "4000000000000119": ("visa", "processing-error"),
    "4000000000000341": ("visa", "timeout"),
}
UNKNOWN_CARD_OUTCOME = "declined"

TEST_ROUTING_NUMBER = "110000000"
# Test account number at the test routing number -> outcome. Any other account is "no-account".
TEST_BANK_ACCOUNTS: dict[str, str] = {
    "000123456789": "success",
    "000111111116": "account-closed",
    "000222222227": "insufficient-funds",
    "000333333335": "timeout",
    "000444444440": "processing-error",
    # Accepted, then returned with the NACHA code: 000000000101 is R01, ... 000000000129 R29.
    **{f"0000000001{code[1:]}": f"return-{code.lower()}" for code in RETURN_CODES},
}
UNKNOWN_BANK_OUTCOME = "no-account"

# The values Twilio <Pay> accepts for bankAccountType.
BANK_ACCOUNT_TYPES = ("consumer-checking", "consumer-savings", "commercial-checking")

# One charge per idempotency key; the loser of a race inserts nothing. Written out: SQLite
# and PostgreSQL read this one text alike, and SQLAlchemy caches it compiled, which it
# does not for the dialects' own ON CONFLICT inserts.
_CHARGE = text(
    "INSERT INTO sandbox_charges (idempotency_key, reference, token, amount_cents,"
    " description, outcome, decline_code, created_at) VALUES (:idempotency_key, :reference,"
    " :token, :amount_cents, :description, :outcome, :decline_code, :created_at)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
).bindparams(bindparam("created_at", type_=SandboxCharge.__table__.c.created_at.type))
_TOKEN = re.compile(
    r"(?P<kind>b?tok)_sandbox_(?P<slug>[a-z0-9-]+?)_(?P<last4>\d{4})(?:_[a-z0-9]+)?"
)


@dataclass(frozen=True)
class CardToken:
    """A tokenized card: all the app may keep of it."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class BankToken:
    """A tokenized bank account: all the app may keep of it."""

    token: str
    last4: str
    account_type: str


class TokenizationError(ValueError):
    """The digits cannot be tokenized; reason is the one Twilio <Pay> would report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def tokenize_card(
    number: str,
    exp_month: int,
    exp_year: int,
    cvc: str,
    postal_code: str | None,
    *,
    today: date,
) -> CardToken:
    """Check the card as Twilio <Pay> does; the token names only the outcome and last 4."""
    number = re.sub(r"[\s-]", "", number)
    if not re.fullmatch(r"\d{12,19}", number) or not luhn_valid(number):
        raise TokenizationError("invalid-card-number")
    brand = card_brand(number)
    if brand is None:
        raise TokenizationError("invalid-card-type")
    if exp_year < 100:
        exp_year += 2000
    if not 1 <= exp_month <= 12 or (exp_year, exp_month) < (today.year, today.month):
        raise TokenizationError("invalid-date")
    if not re.fullmatch(r"\d{4}" if brand == "amex" else r"\d{3}", cvc or ""):
        raise TokenizationError("invalid-security-code")
    if postal_code is not None and not re.fullmatch(r"\d{5}(\d{4})?", postal_code):
        raise TokenizationError("invalid-postal-code")
    _, slug = TEST_CARDS.get(number, (brand, UNKNOWN_CARD_OUTCOME))
    last4 = number[-4:]
    return CardToken(_new_token("tok", slug, last4), brand, last4, exp_month, exp_year)


def tokenize_bank(routing: str, account: str, account_type: str) -> BankToken:
    """Check the account as Twilio <Pay> does; the token names only the outcome and last 4."""
    if not re.fullmatch(r"\d{9}", routing or "") or not _aba_valid(routing):
        raise TokenizationError("invalid-bank-routing-number")
    if not re.fullmatch(r"\d{4,17}", account or ""):
        raise TokenizationError("invalid-bank-account-number")
    if account_type not in BANK_ACCOUNT_TYPES:
        raise TokenizationError("invalid-bank-account-type")
    slug = UNKNOWN_BANK_OUTCOME
    if routing == TEST_ROUTING_NUMBER:
        slug = TEST_BANK_ACCOUNTS.get(account, UNKNOWN_BANK_OUTCOME)
    last4 = account[-4:]
    return BankToken(_new_token("btok", slug, last4), last4, account_type)


def fixed_token(outcome: str, last4: str, *, bank: bool = False) -> str:
    """A fixed token with this outcome, for tests and scripts that skip tokenizing."""
    if outcome not in OUTCOMES or not re.fullmatch(r"\d{4}", last4):
        raise ValueError(f"no sandbox outcome {outcome!r} / last 4 {last4!r}")
    return f"{'btok' if bank else 'tok'}_sandbox_{outcome}_{last4}"


def card_brand(number: str) -> str | None:
    """The brand a card number belongs to, among those the plan accepts."""
    if re.fullmatch(r"4\d{12}(\d{3}){0,2}", number):
        return "visa"
    if re.fullmatch(r"(5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}", number):
        return "mastercard"
    if re.fullmatch(r"3[47]\d{13}", number):
        return "amex"
    if re.fullmatch(r"(6011|65\d{2}|64[4-9]\d)\d{12,15}", number):
        return "discover"
    return None


class SandboxGateway:
    """The embedded payment gateway; charges are rows of sandbox_charges."""

    name = "sandbox"
    verifies_postal_code = False  # it checks a ZIP's form only: it has no addresses

    def __init__(self, sessions: sessionmaker | Engine, clock: Clock) -> None:
        self._sessions = (
            make_session_factory(sessions) if isinstance(sessions, Engine) else sessions
        )
        self._clock = clock

    def tokenize_card(
        self, number: str, exp_month: int, exp_year: int, cvc: str, postal_code: str | None
    ) -> CardToken:
        """Tokenize a test card, checking its expiry against the gateway's clock."""
        return tokenize_card(
            number, exp_month, exp_year, cvc, postal_code, today=self._clock.now().date()
        )

    def tokenize_bank(self, routing: str, account: str, account_type: str) -> BankToken:
        """Tokenize a test bank account."""
        return tokenize_bank(routing, account, account_type)

    def charge(
        self, *, token: str, amount_cents: int, idempotency_key: str, description: str
    ) -> ChargeResult:
        """Charge once per idempotency key; the outcome is the one the token names."""
        match = _TOKEN.fullmatch(token or "")
        if match is None or match["slug"] not in OUTCOMES:
            raise GatewayError("no such sandbox token")
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
            raise GatewayError("amount must be a positive number of cents")
        if not idempotency_key or len(idempotency_key) > 80:
            raise GatewayError("idempotency key must be 1 to 80 characters")
        outcome = OUTCOMES[match["slug"]]

        with self._sessions() as session, session.begin():
            existing = _find(session, idempotency_key)
            if existing is not None:
                return _replay(existing, token, amount_cents)
            if outcome.kind == ERROR:
                # Refused before any money moved: nothing to remember, like a processor's 500.
                raise GatewayError("sandbox processing error")
            inserted = session.execute(
                _CHARGE,
                {
                    "idempotency_key": idempotency_key,
                    "reference": f"ch_sandbox_{secrets.token_hex(8)}",
                    "token": token,
                    "amount_cents": amount_cents,
                    "description": description[:200],
                    "outcome": DECLINED if outcome.kind == DECLINED else SUCCEEDED,
                    "decline_code": outcome.decline_code,
                    "created_at": self._clock.now(),
                },
            )
            if inserted.rowcount == 0:
                # Another process charged this key a moment ago: answer as it did.
                return _replay(_find(session, idempotency_key), token, amount_cents)
            result = _result(_find(session, idempotency_key))
        if outcome.kind == TIMEOUT:
            # The worst case on purpose: the money moved and the answer was lost.
            raise GatewayTimeout("sandbox timeout after charging")
        return result

    def find_charge(self, idempotency_key: str) -> ChargeResult | None:
        """The result of the charge made with this key, or None if none was made."""
        with self._sessions() as session:
            charge = _find(session, idempotency_key)
            return None if charge is None else _result(charge)

    def settlement(self, reference: str) -> Settlement:
        """A bank debit clears for two business days, then settles or is returned."""
        with self._sessions() as session:
            charge = _by_reference(session, reference)
            if charge is None:
                raise GatewayError("no such sandbox charge")
            if _voided(session, reference):
                return Settlement(VOIDED)
            if not _cleared(charge.created_at, self._clock.now()):
                return Settlement(CLEARING)
            slug = _TOKEN.fullmatch(charge.token)["slug"]
            if slug.startswith("return-"):
                return Settlement(RETURNED, slug.removeprefix("return-").upper())
            return Settlement(SETTLED)

    def refund(self, *, reference: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Give back up to what is left of the charge, once per key."""
        return self._give_back("refund", reference, amount_cents, idempotency_key)

    def void(self, *, reference: str, idempotency_key: str) -> RefundResult:
        """Cancel the whole charge while it has not settled (a bank debit still clearing, a
        card charge the day it was made)."""
        with self._sessions() as session:
            charge = _by_reference(session, reference)
            if charge is None:
                raise GatewayError("no such sandbox charge")
            amount = charge.amount_cents
            if _cleared(charge.created_at, self._clock.now(), days=1 if _is_card(charge) else None):
                if _find_refund(session, idempotency_key) is None:
                    raise GatewayError("the charge has settled: refund it instead")
        return self._give_back("void", reference, amount, idempotency_key)

    def _give_back(
        self, kind: str, reference: str, amount_cents: int, idempotency_key: str
    ) -> RefundResult:
        if amount_cents <= 0:
            raise GatewayError("amount must be a positive number of cents")
        with self._sessions() as session, session.begin():
            existing = _find_refund(session, idempotency_key)
            if existing is not None:
                return RefundResult(existing.reference, existing.amount_cents)
            charge = _by_reference(session, reference)
            if charge is None or charge.outcome != SUCCEEDED:
                raise GatewayError("no such sandbox charge")
            given = sum(
                session.scalars(
                    select(SandboxRefund.amount_cents).where(
                        SandboxRefund.charge_reference == reference
                    )
                )
            )
            if amount_cents > charge.amount_cents - given:
                raise GatewayError("more than is left of the charge")
            session.execute(
                upsert_insert(session)(SandboxRefund)
                .values(
                    idempotency_key=idempotency_key,
                    reference=f"re_sandbox_{secrets.token_hex(8)}",
                    charge_reference=reference,
                    kind=kind,
                    amount_cents=amount_cents,
                    created_at=self._clock.now(),
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            # Inserted, or another process asked under this key a moment ago: the same row.
            existing = _find_refund(session, idempotency_key)
            return RefundResult(existing.reference, existing.amount_cents)


def _find(session: Session, idempotency_key: str) -> SandboxCharge | None:
    return session.scalars(
        select(SandboxCharge).where(SandboxCharge.idempotency_key == idempotency_key)
    ).one_or_none()


def _by_reference(session: Session, reference: str) -> SandboxCharge | None:
    return session.scalars(
        select(SandboxCharge).where(SandboxCharge.reference == reference)
    ).one_or_none()


def _find_refund(session: Session, idempotency_key: str) -> SandboxRefund | None:
    return session.scalars(
        select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key)
    ).one_or_none()


def _voided(session: Session, reference: str) -> bool:
    return (
        session.scalars(
            select(SandboxRefund.id).where(
                SandboxRefund.charge_reference == reference, SandboxRefund.kind == "void"
            )
        ).first()
        is not None
    )


def _is_card(charge: SandboxCharge) -> bool:
    return charge.token.startswith("tok_")


def _cleared(made: datetime, now: datetime, *, days: int | None = None) -> bool:
    """Whether the business days a charge takes to settle have passed (weekends skipped)."""
    day = made.date()
    left = CLEARING_BUSINESS_DAYS if days is None else days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return now.date() >= day


def _replay(charge: SandboxCharge, token: str, amount_cents: int) -> ChargeResult:
    if (charge.token, charge.amount_cents) != (token, amount_cents):
        # As Stripe does: a key names one request; different parameters are a caller's bug.
        raise GatewayError("idempotency key reused with different parameters")
    return _result(charge)


def _result(charge: SandboxCharge) -> ChargeResult:
    return ChargeResult(charge.outcome, charge.reference, charge.decline_code)  # type: ignore[arg-type]


def _new_token(prefix: str, slug: str, last4: str) -> str:
    return f"{prefix}_sandbox_{slug}_{last4}_{secrets.token_hex(6)}"


def _aba_valid(routing: str) -> bool:
    d = [int(c) for c in routing]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0
