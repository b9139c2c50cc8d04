"""Liveness and readiness for load balancers: no signature asked, nothing of the set-up told."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from billing_core.adapters.jobs import is_postgresql


def test_healthz_answers_ok_without_a_twilio_signature(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_when_the_database_answers(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


@pytest.fixture
def unreachable(database_url, tmp_path):
    """A database of the same kind that cannot be reached: no such folder, or no server."""
    if is_postgresql(database_url):
        url = "postgresql+psycopg://ivr:secret-password@127.0.0.1:9/ivr?connect_timeout=2"
    else:
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'ivr.sqlite3'}"
    engine = create_engine(url)
    yield engine
    engine.dispose()


def test_readyz_is_503_with_a_short_reason_when_the_database_is_unreachable(
    app, unreachable, caplog
):
    app.extensions["billing"].engine = unreachable
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "database unreachable"}
    # Neither the answer nor the log names the server, the user or the password.
    for secret in ("127.0.0.1", "secret-password", "no-such-folder", "ivr.sqlite3"):
        assert secret not in response.get_data(as_text=True)
        assert secret not in caplog.text
    assert "not ready: the database did not answer (OperationalError)" in caplog.text
    assert app.test_client().get("/healthz").status_code == 200  # alive all the same


def test_webhooks_still_need_their_signature(app):
    client = app.test_client()
    assert client.post("/voice", data={"CallSid": "CA1"}).status_code == 403
    # Only the health endpoints themselves are open, not paths that look like them.
    assert client.get("/healthz/../voice").status_code in (403, 404)
    assert client.get("/metrics-and-more").status_code == 403


def test_health_endpoints_answer_only_get(app):
    client = app.test_client()
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.post(path).status_code in (403, 405)
