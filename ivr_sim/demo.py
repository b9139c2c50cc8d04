"""Demo members: a billing feed that covers every region, coverage type and balance case.

The embedded deployment, the simulator and call scripts load it, and docs/demo-members.md
is generated from it (`python -m ivr_sim.demo > docs/demo-members.md`), so the
page that testers dial from always matches what is loaded.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from billing_core.adapters.feed import BillRecord
from billing_core.adapters.regions_file import load_regions
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.core import BillingCore
from billing_core.domain import money
from billing_core.domain.identity import IdentityHasher
from billing_core.domain.members import CoverageType
from billing_core.domain.regions import RegionCatalog
from billing_core.services.feed_import import (
    ImportReport,
    MemberRecord,
    import_feed,
    parse_feed_document,
)


def _member(
    mrn: str,
    birth_date: str,
    name: str,
    *,
    region: str,
    state: str,
    coverage: CoverageType,
    phone: str,
    email: str,
    language: str = "en",
    monthly_premium: str | None = None,
    bills: Sequence[dict[str, str]] = (),
    premiums: Sequence[dict[str, str]] = (),
    address: tuple[str, str, str, str] | None = None,
    account_key: str | None = None,
    credit: str | None = None,
    payments: Sequence[dict[str, str]] = (),
) -> dict[str, Any]:
    first_name, last_name = name.split(" ", 1)
    member: dict[str, Any] = {
        "mrn": mrn,
        "birth_date": birth_date,
        "first_name": first_name,
        "last_name": last_name,
        "region": region,
        "state": state,
        "coverage_type": coverage.value,
        "phone": phone,
        "email": email,
        "language": language,
    }
    if monthly_premium is not None:
        member["monthly_premium"] = monthly_premium
    if address is not None:
        # A mailing address: statements and letters are mailed unless paperless is on.
        keys = ("address_line1", "address_city", "address_state", "address_zip")
        member.update(zip(keys, address, strict=True))
    if account_key is not None:
        member["account_key"] = account_key
    if credit is not None:
        member["credit"] = credit
    member["bills"] = list(bills)
    member["premiums"] = list(premiums)
    if payments:
        member["payments"] = list(payments)
    return member


def _bill(
    number: str,
    *,
    service: str,
    facility: str,
    provider: str,
    amount: str,
    paid: str,
    due: str,
    adjustments: str | None = None,
) -> dict[str, str]:
    bill = {
        "bill_number": number,
        "date_of_service": service,
        "facility": facility,
        "provider": provider,
        "amount": amount,
        "paid": paid,
        "due_date": due,
    }
    if adjustments is not None:
        bill["adjustments"] = adjustments
    return bill


def _premium(month: str, amount: str, paid: str = "0.00") -> dict[str, str]:
    return {"coverage_month": month, "amount": amount, "paid": paid}


def _paid(reference: str, *, on: str, amount: str, channel: str, **paid_for: str) -> dict[str, str]:
    """A payment made elsewhere; paid_for is bill_number= or coverage_month=."""
    return {"reference": reference, "paid_on": on, "amount": amount, "channel": channel, **paid_for}


# Kept as a table, one member a block, so the data reads at a glance.
# fmt: off
_DEMO_MEMBERS: tuple[dict[str, Any], ...] = (
    _member(
        "10000001", "1980-04-12", "Ana Lopez", region="ncal", state="CA",
        coverage=CoverageType.INDIVIDUAL, phone="(415) 555-0101", email="ana@example.com",
        monthly_premium="412.00",
        bills=[
            _bill("B-1001", service="2026-09-14", facility="Oakland Medical Center",
                  provider="Dr. Kim", amount="250.00", paid="50.00", due="2026-12-15"),
        ],
        premiums=[_premium("2026-12", "412.00", paid="412.00"), _premium("2027-01", "412.00")],
    ),
    _member(
        "10000002", "1951-07-04", "María González", region="scal", state="CA",
        coverage=CoverageType.MEDICARE, phone="(213) 555-0102",
        email="maria.gonzalez@example.com", language="es", monthly_premium="38.50",
        bills=[
            _bill("B-2001", service="2026-10-20", facility="Los Angeles Medical Center",
                  provider="Dr. Luis Ortega", amount="85.00", paid="0.00", due="2027-01-05"),
        ],
        premiums=[_premium("2027-01", "38.50")],
    ),
    _member(
        "10000003", "1975-03-15", "David Chen", region="co", state="CO",
        coverage=CoverageType.EMPLOYER_GROUP, phone="(303) 555-0103",
        email="david.chen@example.com",
        bills=[
            _bill("B-3001", service="2026-08-03", facility="Franklin Medical Offices",
                  provider="Dr. Sarah Miller", amount="145.00", paid="0.00", due="2026-12-10"),
            _bill("B-3002", service="2026-09-22", facility="Lakewood Medical Offices",
                  provider="Dr. Raj Patel", amount="62.40", paid="0.00", due="2026-12-20"),
            _bill("B-3003", service="2026-10-30", facility="Rock Creek Medical Offices",
                  provider="Dr. Emma Ward", amount="310.00", paid="100.00", due="2027-01-08"),
        ],
    ),
    _member(
        "10000004", "1988-11-30", "Grace Williams", region="ga", state="GA",
        coverage=CoverageType.COBRA, phone="(404) 555-0104", email="grace.williams@example.com",
        monthly_premium="689.25",
        bills=[
            _bill("B-4001", service="2026-10-02", facility="Southwood Comprehensive Medical Center",
                  provider="Dr. Ken Brooks", amount="95.00", paid="0.00", due="2026-12-18"),
        ],
        premiums=[_premium("2026-12", "689.25", paid="689.25"), _premium("2027-01", "689.25")],
        address=("1450 Peachtree Street NE", "Atlanta", "GA", "30309"),
    ),
    _member(
        "10000005", "1992-06-21", "Keoni Kahale", region="hi", state="HI",
        coverage=CoverageType.INDIVIDUAL_EXCHANGE, phone="(808) 555-0105",
        email="keoni.kahale@example.com", monthly_premium="356.00",
        bills=[
            _bill("B-5001", service="2026-11-05", facility="Moanalua Medical Center",
                  provider="Dr. Leilani Akana", amount="60.00", paid="0.00", due="2027-01-12"),
        ],
        premiums=[_premium("2027-01", "356.00")],
    ),
    _member(
        "10000006", "1965-01-01", "Sarah Johnson", region="mas", state="MD",
        coverage=CoverageType.INDIVIDUAL, phone="(301) 555-0106",
        email="sarah.johnson@example.com", monthly_premium="298.00",
        premiums=[_premium("2027-01", "298.00")],
    ),
    _member(
        "10000007", "1970-12-25", "Michael Brown", region="mas", state="VA",
        coverage=CoverageType.INDIVIDUAL, phone="(703) 555-0107",
        email="michael.brown@example.com", monthly_premium="298.00",
        premiums=[_premium("2027-01", "298.00")],
    ),
    _member(
        "10000008", "1959-08-08", "Robert Nguyen", region="nw", state="OR",
        coverage=CoverageType.INDIVIDUAL, phone="(503) 555-0108",
        email="robert.nguyen@example.com", monthly_premium="524.00",
        bills=[
            _bill("B-8001", service="2026-09-02", facility="Sunnyside Medical Center",
                  provider="Dr. Amy Fischer", amount="4850.00", paid="350.00", due="2026-12-31"),
        ],
        premiums=[_premium("2027-01", "524.00")],
    ),
    _member(
        "10000009", "1990-02-14", "Emily Davis", region="wa", state="WA",
        coverage=CoverageType.INDIVIDUAL, phone="(206) 555-0109", email="emily.davis@example.com",
        monthly_premium="445.00",
        bills=[
            _bill("B-9001", service="2026-07-18", facility="Capitol Hill Medical Center",
                  provider="Dr. Noah Lee", amount="120.00", paid="120.00", due="2026-09-15"),
        ],
        premiums=[
            _premium("2026-12", "445.00", paid="445.00"),
            _premium("2027-01", "445.00", paid="445.00"),
        ],
    ),
    _member(
        "10000010", "1984-05-09", "Sofia Martinez", region="scal", state="CA",
        coverage=CoverageType.INDIVIDUAL, phone="(818) 555-0110",
        email="sofia.martinez@example.com", monthly_premium="305.00",
        account_key="SC-20-118734", credit="20.00",
        bills=[
            _bill("B-1101", service="2026-08-20", facility="Panorama City Medical Center",
                  provider="Dr. Hannah Cho", amount="380.00", adjustments="230.00",
                  paid="50.00", due="2026-10-30"),
            _bill("B-1102", service="2026-10-12", facility="Baldwin Park Medical Center",
                  provider="Dr. Omar Haddad", amount="140.00", adjustments="45.00",
                  paid="0.00", due="2026-12-28"),
        ],
        premiums=[_premium("2026-12", "305.00", paid="305.00"), _premium("2027-01", "305.00")],
        payments=[
            _paid("WEB-20117", on="2026-09-28", amount="50.00", channel="web",
                  bill_number="B-1101"),
            _paid("CHK-7710", on="2026-11-24", amount="305.00", channel="mail",
                  coverage_month="2026-12"),
        ],
    ),
)
# fmt: on

# What each demo member is for, shown in the docs next to them.
DEMO_PURPOSES: dict[str, str] = {
    "10000001": "A bill partly paid and the January premium; December premium already paid.",
    "10000002": "Spanish-speaking Medicare member.",
    "10000003": "Employer group (bills only, no premium); three medical bills.",
    "10000004": (
        "COBRA member: a bill and the January premium; a mailing address on file, so "
        "statements are mailed (unless paperless)."
    ),
    "10000005": "Individual–Exchange member (binder payment goes through the exchange).",
    "10000006": "Maryland: the January premium is due on January 1.",
    "10000007": "Virginia: the January premium is due on December 31.",
    "10000008": "Large medical balance, enough for a payment plan.",
    "10000009": "Owes nothing: every bill and premium is paid.",
    "10000010": (
        "Bill details: insurance and adjustments on both bills, one past due; a $20.00 "
        "account credit; payments made online and by mail in the payment history."
    ),
}

COVERAGE_NAMES: dict[CoverageType, str] = {
    CoverageType.MEDICARE: "Medicare",
    CoverageType.INDIVIDUAL_EXCHANGE: "Individual–Exchange",
    CoverageType.INDIVIDUAL: "Individual",
    CoverageType.COBRA: "COBRA",
    CoverageType.EMPLOYER_GROUP: "Employer group",
}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
# Spelled out rather than strftime's %B, which follows the process locale.
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def demo_feed() -> dict[str, Any]:
    """Return the demo members as a billing feed document (the JSON format), a fresh copy."""
    return {"members": copy.deepcopy(list(_DEMO_MEMBERS))}


def demo_records(*, regions: RegionCatalog, today: date) -> list[MemberRecord]:
    """Return the demo members checked as any feed is."""
    return parse_feed_document(demo_feed(), regions=regions, today=today)


def load_demo(
    target: BillingCore | UnitOfWork,
    *,
    hasher: IdentityHasher | None = None,
    regions: RegionCatalog | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Check and import the demo members; loading them again changes nothing."""
    if isinstance(target, BillingCore):
        uow = target.unit_of_work()
        hasher = hasher or target.hasher
        regions = regions or target.regions
        now = now or target.clock.now()
    else:
        uow = target
    if hasher is None or regions is None or now is None:
        raise TypeError("load_demo needs hasher, regions and now with a unit of work")
    records = demo_records(regions=regions, today=now.date())
    return import_feed(uow, records=records, hasher=hasher, now=now)


def demo_members_markdown(regions: RegionCatalog) -> str:
    """Return docs/demo-members.md: every demo member, how to identify as them, what they owe."""
    # The page lists the data as loaded on any day, so no birth date is "in the future".
    records = demo_records(regions=regions, today=date.max)
    lines = [
        "# Demo members",
        "",
        "The demo data loaded by the embedded deployment, the simulator and the call",
        "scripts. Identify as a member by entering the MRN followed by #, then the birth",
        "date as 8 digits (MMDDYYYY). Balances are as loaded; payments made in a demo",
        "lower them until the demo data is loaded into a fresh database.",
        "",
        "Phone numbers use 555-01xx and email addresses use example.com: none of them",
        "reaches anyone.",
        "",
        "This page is generated from `ivr_sim/demo.py`; after changing the demo data,",
        "run `python -m ivr_sim.demo > docs/demo-members.md`.",
        "",
        "| MRN | Birth date | Keypad | Name | Region | State | Coverage | Language"
        " | What they owe | Use it for |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        region = regions.get(record.region_key)
        lines.append(
            "| "
            + " | ".join(
                [
                    record.mrn,
                    f"{record.birth_date:%m/%d/%Y}",
                    f"{record.birth_date:%m%d%Y}",
                    f"{record.first_name} {record.last_name}",
                    f"{record.region_key} ({region.name})",
                    record.state,
                    COVERAGE_NAMES[record.coverage_type],
                    LANGUAGE_NAMES[record.language],
                    _owed(record, regions),
                    DEMO_PURPOSES.get(record.mrn, ""),
                ]
            )
            + " |"
        )
    lines += [
        "",
        "Premiums of Maryland members are due on the first day of the coverage month;",
        "everyone else's are due on the last day of the month before (regions.yaml).",
        "",
    ]
    return "\n".join(lines)


def _owed(record: MemberRecord, regions: RegionCatalog) -> str:
    """The member's open bills and premiums, each with its balance and due date."""
    items = [
        f"Bill {bill.bill_number}: {_dollars(_bill_balance(bill))} due {_day(bill.due_date)}"
        for bill in sorted(record.bills, key=lambda bill: (bill.due_date, bill.bill_number))
        if _bill_balance(bill) > 0
    ]
    if record.coverage_type.pays_premium_here:
        policy = regions.get(record.region_key).premium_due
        items += [
            f"Premium {MONTHS[premium.coverage_month.month - 1]} {premium.coverage_month.year}:"
            f" {_dollars(premium.amount_cents - premium.paid_cents)}"
            f" due {_day(policy.due_date(premium.coverage_month, record.state))}"
            for premium in record.premiums
            if premium.amount_cents > premium.paid_cents
        ]
    else:
        items.append("no premium (the employer pays)")
    if record.credit_cents:
        items.append(f"a credit of {_dollars(record.credit_cents)}")
    return "; ".join(items) if items else "nothing"


def _bill_balance(bill: BillRecord) -> int:
    return bill.amount_cents - bill.adjustments_cents - bill.paid_cents


def _dollars(cents: int) -> str:
    return money.format_amount(cents, "en")


def _day(day: date) -> str:
    return f"{MONTHS[day.month - 1][:3]} {day.day}, {day.year}"


def main(argv: Sequence[str] | None = None) -> None:
    """Print docs/demo-members.md for the regions of the given regions.yaml."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("regions", nargs="?", default="ivr/regions.yaml", type=Path)
    arguments = parser.parse_args(argv)
    sys.stdout.write(demo_members_markdown(load_regions(arguments.regions)))


if __name__ == "__main__":
    main()
