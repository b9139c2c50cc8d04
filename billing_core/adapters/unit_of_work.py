"""A unit of work: one transaction that is rolled back unless the service commits it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from billing_core.domain.events import Event, Observer

log = logging.getLogger(__name__)


class UnitOfWork:
    """Open with `with uow:`; call `commit()` to keep the changes.

    Events published in the transaction reach the observers only once it is committed.
    """

    session: Session

    def __init__(self, session_factory: sessionmaker, observers: Sequence[Observer] = ()) -> None:
        self._session_factory = session_factory
        self._observers = observers
        self._events: list[Event] = []

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._events = []
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
