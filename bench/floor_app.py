"""The capacity floor: a Flask app that does the least any stateful IVR webhook must do.

It checks the Twilio signature as the app does (twilio's RequestValidator over the public
URL and the form), reads the call's state row with one SQLAlchemy Core statement, writes it
back with one upsert, and answers a fixed <Gather>. Same engine set-up as the app
(billing_core.adapters.db.make_engine: WAL and a busy timeout on SQLite, timeouts on
PostgreSQL), same database, its own table; on SQLite its commits skip the fsync, as the
app's call-state writes do. What the app spends beyond it is the product:
the prompts, the flows, the billing core, exactly-once.

`gunicorn bench.floor_app:app` with DATABASE_URL set; bench._support.create_floor_table first.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from flask import Flask, Response, abort, request
from sqlalchemy import Engine, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from twilio.request_validator import RequestValidator

from bench._support import FLOOR_CALLS
from bench.baseline_app import TWIML
from billing_core.adapters.db import make_engine

READ = select(FLOOR_CALLS.c.data).where(FLOOR_CALLS.c.call_sid == bindparam("sid"))


def _upsert(engine: Engine):
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(FLOOR_CALLS).values(
        call_sid=bindparam("sid"), data=bindparam("data"), updated_at=bindparam("at")
    )
    return statement.on_conflict_do_update(
        index_elements=[FLOOR_CALLS.c.call_sid],
        set_={"data": statement.excluded.data, "updated_at": statement.excluded.updated_at},
    )


def _relaxed_sync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def create_floor_app(url: str) -> Flask:
    app = Flask(__name__, static_folder=None)
    validator = RequestValidator(os.environ.get("IVR_TWILIO_AUTH_TOKEN", "dev-twilio-auth-token"))
    base = os.environ.get("IVR_PUBLIC_BASE_URL", "").rstrip("/")
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        # As the app's call state: a state row's commit waits for no fsync.
        event.listen(engine, "connect", _relaxed_sync)
    upsert = _upsert(engine)

    @app.post("/", defaults={"path": ""})
    @app.post("/<path:path>")
    def webhook(path: str) -> Response:
        query = request.query_string.decode()
        url = f"{base}{request.path}" + (f"?{query}" if query else "") if base else request.url
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, request.form, signature):
            abort(403)
        sid = request.form.get("CallSid", "")
        # As the app does: the state read without the write lock, written in its own
        # transaction once the answer is known.
        with engine.connect().execution_options(sqlite_read_only=True) as connection:
            found = connection.execute(READ, {"sid": sid}).scalar()
        state = found if isinstance(found, dict) else json.loads(found or "{}")
        state["webhooks"] = state.get("webhooks", 0) + 1
        state["last"] = request.path
        with engine.begin() as connection:
            connection.execute(upsert, {"sid": sid, "data": state, "at": datetime.now(UTC)})
        return Response(TWIML, mimetype="text/xml")

    return app


app = create_floor_app(os.environ.get("DATABASE_URL", "sqlite:///bench-floor.sqlite3"))
