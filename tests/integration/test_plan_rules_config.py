"""Payment-plan rules from configuration: the IVR_PLAN_* defaults and a region's own."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
import yaml

from billing_core.adapters.regions_file import parse_regions
from billing_core.core import BillingCore
from billing_core.domain.plans import PlanNotAllowed, PlanRulebook, PlanRules
from billing_core.domain.regions import RegionConfigError
from ivr import config
from tests.members import add_member

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = yaml.safe_load((ROOT / "ivr" / "regions.yaml").read_text())
DUE = date(2026, 12, 20)
# $400.00: under the default minimum of $500.00.
BILLS = [("B-1", date(2026, 11, 2), "Medical Center", 40_000, 0, DUE)]


def with_plans(region_key: str, plans) -> dict:
    document = copy.deepcopy(DOCUMENT)
    next(r for r in document["regions"] if r["key"] == region_key)["plans"] = plans
    return document


def rulebook(document: dict, environ: dict[str, str] | None = None):
    settings = config.from_environment(environ or {}, "/tmp/instance")
    return config.plan_rulebook(settings, parse_regions(document))


def test_a_region_with_its_own_minimum_offers_a_plan_another_region_refuses(core):
    document = with_plans("scal", {"min_balance": "300.00", "terms": [3, 6]})
    core.plan_rules = rulebook(document)
    scal = add_member(core, mrn="61000001", birth_date=date(1980, 1, 2), region="scal", bills=BILLS)
    ncal = add_member(core, mrn="61000002", birth_date=date(1980, 1, 2), region="ncal", bills=BILLS)

    offered = core.plan_offer(scal)
    assert offered.refusal is None
    assert [(o.months, o.monthly_cents) for o in offered.options] == [(3, 13_333), (6, 6_666)]
    refused = core.plan_offer(ncal)
    assert (refused.options, refused.refusal) == ((), PlanNotAllowed.BELOW_MINIMUM)


def test_a_region_changes_only_the_rules_it_names():
    book = rulebook(with_plans("co", {"missed_to_lapse": 3}), {"IVR_PLAN_TERMS": "6,12"})
    assert book.for_region("co") == PlanRules(terms=(6, 12), missed_to_lapse=3)
    assert book.for_region("ncal") == PlanRules(terms=(6, 12))


def test_the_variables_set_every_region_s_defaults():
    book = rulebook(
        DOCUMENT,
        {
            "IVR_PLAN_MIN_BALANCE": "750.00",
            "IVR_PLAN_TERMS": "2, 4",
            "IVR_PLAN_MIN_INSTALLMENT": "50",
            "IVR_PLAN_MAX_BILL_AGE_DAYS": "180",
            "IVR_PLAN_MISSED_TO_LAPSE": "1",
        },
    )
    assert book.for_region("ga") == PlanRules(75_000, (2, 4), 5_000, 180, 1)


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("IVR_PLAN_MIN_BALANCE", "five hundred", "IVR_PLAN_MIN_BALANCE must be an amount"),
        ("IVR_PLAN_MIN_BALANCE", "0.00", "IVR_PLAN_MIN_BALANCE must be more than 0.00"),
        ("IVR_PLAN_MIN_INSTALLMENT", "25.001", "IVR_PLAN_MIN_INSTALLMENT must be an amount"),
        ("IVR_PLAN_TERMS", "3,six", "IVR_PLAN_TERMS must be months separated by commas"),
        ("IVR_PLAN_TERMS", "12,6", "IVR_PLAN_TERMS must be increasing"),
        ("IVR_PLAN_MAX_BILL_AGE_DAYS", "a year", "IVR_PLAN_MAX_BILL_AGE_DAYS must be a whole"),
        ("IVR_PLAN_MISSED_TO_LAPSE", "0", "IVR_PLAN_MISSED_TO_LAPSE must be a whole number above"),
    ],
)
def test_a_bad_plan_variable_stops_the_start_up_naming_it(tmp_path, monkeypatch, name, raw, words):
    from ivr import create_app

    monkeypatch.setenv(name, raw)
    with pytest.raises(RuntimeError, match=words):
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})


@pytest.mark.parametrize(
    ("plans", "field"),
    [
        ({"min_balance": 300.5}, "plans.min_balance"),
        ({"min_balance": "lots"}, "plans.min_balance"),
        ({"min_installment": "0"}, "plans.min_installment"),
        ({"terms": [6, 3]}, "plans.terms"),
        ({"terms": "3,6"}, "plans.terms"),
        ({"missed_to_lapse": 0}, "plans.missed_to_lapse"),
        ({"max_bill_age_days": "a year"}, "plans.max_bill_age_days"),
        ({"minimum": "300.00"}, "plans.minimum"),
        (["min_balance"], "plans"),
    ],
)
def test_a_bad_region_plan_setting_is_refused_naming_the_region_and_field(plans, field):
    with pytest.raises(RegionConfigError) as refused:
        parse_regions(with_plans("hi", plans))
    assert (refused.value.region, refused.value.field) == ("hi", field)


def test_the_app_does_not_start_with_a_bad_region_plan_setting(tmp_path):
    from ivr import create_app

    bad = tmp_path / "regions.yaml"
    bad.write_text(yaml.safe_dump(with_plans("wa", {"terms": [3, 3]})))
    with pytest.raises(RegionConfigError, match="region 'wa', field 'plans.terms'"):
        create_app(
            {
                "TESTING": True,
                "IVR_REGIONS_FILE": str(bad),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            }
        )


def test_rules_a_region_changes_in_code_are_checked_and_name_the_region():
    # The regions file checks its own values; changes given any other way are checked here.
    with pytest.raises(RegionConfigError, match="region 'ga', field 'plans'"):
        PlanRulebook.with_changes(PlanRules(), {"ga": {"terms": (1,)}})


def test_the_app_builds_the_billing_core_with_the_configured_rules(app):
    core: BillingCore = app.extensions["billing"]
    assert core.plan_rules.for_region("ncal") == PlanRules()
