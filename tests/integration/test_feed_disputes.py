"""A bill's dispute comes with the billing feed, and keeps the bill out of payment plans."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from billing_core.adapters.feed import CSV_COLUMNS, parse_feed
from billing_core.adapters.models import MedicalBill, Member
from billing_core.domain.exceptions import FeedRejected
from billing_core.domain.plans import BillExclusion
from billing_core.services.feed_import import import_feed

MRN = "10000001"
MEMBER = {
    "mrn": MRN, "birth_date": "1980-04-12", "first_name": "Ana", "last_name": "Lopez",
    "region": "ncal", "state": "CA", "coverage_type": "individual",
}  # fmt: skip


def bill(number: str, amount: str, **more: Any) -> dict[str, Any]:
    return {
        "bill_number": number, "date_of_service": "2026-10-02", "facility": "Oakland",
        "provider": "Dr. Kim", "amount": amount, "due_date": "2026-12-20", **more,
    }  # fmt: skip


def feed(*bills: dict[str, Any]) -> dict[str, Any]:
    return {"members": [{**copy.deepcopy(MEMBER), "bills": list(bills)}]}


def load(core, text: str, file_format: str = "json"):
    records = parse_feed(text, format=file_format, regions=core.regions, today=date(2026, 11, 27))
    return import_feed(
        core.unit_of_work(), records=records, hasher=core.hasher, now=core.clock.now()
    )


def member_id(core) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(
            select(Member.id).where(Member.mrn_digest == core.mrn_digest(MRN))
        )


def disputed(core) -> dict[str, bool]:
    with core.unit_of_work() as uow:
        return {b.bill_number: b.disputed for b in uow.session.scalars(select(MedicalBill))}


def test_a_disputed_bill_from_the_feed_is_left_out_of_the_plan_offer(core):
    load(core, json.dumps(feed(bill("B-1", "900.00"), bill("B-2", "120.00", disputed=True))))
    offer = core.plan_offer(member_id(core))
    assert offer.excluded == {"B-2": BillExclusion.DISPUTED}
    assert offer.eligible_cents == 90_000
    assert offer.refusal is None


def test_a_csv_feed_marks_a_bill_disputed_with_true_and_not_with_false_or_empty(core):
    def row(**cells: str) -> str:
        return ",".join(cells.get(name, "") for name in CSV_COLUMNS)

    member = {"record": "member", **MEMBER}
    bills = [
        {"record": "bill", "mrn": MRN, **bill(number, "300.00"), "disputed": flag}
        for number, flag in (("B-1", "true"), ("B-2", "false"), ("B-3", ""), ("B-4", "TRUE"))
    ]
    text = "\n".join([",".join(CSV_COLUMNS), row(**member), *(row(**b) for b in bills)]) + "\n"
    load(core, text, "csv")
    assert disputed(core) == {"B-1": True, "B-2": False, "B-3": False, "B-4": True}
    assert core.plan_offer(member_id(core)).excluded == {
        "B-1": BillExclusion.DISPUTED,
        "B-4": BillExclusion.DISPUTED,
    }


def test_a_later_feed_that_leaves_the_dispute_out_ends_it(core):
    load(core, json.dumps(feed(bill("B-1", "600.00", disputed=True))))
    assert core.plan_offer(member_id(core)).excluded == {"B-1": BillExclusion.DISPUTED}
    report = load(core, json.dumps(feed(bill("B-1", "600.00"))))
    assert report.bills_updated == 1
    assert disputed(core) == {"B-1": False}
    assert core.plan_offer(member_id(core)).excluded == {}


def test_the_same_disputed_bill_imported_again_changes_nothing(core):
    text = json.dumps(feed(bill("B-1", "600.00", disputed=True)))
    load(core, text)
    assert load(core, text).unchanged


@pytest.mark.parametrize("value", ["yes", 1, "disputed"])
def test_a_dispute_that_is_not_true_or_false_is_refused_naming_the_bill(core, value):
    with pytest.raises(FeedRejected) as rejected:
        load(core, json.dumps(feed(bill("B-1", "600.00", disputed=value))))
    [problem] = rejected.value.problems
    assert problem.startswith("members[0].bills[0].disputed: must be true or false")
