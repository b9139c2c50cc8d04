"""Configuration from the environment, with embedded defaults for a laptop or a demo."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Data the package ships: found in an installed wheel as in a checkout.
PACKAGE_DIR = Path(__file__).resolve().parent

# Development values: they let `make run` and the simulator work out of the box.
# Production sets every one of them (see README, "Configuration").
DEV_AUTH_TOKEN = "dev-twilio-auth-token"
DEV_IDENTITY_KEY = "dev-identity-key"


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as bad:
        raise RuntimeError(f"{name} must be a whole number, not {raw!r}") from bad


def from_environment(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Read the IVR_* variables and DATABASE_URL."""
    default_db = f"sqlite:///{Path(instance_path) / 'ivr.sqlite3'}"
    return {
        "DATABASE_URL": environ.get("DATABASE_URL") or default_db,
        "IVR_TWILIO_AUTH_TOKEN": environ.get("IVR_TWILIO_AUTH_TOKEN") or DEV_AUTH_TOKEN,
        "IVR_TWILIO_ACCOUNT_SID": environ.get("IVR_TWILIO_ACCOUNT_SID", ""),
        "IVR_PUBLIC_BASE_URL": environ.get("IVR_PUBLIC_BASE_URL", ""),
        "IVR_IDENTITY_KEY": environ.get("IVR_IDENTITY_KEY") or DEV_IDENTITY_KEY,
        "IVR_REGIONS_FILE": environ.get("IVR_REGIONS_FILE") or str(PACKAGE_DIR / "regions.yaml"),
        "IVR_CALL_TTL_MINUTES": _int(environ, "IVR_CALL_TTL_MINUTES", 120),
        "IVR_GATHER_TIMEOUT": _int(environ, "IVR_GATHER_TIMEOUT", 6),
        "IVR_RELAY_TIMEOUT": _int(environ, "IVR_RELAY_TIMEOUT", 45),
        "IVR_PAY_RELAY_TIMEOUT": _int(environ, "IVR_PAY_RELAY_TIMEOUT", 60),
        "IVR_MAX_TRIES": _int(environ, "IVR_MAX_TRIES", 3),
        "IVR_MAX_SILENCES": _int(environ, "IVR_MAX_SILENCES", 5),
        "IVR_LOCKOUT_MRN_FAILURES": _int(environ, "IVR_LOCKOUT_MRN_FAILURES", 3),
        "IVR_LOCKOUT_CALLER_FAILURES": _int(environ, "IVR_LOCKOUT_CALLER_FAILURES", 6),
        "IVR_VOICE_EN": environ.get("IVR_VOICE_EN") or "Google.en-US-Neural2-F",
        "IVR_VOICE_ES": environ.get("IVR_VOICE_ES") or "Google.es-US-Neural2-A",
        "IVR_GATEWAY": environ.get("IVR_GATEWAY") or "sandbox",
        "IVR_STRIPE_API_KEY": environ.get("IVR_STRIPE_API_KEY", ""),
        "IVR_PAY_CONNECTOR": environ.get("IVR_PAY_CONNECTOR") or "sandbox",
        "IVR_PAY_TIMEOUT": _int(environ, "IVR_PAY_TIMEOUT", 10),
        "IVR_SMS_FROM": environ.get("IVR_SMS_FROM", ""),
        "IVR_TWILIO_API_BASE": environ.get("IVR_TWILIO_API_BASE", ""),
        "IVR_SMTP_HOST": environ.get("IVR_SMTP_HOST", ""),
        "IVR_SMTP_PORT": _int(environ, "IVR_SMTP_PORT", 587),
        "IVR_SMTP_USERNAME": environ.get("IVR_SMTP_USERNAME", ""),
        "IVR_SMTP_PASSWORD": environ.get("IVR_SMTP_PASSWORD", ""),
        "IVR_SMTP_STARTTLS": environ.get("IVR_SMTP_STARTTLS", "true").lower()
        in ("1", "true", "yes"),
        "IVR_RECEIPT_FROM": environ.get("IVR_RECEIPT_FROM") or "billing@example.org",
        "IVR_RECORDINGS_DIR": environ.get("IVR_RECORDINGS_DIR", ""),
        "IVR_WEBSITE": environ.get("IVR_WEBSITE") or "kp.org",
        "IVR_LOG_LEVEL": environ.get("IVR_LOG_LEVEL") or "INFO",
    }


def current_environment() -> Mapping[str, str]:
    return os.environ
