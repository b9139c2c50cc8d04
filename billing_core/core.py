"""The billing core as one object a channel builds once and calls: it owns its transactions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from billing_core.clock import Clock
from billing_core.db import make_session_factory
from billing_core.identity import IdentityHasher
from billing_core.regions import RegionCatalog
from billing_core.services import accounts, identification
from billing_core.unit_of_work import UnitOfWork


@dataclass
class BillingCore:
    engine: Engine
    hasher: IdentityHasher
    regions: RegionCatalog
    clock: Clock
    lockout_policy: identification.LockoutPolicy = field(
        default_factory=identification.LockoutPolicy
    )
    session_factory: sessionmaker = field(init=False)

    def __post_init__(self) -> None:
        self.session_factory = make_session_factory(self.engine)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def mrn_digest(self, mrn: str) -> str:
        return self.hasher.mrn(mrn)

    def identify(
        self,
        *,
        mrn_digest: str,
        birth_date: date,
        caller: str | None,
        channel: str,
        call_sid: str | None = None,
    ) -> identification.IdentifiedMember:
        return identification.identify(
            self.unit_of_work(),
            hasher=self.hasher,
            policy=self.lockout_policy,
            now=self.clock.now(),
            mrn_digest=mrn_digest,
            birth_date=birth_date,
            caller=caller,
            channel=channel,
            call_sid=call_sid,
        )

    def account_summary(
        self, member_id: int, *, channel: str, call_sid: str | None = None
    ) -> accounts.AccountSummary:
        return accounts.account_summary(
            self.unit_of_work(),
            member_id=member_id,
            regions=self.regions,
            now=self.clock.now(),
            channel=channel,
            call_sid=call_sid,
        )
