"""The console's home page, and the pages for what went wrong."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_wtf.csrf import CSRFError

from staff_console.auth import requires

bp = Blueprint("pages", __name__)


@bp.get("/")
@requires(None)
def home() -> str:
    """What the signed-in staff member can do here."""
    return render_template("home.html", staff=g.staff)


@bp.app_errorhandler(CSRFError)
def form_expired(_error: CSRFError) -> tuple[str, int]:
    # A form from before a sign-in, from another site, or sent twice after signing out.
    return render_template(
        "problem.html",
        title="The form has expired",
        text=(
            "The page was older than your session, or did not come from this console. "
            "Go back, reload the page, and send it again."
        ),
    ), 400


@bp.app_errorhandler(404)
def not_found(_error: Exception) -> tuple[str, int]:
    return render_template(
        "problem.html", title="No such page", text="There is no page at this address."
    ), 404
