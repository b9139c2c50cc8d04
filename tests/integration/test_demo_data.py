"""The demo members: every region, coverage type and balance case, and the page that lists them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_core.adapters.models import Member
from billing_core.domain.members import CoverageType
from billing_core.services.feed_import import ImportReport
from ivr_sim.demo import demo_feed, demo_members_markdown, demo_records, load_demo

ROOT = Path(__file__).resolve().parents[2]
BIRTH_DATES = {
    "10000001": date(1980, 4, 12),
    "10000006": date(1965, 1, 1),
    "10000007": date(1970, 12, 25),
}


def member_id(core, mrn: str) -> int:
    with core.unit_of_work() as uow:
        found = uow.session.scalar(
            select(Member.id).where(Member.mrn_digest == core.mrn_digest(mrn))
        )
    assert found is not None, "demo member not loaded"
    return found


def summary(core, mrn: str):
    return core.account_summary(member_id(core, mrn), channel="test")


def test_the_demo_has_a_member_in_every_region_and_of_every_coverage_type(core):
    records = demo_records(regions=core.regions, today=core.clock.now().date())

    assert {record.region_key for record in records} == set(core.regions.regions)
    assert {record.coverage_type for record in records} == set(CoverageType)
    assert {record.state for record in records if record.region_key == "mas"} >= {"MD", "VA"}
    assert "es" in {record.language for record in records}
    assert all(len(record.mrn) == 8 for record in records)


def test_the_demo_loads_and_loading_it_again_changes_nothing(core):
    count = len(demo_feed()["members"])

    first = load_demo(core)
    second = load_demo(core)

    assert first.members_created == count
    assert second == ImportReport(members_unchanged=count)
    with core.unit_of_work() as uow:
        regions = set(uow.session.scalars(select(Member.region_key)))
    assert regions == set(core.regions.regions)


def test_the_demo_loads_through_a_unit_of_work_given_hasher_regions_and_time(core):
    report = load_demo(core.unit_of_work(), hasher=core.hasher, regions=core.regions,
                       now=core.clock.now())  # fmt: skip

    assert report.members_created == len(demo_feed()["members"])
    with pytest.raises(TypeError):
        load_demo(core.unit_of_work(), hasher=core.hasher)


def test_a_maryland_premium_is_due_on_the_first_and_a_virginia_one_the_day_before(core):
    load_demo(core)

    maryland = summary(core, "10000006")
    virginia = summary(core, "10000007")

    assert (maryland.state, virginia.state) == ("MD", "VA")
    assert [(p.coverage_month, p.due_date) for p in maryland.premiums_due] == [
        (date(2027, 1, 1), date(2027, 1, 1)),
    ]
    assert [(p.coverage_month, p.due_date) for p in virginia.premiums_due] == [
        (date(2027, 1, 1), date(2026, 12, 31)),
    ]


def test_the_demo_has_each_kind_of_balance_a_caller_may_have(core):
    load_demo(core)
    summaries = [summary(core, member["mrn"]) for member in demo_feed()["members"]]

    several_bills = [s for s in summaries if len(s.bills) >= 3]
    owes_nothing = [s for s in summaries if s.medical_balance_cents == s.premium_balance_cents == 0]
    large_balance = [s for s in summaries if s.medical_balance_cents > 200_000]
    employer_group = [s for s in summaries if s.coverage_type is CoverageType.EMPLOYER_GROUP]
    assert several_bills and owes_nothing and large_balance and employer_group
    assert all(s.bills and not s.premiums_due and s.monthly_premium_cents is None
               for s in employer_group)  # fmt: skip
    assert any(s.language == "es" for s in summaries)
    with_january_premium = {
        s.coverage_type for s in summaries
        if any(p.coverage_month == date(2027, 1, 1) for p in s.premiums_due)
    }  # fmt: skip
    assert with_january_premium == set(CoverageType) - {CoverageType.EMPLOYER_GROUP}


def test_a_demo_member_is_identified_by_the_birth_date_on_the_demo_page(core):
    load_demo(core)
    page = (ROOT / "docs" / "demo-members.md").read_text()

    for mrn, birth in BIRTH_DATES.items():
        assert f"| {mrn} | {birth:%m/%d/%Y} | {birth:%m%d%Y} |" in page
        found = core.identify(mrn_digest=core.mrn_digest(mrn), birth_date=birth, caller=None,
                              channel="test")  # fmt: skip
        assert found.member_id == member_id(core, mrn)


def test_the_demo_members_page_is_the_one_generated_from_the_demo_data(regions):
    page = (ROOT / "docs" / "demo-members.md").read_text(encoding="utf-8")

    assert page == demo_members_markdown(regions), (
        "docs/demo-members.md is stale: run python -m ivr_sim.demo > docs/demo-members.md"
    )


def test_the_demo_members_page_lists_every_member_with_what_they_owe(regions):
    page = demo_members_markdown(regions)

    for member in demo_feed()["members"]:
        assert f"| {member['mrn']} |" in page
    assert "Bill B-8001: $4,500.00 due Dec 31, 2026" in page
    assert "Premium January 2027: $298.00 due Jan 1, 2027" in page
    assert "| nothing |" in page


def test_the_readme_lists_every_demo_member_as_generated(regions):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = readme.split("<!-- demo-members:start -->\n")[1].split("\n<!-- demo-members:end -->")[
        0
    ]
    generated = [
        line for line in demo_members_markdown(regions).splitlines() if line.startswith("|")
    ]
    assert listed.splitlines() == generated
    assert len(generated) == 2 + len(demo_feed()["members"])
