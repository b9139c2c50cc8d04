"""regions.yaml: every region is there, numbers are matched however written, bad files stop."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from billing_core.adapters.regions_file import load_regions, parse_regions
from billing_core.domain.regions import RegionConfigError

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = yaml.safe_load((ROOT / "ivr" / "regions.yaml").read_text())

PAY_LINES = {
    "ncal": "1-877-365-9900",
    "scal": "1-866-288-6729",
    "co": "1-877-799-4700",
    "ga": "1-877-699-7407",
    "hi": "1-877-578-2700",
    "mas": "1-888-255-1400",
    "nw": "1-877-729-5590",
    "wa": "1-833-698-1220",
}


def written_three_ways(number: str) -> list[str]:
    digits = number.replace("-", "")  # 18773659900
    return [
        f"+{digits}",
        f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}",
        f"{digits[1:4]}.{digits[4:7]}.{digits[7:]}",
    ]


@pytest.mark.parametrize("key", sorted(PAY_LINES))
def test_each_pay_line_reaches_its_region_however_it_is_written(key):
    catalog = load_regions(ROOT / "ivr" / "regions.yaml")
    for written in written_three_ways(PAY_LINES[key]):
        region, relay = catalog.for_dialed_number(written)
        assert region.key == key, written
        assert relay is False


def test_an_unlisted_number_reaches_the_national_line():
    catalog = load_regions(ROOT / "ivr" / "regions.yaml")
    for dialed in ["+18005550199", "", "not a number", "+44 20 7946 0000"]:
        assert catalog.for_dialed_number(dialed)[0] is catalog.national


def test_washington_mails_checks_to_its_own_box_and_the_others_share_one():
    catalog = load_regions(ROOT / "ivr" / "regions.yaml")
    boxes = {key: region.check_address[1] for key, region in catalog.regions.items()}
    assert boxes.pop("wa") == "P.O. Box 7172"
    assert set(boxes.values()) == {"P.O. Box 7158"}
    assert len(boxes) == 7


def test_maryland_premiums_fall_due_on_the_first_of_the_coverage_month():
    mas = load_regions(ROOT / "ivr" / "regions.yaml").regions["mas"]
    january = date(2027, 1, 1)
    assert mas.premium_due.due_date(january, "MD") == date(2027, 1, 1)
    assert mas.premium_due.due_date(january, "VA") == date(2026, 12, 31)
    assert mas.premium_due.due_date(date(2027, 3, 1), "DC") == date(2027, 2, 28)


def test_business_hours_are_read_in_the_regions_own_time_zone():
    catalog = load_regions(ROOT / "ivr" / "regions.yaml")
    # 18:30 UTC on a Friday: 13:30 in New York, 08:30 in Honolulu, 10:30 in California.
    friday = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
    assert catalog.regions["ga"].billing_is_open(friday)
    assert catalog.regions["hi"].billing_is_open(friday)
    # 03:30 UTC Saturday is 22:30 Friday in New York, 17:30 Friday in Honolulu.
    late = datetime(2026, 11, 28, 3, 30, tzinfo=UTC)
    assert not catalog.regions["ga"].billing_is_open(late)
    assert not catalog.regions["hi"].billing_is_open(late)
    # Sunday noon in California: closed.
    assert not catalog.regions["ncal"].billing_is_open(datetime(2026, 11, 29, 20, 0, tzinfo=UTC))


def broken(mutate) -> dict:
    document = copy.deepcopy(DOCUMENT)
    mutate(document)
    return document


def region(document: dict, key: str) -> dict:
    return next(r for r in document["regions"] if r["key"] == key)


@pytest.mark.parametrize(
    ("mutate", "region_key", "field"),
    [
        (lambda d: region(d, "co").update(time_zone="America/Atlantis"), "co", "time_zone"),
        (lambda d: region(d, "ga").update(pay_lines=["call us"]), "ga", "pay_lines"),
        (lambda d: region(d, "ga").update(pay_lines=[]), "ga", "pay_lines"),
        (lambda d: region(d, "hi").update(pay_lines=["1-877-365-9900"]), "hi", "pay_lines"),
        (lambda d: region(d, "mas").update(states=["MD", "XX"]), "mas", "states"),
        (
            lambda d: region(d, "mas")["premium_due"]["state_overrides"].update(MD="whenever"),
            "mas",
            "premium_due.state_overrides.MD",
        ),
        (
            lambda d: region(d, "hi")["billing"]["hours"][0].update(close="25:00"),
            "hi",
            "billing.hours[0].close",
        ),
        (
            lambda d: region(d, "hi")["billing"]["hours"][0].update(days="someday"),
            "hi",
            "billing.hours[0].days",
        ),
        (lambda d: region(d, "wa").update(check_address=[]), "wa", "check_address"),
        (lambda d: region(d, "nw").update(languages=["fr"]), "nw", "languages"),
        (lambda d: region(d, "scal").update(name=""), "scal", "name"),
    ],
)
def test_a_bad_regions_file_is_refused_naming_the_region_and_field(mutate, region_key, field):
    with pytest.raises(RegionConfigError) as refused:
        parse_regions(broken(mutate))
    assert refused.value.region == region_key
    assert refused.value.field == field
    assert f"region '{region_key}'" in str(refused.value)


def test_the_app_does_not_start_with_a_bad_regions_file(tmp_path):
    from ivr import create_app

    bad = tmp_path / "regions.yaml"
    bad.write_text(yaml.safe_dump(broken(lambda d: region(d, "co").update(time_zone="Mars/Base"))))
    with pytest.raises(RegionConfigError, match="region 'co', field 'time_zone'"):
        create_app(
            {
                "TESTING": True,
                "IVR_REGIONS_FILE": str(bad),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            }
        )
