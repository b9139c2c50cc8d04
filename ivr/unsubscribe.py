"""The page an email's unsubscribe link opens, and mail programs' one-click button.

No sign-in: the signed link is the proof (billing_core.adapters.unsubscribe_links). A GET
only shows a button, because mail scanners open links on their own; the POST it sends,
or the one a mail program sends for the List-Unsubscribe-Post header (RFC 8058), stops
the reminders and notices by email to the address. Nothing about the address is shown or logged.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, render_template_string, request

from billing_core.adapters.unsubscribe_links import UnsubscribeLinks
from billing_core.core import BillingCore
from billing_core.services.email_opt_out import LINK, ONE_CLICK
from billing_core.services.reminder_notices import page_words

log = logging.getLogger(__name__)

bp = Blueprint("unsubscribe", __name__)


_PAGE = """<!doctype html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title></head>
<body>
<main>
<h1>{{ title }}</h1>
<p>{{ text }}</p>
{% if button %}<form method="post"><button type="submit">{{ button }}</button></form>{% endif %}
</main>
</body>
</html>
"""


def links(settings) -> UnsubscribeLinks | None:
    """The link maker of the configured public address, or None without one."""
    base = settings["IVR_PUBLIC_BASE_URL"]
    return UnsubscribeLinks(settings["IVR_IDENTITY_KEY"], base) if base else None


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """Show the button (GET), or stop the reminders and notices to the link's address (POST)."""
    digest = UnsubscribeLinks(current_app.config["IVR_IDENTITY_KEY"], "").digest_of(token)
    if digest is None:
        return _page("invalid", status=404)
    if request.method == "GET":
        return _page("ask", button=True)
    core: BillingCore = current_app.extensions["billing"]
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if core.unsubscribe_email(digest, channel=ONE_CLICK if one_click else LINK):
        log.info(
            "an address unsubscribed from emails (%s)",
            "one-click" if one_click else "link",
        )
    return _page("done")


def _page(kind: str, *, button: bool = False, status: int = 200):
    lang = "es" if request.args.get("lang") == "es" else "en"
    words = page_words(lang)
    html = render_template_string(
        _PAGE,
        lang=lang,
        title=words["title"],
        text=words[kind],
        button=words["button"] if button else None,
    )
    return html, status, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
