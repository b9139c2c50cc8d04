"""Shared fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

PostgreSQL is used when IVR_TEST_POSTGRES_URL names a server database
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); each test run creates
its own scratch database there and drops it at the end. Without it PostgreSQL
tests are skipped, except under CI (CI=1), where its absence is an error.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from billing_core.adapters.db import Base, make_engine
from billing_core.adapters.migrate import upgrade as migrate
from billing_core.adapters.regions_file import load_regions
from billing_core.core import BillingCore
from billing_core.domain.clock import ManualClock
from billing_core.domain.identity import IdentityHasher
from ivr import call_state  # noqa: F401  (its table is emptied between tests too)

ROOT = Path(__file__).resolve().parent.parent
IDENTITY_KEY = "test-identity-key"
# A Friday afternoon in California: billing specialists are in.
DEFAULT_NOW = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def postgres_server_url() -> str | None:
    url = os.environ.get("IVR_TEST_POSTGRES_URL")
    if not url and os.environ.get("CI"):
        raise RuntimeError("CI must set IVR_TEST_POSTGRES_URL so PostgreSQL tests run")
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ivr.sqlite3'}"
        migrate(url)
        yield url
        return
    server = postgres_server_url()
    if not server:
        pytest.skip("PostgreSQL not configured (set IVR_TEST_POSTGRES_URL)")
    name = f"ivr_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    """Empty every table before the test."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return engine


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DEFAULT_NOW)


@pytest.fixture(scope="session")
def regions():
    return load_regions(ROOT / "ivr" / "regions.yaml")


@pytest.fixture
def core(clean_db: Engine, clock: ManualClock, regions) -> BillingCore:
    return BillingCore(
        engine=clean_db, hasher=IdentityHasher(IDENTITY_KEY), regions=regions, clock=clock
    )


@pytest.fixture
def checkouts(clean_db: Engine) -> Iterator[list[int]]:
    """The database connections taken from the pool during the test, one entry each."""
    taken: list[int] = []

    def count(*_args) -> None:
        taken.append(1)

    event.listen(clean_db, "checkout", count)
    yield taken
    event.remove(clean_db, "checkout", count)


PUBLIC_BASE_URL = "https://ivr.example.test"
AUTH_TOKEN = "test-twilio-auth-token"


def app_settings(core: BillingCore, clock: ManualClock, **changes) -> dict:
    """The test configuration of an app on the test database and clock, with changes."""
    return {
        "TESTING": True,
        "ENGINE": core.engine,
        "CLOCK": clock,
        "IVR_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "IVR_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_IDENTITY_KEY": IDENTITY_KEY,
        **changes,
    }


@contextmanager
def served(app, *, threaded: bool = False) -> Iterator[str]:
    """The app served over HTTP on a free local port, for as long as the block runs."""
    http = make_server("127.0.0.1", 0, app, threaded=threaded)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join()
        http.server_close()


@pytest.fixture
def app(core: BillingCore, clock: ManualClock):
    from ivr import create_app

    return create_app(app_settings(core, clock))
