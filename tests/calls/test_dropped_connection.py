"""A database that drops the app's connections (a restart, an idle timeout) is no outage.

Connections are not pinged before use: the first statement on a dropped one fails, the
pool lets go of every connection as old as it, and the call state's read tries again.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import postgres_server_url
from tests.members import add_member


def drop_connections(database_url: str) -> int:
    """Make the server end every connection to the database, as a restart would."""
    admin = create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": make_url(database_url).database},
                ).all()
            )
    finally:
        admin.dispose()


def test_a_call_goes_on_when_the_database_has_dropped_the_apps_connections(
    twilio, core, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("only a database server drops connections")
    add_member(core, mrn="30000003", birth_date=date(1990, 1, 31), region="ga", state="GA")
    call = twilio.call(to="+18776997407", from_="+14045550111")
    call.press("30000003#")
    assert drop_connections(database_url) >= 1  # the app's pooled connections
    call.press("01311990")
    assert call.heard_since_input[0] == "Thank you, Ana."
    call.press("9")
    assert call.heard_since_input[0] == "Main menu."
