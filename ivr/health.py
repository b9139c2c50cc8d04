"""Endpoints for load balancers and Prometheus: liveness, readiness and the metrics.

None of them is a Twilio webhook (no signature is asked), and none says anything of the
configuration: /healthz and /readyz answer a word, /metrics only with the right token.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import text

from ivr.metrics import metrics

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering."""
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to answer calls: the database answers a query."""
    try:
        with current_app.extensions["billing"].engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        # The type only: a driver's message can name the host and the user.
        log.warning("not ready: the database did not answer (%s)", type(error).__name__)
        return _no_store(jsonify(status="unavailable", reason="database unreachable")), 503
    return _no_store(jsonify(status="ready")), 200


@bp.get("/metrics")
def metrics_page() -> Response:
    """The metrics in Prometheus' text format, for `Authorization: Bearer IVR_METRICS_TOKEN`.

    Without a token configured there is no such page (404); a wrong or missing one is 403.
    """
    token = current_app.config["IVR_METRICS_TOKEN"]
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        log.warning("refused a metrics scrape with a missing or wrong token")
        abort(403)
    return _no_store(metrics().exposition())


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
