"""Database engines and sessions for the billing core."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Every table of the application shares this metadata, so one migration history covers all."""


CONNECT_TIMEOUT_SECONDS = 5


def make_engine(
    url: str,
    *,
    lock_timeout_ms: int = 10_000,
    statement_timeout_ms: int | None = None,
    **options,
) -> Engine:
    """Create an engine whose waits end in time; SQLite gets WAL and a busy timeout.

    A webhook must answer within Twilio's 15 seconds: a lock held elsewhere, or a statement
    that runs long, ends in an error (and the caller's apology) instead of a silent call.
    """
    if url.startswith("sqlite"):
        busy_seconds = lock_timeout_ms / 1000
        engine = create_engine(url, connect_args={"timeout": busy_seconds}, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            # isolation_level=None hands BEGIN to us, so a write lock is taken at BEGIN
            # (IMMEDIATE) rather than at the first write, which would deadlock readers.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Well inside Twilio's 15-second webhook limit, so a stuck lock ends in an apology.
            cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_ms)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:
            options = connection.get_execution_options()
            if options.get("isolation_level") == "AUTOCOMMIT":
                return  # each statement its own transaction, as SQLite runs it unasked
            # A read that wants one snapshot across its statements (marked sqlite_read_only)
            # reads the WAL without waiting for, or taking, the write lock.
            if options.get("sqlite_read_only"):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    settings = [f"-c lock_timeout={int(lock_timeout_ms)}"]
    if statement_timeout_ms is not None:
        settings.append(f"-c statement_timeout={int(statement_timeout_ms)}")
    connect_args: dict = {}
    if url.startswith("postgresql"):
        # A database that does not answer (a host gone, a dropped packet) fails a new
        # connection in 5 s, not when the operating system gives up minutes later.
        connect_args = {"options": " ".join(settings), "connect_timeout": CONNECT_TIMEOUT_SECONDS}
    # No ping before each checkout: it would cost a round trip every time a webhook opens a
    # transaction. A connection the server dropped fails its first statement instead, and
    # SQLAlchemy then lets go of every pooled connection as old as it; the call state's
    # read, each webhook's first statement, tries once more (ivr.call_state.CallStore.load).
    return create_engine(url, connect_args=connect_args, **options)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def upsert_insert(session: Session):
    """Return the INSERT that supports ON CONFLICT for the session's database."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
