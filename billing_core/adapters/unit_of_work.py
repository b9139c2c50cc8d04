"""A unit of work: one transaction that is rolled back unless the service commits it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from billing_core.domain.events import Event, Observer

log = logging.getLogger(__name__)


# How a read that changes nothing runs, by database: on SQLite a snapshot that takes no
# write lock; on PostgreSQL each statement on its own (autocommit), which under READ
# COMMITTED sees what it would have seen in a transaction, without the BEGIN and the
# ROLLBACK round trips.
READ_ONLY_OPTIONS = {
    "sqlite": {"sqlite_read_only": True},
    "postgresql": {"isolation_level": "AUTOCOMMIT"},
}


class UnitOfWork:
    """Open with `with uow:`; call `commit()` to keep the changes.

    Events published in the transaction reach the observers only once it is committed.
    read_only: for a service that only reads (it must never write or commit).
    """

    session: Session

    def __init__(
        self,
        session_factory: sessionmaker,
        observers: Sequence[Observer] = (),
        *,
        read_only: bool = False,
    ) -> None:
        self._session_factory = session_factory
        self._observers = observers
        self._events: list[Event] = []
        self.read_only = read_only

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._events = []
        if self.read_only:
            dialect = self.session.get_bind().dialect.name
            self.session.connection(execution_options=READ_ONLY_OPTIONS.get(dialect, {}))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._events = []
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def publish(self, event: Event) -> None:
        """Tell the observers of the event when (and only if) this transaction commits."""
        self._events.append(event)

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()
        events, self._events = self._events, []
        for event in events:
            for observer in self._observers:
                try:
                    observer(event)
                except Exception:  # noqa: BLE001 - what was committed stands; the log says
                    log.exception("an observer failed on %s", type(event).__name__)

    def rollback(self) -> None:
        self._events = []
        self.session.rollback()
