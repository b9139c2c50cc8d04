"""The staff console: the billing team's and QA's tools in the browser, apart from the webhooks.

A WSGI app of its own (`create_app`), on the same configuration and billing database as
the voice app: staff sign in (`ivr staff` makes the accounts), QA call the line from the
browser on the virtual Twilio with the flow map following the call, billing staff look up
payments and members, unlock and refund. The voice app never imports this package.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

import ivr
from ivr.config import is_embedded
from staff_console import auth, flow_map, pages, phone, servicing
from staff_console.accounts import StaffAccounts

# Pages carry members' payments: never kept by a browser or a proxy, never framed, and no
# script but the console's own.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the staff console; test_config overrides the environment, as for the voice app."""
    # The voice app brings the settings, the billing core, and the webhooks the browser
    # softphone calls; it runs no job worker here.
    voice = ivr.create_app({**(test_config or {}), "IVR_JOBS_LOCAL_WORKER": False})
    app = Flask(__name__, instance_path=voice.instance_path)
    app.config.from_mapping(voice.config)
    app.config.update(_session_settings(app))
    app.extensions["billing"] = voice.extensions["billing"]
    app.extensions["voice_app"] = voice
    app.extensions["staff_accounts"] = accounts_for(app)
    CSRFProtect(app)
    for page in (auth, pages, phone, flow_map, servicing):
        app.register_blueprint(page.bp)
    app.after_request(_secure)
    return app


def accounts_for(app: Flask) -> StaffAccounts:
    """The staff accounts, locking out as the configuration says."""
    core = app.extensions["billing"]
    return StaffAccounts(
        core.engine,
        core.clock,
        failures_to_lock=app.config["IVR_CONSOLE_LOCKOUT_FAILURES"],
        lock_for=timedelta(minutes=app.config["IVR_CONSOLE_LOCKOUT_MINUTES"]),
    )


def _session_settings(app: Flask) -> dict[str, Any]:
    """Signed-cookie sessions: a configured key, or on the embedded set-up one made now."""
    key = app.config["IVR_CONSOLE_SECRET_KEY"]
    embedded = is_embedded(app.config)
    if not key:
        if not (embedded or app.config.get("TESTING")):
            raise RuntimeError(
                "set IVR_CONSOLE_SECRET_KEY to run the staff console: it signs the sessions"
            )
        # Sessions end when the console restarts, which is all a laptop needs.
        key = secrets.token_hex(32)
    return {
        "SECRET_KEY": key,
        "SESSION_COOKIE_NAME": "staff_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        # Over HTTPS wherever it is not a laptop's embedded set-up.
        "SESSION_COOKIE_SECURE": not embedded,
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=app.config["IVR_CONSOLE_SESSION_MINUTES"]),
        # A form's token lives as long as the session that signed it.
        "WTF_CSRF_TIME_LIMIT": None,
    }


def _secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
