"""Configuration from the environment, with embedded defaults for a laptop or a demo.

The variables are the fields of IvrSettings (pydantic-settings), read from whatever
mapping is given (os.environ in production, a dict in tests). An empty variable counts
as not set wherever a default applies; a bad whole number stops the start-up with a
RuntimeError naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from billing_core.domain.money import parse_money
from billing_core.domain.plans import PlanRulebook, PlanRules
from billing_core.domain.regions import RegionCatalog
from billing_core.domain.reminders import QuietHours, ReminderRules

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Data the package ships: found in an installed wheel as in a checkout.
PACKAGE_DIR = Path(__file__).resolve().parent

# Development values: they let `make run` and the simulator work out of the box.
# Production sets every one of them (see README, "Configuration").
DEV_AUTH_TOKEN = "dev-twilio-auth-token"
DEV_IDENTITY_KEY = "dev-identity-key"

# The mapping the settings being built read their variables from.
_ENVIRON: ContextVar[Mapping[str, str]] = ContextVar("ivr_environ")


class _MappingSource(EnvSettingsSource):
    """The environment source of pydantic-settings, reading a given mapping, names exact."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return dict(self._environ)


class IvrSettings(BaseSettings):
    """Every IVR_* variable and DATABASE_URL, with its default (README, "Configuration")."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    # Text whose empty value means the default ("or default").
    _EMPTY_IS_DEFAULT: ClassVar[frozenset[str]] = frozenset(
        "DATABASE_URL IVR_TWILIO_AUTH_TOKEN IVR_IDENTITY_KEY IVR_REGIONS_FILE IVR_VOICE_EN"
        " IVR_VOICE_ES IVR_GATEWAY IVR_PAY_CONNECTOR IVR_RECEIPT_FROM IVR_WEBSITE"
        " IVR_LOG_LEVEL IVR_LOG_FORMAT IVR_SPEECH_MODEL IVR_PLAN_MIN_BALANCE IVR_PLAN_TERMS"
        " IVR_PLAN_MIN_INSTALLMENT IVR_SMS_OPT_OUT_REPLIES IVR_QUIET_HOURS"
        " IVR_RETURNED_ITEM_FEE IVR_PAY_POSTAL_CODE".split()
    )

    DATABASE_URL: str = ""  # empty: the SQLite file in the instance folder
    IVR_TWILIO_AUTH_TOKEN: str = DEV_AUTH_TOKEN
    IVR_TWILIO_ACCOUNT_SID: str = ""
    IVR_PUBLIC_BASE_URL: str = ""
    IVR_IDENTITY_KEY: str = DEV_IDENTITY_KEY
    IVR_REGIONS_FILE: str = str(PACKAGE_DIR / "regions.yaml")
    IVR_CALL_TTL_MINUTES: int = 120
    IVR_CALL_END_MARKER_DAYS: int = 30
    IVR_GATHER_TIMEOUT: int = 6
    IVR_RELAY_TIMEOUT: int = 45
    IVR_PAY_RELAY_TIMEOUT: int = 60
    IVR_MAX_TRIES: int = 3
    IVR_MAX_SILENCES: int = 5
    IVR_LOCKOUT_MRN_FAILURES: int = 3
    IVR_LOCKOUT_CALLER_FAILURES: int = 6
    IVR_LOCKOUT_MRN_TOTAL_FAILURES: int = 10
    IVR_LOCKOUT_WITHHELD_FAILURES: int = 10
    IVR_VOICE_EN: str = "Google.en-US-Neural2-F"
    IVR_VOICE_ES: str = "Google.es-US-Neural2-A"
    IVR_GATEWAY: str = "sandbox"
    IVR_STRIPE_API_KEY: str = ""
    # The signing secret of the Stripe webhook endpoint (/stripe/events); empty: off.
    IVR_STRIPE_WEBHOOK_SECRET: str = ""
    IVR_PAY_CONNECTOR: str = "sandbox"
    IVR_PAY_TIMEOUT: int = 10
    IVR_PAY_MATCHING_INPUTS: bool = True
    # Whether <Pay> asks a card's billing ZIP code; unset: where the gateway verifies it.
    IVR_PAY_POSTAL_CODE: bool | None = None
    IVR_PAY_ACH_PARAMETERS: str = ""
    IVR_GATEWAY_TIMEOUT: int = 8
    IVR_DB_LOCK_TIMEOUT_MS: int = 2000
    IVR_DB_STATEMENT_TIMEOUT_MS: int = 8000
    IVR_SPEECH_MODEL: str = "numbers_and_commands"
    IVR_SMS_FROM: str = ""
    # Who confirms a STOP or START: Twilio's opt-out handling, or the app (ivr.messaging).
    IVR_SMS_OPT_OUT_REPLIES: str = "twilio"
    IVR_TWILIO_API_BASE: str = ""
    IVR_SMTP_HOST: str = ""
    IVR_SMTP_PORT: int = 587
    IVR_SMTP_USERNAME: str = ""
    IVR_SMTP_PASSWORD: str = ""
    IVR_SMTP_STARTTLS: bool = True
    IVR_RECEIPT_FROM: str = "billing@example.org"
    IVR_RECORDINGS_DIR: str = ""
    IVR_WEBSITE: str = "kp.org"
    IVR_LOG_LEVEL: str = "INFO"
    IVR_LOG_FORMAT: str = "text"
    IVR_METRICS_TOKEN: str = ""
    IVR_JOBS_LOCAL_WORKER: bool = False
    IVR_JOBS_CONCURRENCY: int = 1
    IVR_AUTOPAY_BATCH_SIZE: int = 500
    IVR_AUTOPAY_CHANGE_NOTICE_DAYS: int = 10
    # The payment plans' rules where a region does not set its own (regions file, `plans:`).
    IVR_PLAN_MIN_BALANCE: str = "500.00"
    IVR_PLAN_TERMS: str = "3,6,12"
    IVR_PLAN_MIN_INSTALLMENT: str = "25.00"
    IVR_PLAN_MAX_BILL_AGE_DAYS: int = 365
    IVR_PLAN_MISSED_TO_LAPSE: int = 2
    # Reminders: days ahead of a due date or a charge, and the hours they are never sent in.
    IVR_REMINDER_DUE_SOON_DAYS: int = 5
    IVR_REMINDER_AUTOPAY_DAYS: int = 3
    IVR_REMINDER_PLAN_DAYS: int = 3
    IVR_QUIET_HOURS: str = "21:00-08:00"
    # Recorded on a returned bank debit for the billing system to post; 0.00: none.
    IVR_RETURNED_ITEM_FEE: str = "0.00"
    # The staff console (staff_console): the key that signs its sessions; empty: the console
    # starts only on the embedded set-up, with a new key each start.
    IVR_CONSOLE_SECRET_KEY: str = ""
    # The header an SSO proxy in front of the console sets to the signed-in staff member's
    # name; empty: staff sign in with their passwords.
    IVR_CONSOLE_TRUSTED_HEADER: str = ""
    IVR_CONSOLE_SESSION_MINUTES: int = 480
    IVR_CONSOLE_LOCKOUT_FAILURES: int = 5
    IVR_CONSOLE_LOCKOUT_MINUTES: int = 15

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _MappingSource(settings_cls, _ENVIRON.get(os.environ)))

    @classmethod
    def from_mapping(cls, environ: Mapping[str, str]) -> IvrSettings:
        """Read the settings from this mapping instead of os.environ."""
        token = _ENVIRON.set(environ)
        try:
            return cls()
        finally:
            _ENVIRON.reset(token)

    @field_validator("*", mode="before")
    @classmethod
    def _read(cls, raw: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        field: FieldInfo = cls.model_fields[name]
        if field.annotation in (int, "int"):
            return _whole_number(name, raw, field.default)
        if field.annotation in (bool, "bool"):
            return str(raw).lower() in ("1", "true", "yes")
        if raw == "" and name in cls._EMPTY_IS_DEFAULT:
            return field.default
        return raw


def _whole_number(name: str, raw: Any, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as bad:
        # Not a ValueError: pydantic would fold it into a ValidationError of its own words.
        raise RuntimeError(f"{name} must be a whole number, not {raw!r}") from bad


def from_environment(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Read the IVR_* variables and DATABASE_URL."""
    values = IvrSettings.from_mapping(environ).model_dump()
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'ivr.sqlite3'}"
    return values


def returned_item_fee(settings: Mapping[str, Any]) -> int:
    """The returned-item fee in cents; a bad amount stops the start-up, named."""
    raw = str(settings["IVR_RETURNED_ITEM_FEE"])
    try:
        cents = parse_money(raw)
    except ValueError as bad:
        raise RuntimeError(f"IVR_RETURNED_ITEM_FEE must be an amount like 25.00: {bad}") from None
    if cents < 0:
        raise RuntimeError(f"IVR_RETURNED_ITEM_FEE cannot be below 0.00, not {raw!r}")
    return cents


def reminder_rules(settings: Mapping[str, Any]) -> ReminderRules:
    """The reminders' days ahead and quiet hours; a bad value stops the start-up, named."""
    days = {
        name: _above_zero(settings, f"IVR_REMINDER_{name.upper()}")
        for name in ("due_soon_days", "autopay_days", "plan_days")
    }
    raw = str(settings["IVR_QUIET_HOURS"])
    try:
        start, end = (time.fromisoformat(part.strip()) for part in raw.split("-"))
        quiet = QuietHours(start, end)
    except ValueError:
        raise RuntimeError(
            f"IVR_QUIET_HOURS must be two times like 21:00-08:00, not {raw!r}"
        ) from None
    return ReminderRules(quiet=quiet, **days)


def plan_rulebook(settings: Mapping[str, Any], regions: RegionCatalog) -> PlanRulebook:
    """The payment-plan rules: IVR_PLAN_* for every region, changed where a region says.

    A bad variable stops the start-up with a RuntimeError naming it; a region's rules
    that do not hold together, with a RegionConfigError naming the region.
    """
    default = PlanRules(
        min_balance_cents=_plan_amount(settings, "IVR_PLAN_MIN_BALANCE"),
        terms=_plan_terms(settings["IVR_PLAN_TERMS"]),
        min_installment_cents=_plan_amount(settings, "IVR_PLAN_MIN_INSTALLMENT"),
        max_bill_age_days=_above_zero(settings, "IVR_PLAN_MAX_BILL_AGE_DAYS"),
        missed_to_lapse=_above_zero(settings, "IVR_PLAN_MISSED_TO_LAPSE"),
    )
    return PlanRulebook.with_changes(
        default, {region.key: region.plans for region in regions.regions.values()}
    )


def _plan_amount(settings: Mapping[str, Any], name: str) -> int:
    raw = str(settings[name])
    try:
        cents = parse_money(raw)
    except ValueError as bad:
        raise RuntimeError(f"{name} must be an amount in dollars like 500.00: {bad}") from None
    if cents <= 0:
        raise RuntimeError(f"{name} must be more than 0.00, not {raw!r}")
    return cents


def _plan_terms(raw: str) -> tuple[int, ...]:
    parts = [part.strip() for part in str(raw).split(",")]
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise RuntimeError(f"IVR_PLAN_TERMS must be months separated by commas, not {raw!r}")
    terms = [int(part) for part in parts]
    if terms != sorted(set(terms)) or terms[0] < 2:
        raise RuntimeError(
            f"IVR_PLAN_TERMS must be increasing numbers of months, two or more, not {raw!r}"
        )
    return tuple(terms)


def _above_zero(settings: Mapping[str, Any], name: str) -> int:
    value = settings[name]
    if value <= 0:
        raise RuntimeError(f"{name} must be a whole number above 0, not {value!r}")
    return value


def is_embedded(settings: Mapping[str, Any]) -> bool:
    """The embedded set-up: SQLite and the sandbox gateway, where development secrets may do."""
    return str(settings["DATABASE_URL"]).startswith("sqlite") and (
        settings["IVR_GATEWAY"] == "sandbox"
    )


def current_environment() -> Mapping[str, str]:
    return os.environ
