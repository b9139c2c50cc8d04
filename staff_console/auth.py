"""Signing in and out, and who may open which page.

Who is signed in is re-read from the accounts on every request, so a removed account or a
changed role counts at once, not when the cookie expires. With IVR_CONSOLE_TRUSTED_HEADER
set, an SSO proxy in front of the console names the staff member in that header instead,
and passwords are not asked; the account must still exist, for its roles.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from staff_console.accounts import LockedOut, SignInRefused, Staff, StaffAccounts

bp = Blueprint("auth", __name__)

ROLE_NAMES = {"qa": "QA", "billing": "billing"}


def accounts() -> StaffAccounts:
    return current_app.extensions["staff_accounts"]


@bp.before_app_request
def load_staff() -> None:
    """Put who is signed in (or None) in g.staff."""
    header = current_app.config["IVR_CONSOLE_TRUSTED_HEADER"]
    if header:
        name = request.headers.get(header, "").strip()
        g.staff = accounts().find(name) if name else None
        return
    name = session.get("staff")
    g.staff = accounts().find(name) if name else None
    if name and g.staff is None:
        session.clear()


def requires(role: str | None) -> Callable:
    """Let the page open only for staff with this role (None: any); others sign in first."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            staff: Staff | None = g.staff
            if staff is None:
                if current_app.config["IVR_CONSOLE_TRUSTED_HEADER"]:
                    abort(403)
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            if role is not None and not staff.may(role):
                return (
                    render_template("refused.html", role=ROLE_NAMES[role]),
                    403,
                )
            return view(*args, **kwargs)

        return guarded

    return decorate


@bp.route("/sign-in", methods=("GET", "POST"))
def sign_in() -> Response | tuple[str, int] | str:
    """Ask for the name and password; sign in, or say why not."""
    if current_app.config["IVR_CONSOLE_TRUSTED_HEADER"]:
        # The proxy signs staff in; a password here would be a way around it.
        abort(404)
    next_page = _local(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("sign_in.html", next=next_page, problem=None, username="")
    username = request.form.get("username", "")
    try:
        staff = accounts().sign_in(username, request.form.get("password", ""))
    except LockedOut as locked:
        problem = f"{locked} (until {locked.until:%H:%M} UTC)"
    except SignInRefused as refused:
        problem = str(refused)
    else:
        # A new session: nothing from before signing in carries over.
        session.clear()
        session.permanent = True
        session["staff"] = staff.username
        return redirect(next_page or url_for("pages.home"))
    page = render_template("sign_in.html", next=next_page, problem=problem, username=username)
    return page, 401


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session."""
    session.clear()
    return redirect(url_for("auth.sign_in"))


def _local(target: str) -> str:
    """A page of this console to go on to, or nothing: never another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return ""
    return target
