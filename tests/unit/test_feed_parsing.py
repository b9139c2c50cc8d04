"""The billing feed, JSON and CSV: what is read, and every bad value reported by place and field."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_core.adapters.feed import (
    CSV_COLUMNS,
    BillRecord,
    PaymentChannel,
    PaymentRecord,
    PremiumRecord,
    feed_document_to_csv,
    load_feed_file,
    parse_feed,
    parse_feed_document,
)
from billing_core.domain.exceptions import FeedRejected
from billing_core.domain.members import CoverageType
from billing_core.domain.money import MAX_MONEY_CENTS, format_money, parse_money
from billing_core.domain.regions import normalize_phone_number

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_JSON = ROOT / "examples" / "billing-feed.json"
EXAMPLE_CSV = ROOT / "examples" / "billing-feed.csv"
DOCS = ROOT / "docs" / "billing-feed.md"
TODAY = date(2026, 11, 27)


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE_JSON.read_text(), parse_float=Decimal)


def member(**changes: Any) -> dict[str, Any]:
    """The first example member (Ana Lopez), with some fields changed."""
    data = copy.deepcopy(example()["members"][0])
    data.update(changes)
    return data


def problems_of(document: Any, regions) -> list[str]:
    with pytest.raises(FeedRejected) as rejected:
        parse_feed_document(document, regions=regions, today=TODAY)
    return rejected.value.problems


def csv_problems_of(text: str, regions) -> list[str]:
    with pytest.raises(FeedRejected) as rejected:
        parse_feed(text, format="csv", regions=regions, today=TODAY)
    return rejected.value.problems


def csv_text(*rows: dict[str, str]) -> str:
    lines = [",".join(CSV_COLUMNS)]
    lines += [",".join(row.get(name, "") for name in CSV_COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


CSV_MEMBER = {
    "record": "member", "mrn": "10000001", "birth_date": "1980-04-12", "first_name": "Ana",
    "last_name": "Lopez", "region": "ncal", "state": "CA", "coverage_type": "individual",
}  # fmt: skip
CSV_BILL = {
    "record": "bill", "mrn": "10000001", "bill_number": "B-1", "date_of_service": "2026-09-14",
    "facility": "Oakland Medical Center", "provider": "Dr. Kim", "amount": "250.00",
    "due_date": "2026-12-15",
}  # fmt: skip
CSV_PREMIUM = {"record": "premium", "mrn": "10000001", "coverage_month": "2027-01", "amount": "9"}
CSV_PAYMENT = {
    "record": "payment", "mrn": "10000001", "paid_on": "2026-10-03", "amount": "50.00",
    "channel": "web", "bill_number": "B-1", "reference": "WEB-5521",
}  # fmt: skip


# --- what a good feed gives --------------------------------------------------------------


def test_a_json_feed_becomes_member_records_with_money_in_cents(regions):
    records = parse_feed(EXAMPLE_JSON.read_text(), format="json", regions=regions, today=TODAY)

    ana, luis, priya = records
    assert (ana.mrn, ana.birth_date, ana.first_name, ana.last_name) == (
        "10000001", date(1980, 4, 12), "Ana", "Lopez",
    )  # fmt: skip
    assert (ana.region_key, ana.state, ana.coverage_type) == ("ncal", "CA", CoverageType.INDIVIDUAL)
    assert (ana.phone, ana.email, ana.language) == ("+14155550101", "ana@example.com", "en")
    assert ana.monthly_premium_cents == 41200
    assert ana.bills == (
        BillRecord("B-1001", date(2026, 9, 14), "Oakland Medical Center", "Dr. Kim", 25000, 5000,
                   date(2026, 12, 15)),
    )  # fmt: skip
    assert ana.premiums == (PremiumRecord(date(2026, 12, 1), 41200, 0),)
    assert (luis.language, luis.email, luis.monthly_premium_cents) == ("es", None, 61550)
    assert [p.paid_cents for p in luis.premiums] == [61550, 0]
    assert priya.coverage_type is CoverageType.EMPLOYER_GROUP
    assert [b.amount_cents for b in priya.bills] == [128040, 4200]
    assert priya.premiums == ()


def test_the_feed_carries_the_account_key_credit_adjustments_and_payments_made_elsewhere(regions):
    ana, luis, priya = parse_feed(
        EXAMPLE_JSON.read_text(), format="json", regions=regions, today=TODAY
    )

    assert (ana.account_key, ana.credit_cents) == ("KP-00451", 0)
    assert (luis.account_key, luis.credit_cents) == (None, 2000)
    assert [b.adjustments_cents for b in ana.bills + priya.bills] == [0, 0, 1200]
    assert ana.payments == (
        PaymentRecord("WEB-5521", date(2026, 10, 3), 5000, PaymentChannel.WEB, "B-1001", None),
    )
    assert luis.payments == (
        PaymentRecord(
            "CHK-88121", date(2026, 11, 20), 61550, PaymentChannel.MAIL, None, date(2026, 12, 1)
        ),
    )
    assert priya.payments == ()


def test_a_payment_older_than_13_months_is_checked_but_left_out(regions):
    payments = [
        paid(reference="OLD-1", paid_on="2025-10-26"),
        paid(reference="EDGE-1", paid_on="2025-10-27", channel="AGENT"),
        paid(reference="OLD-2", paid_on="2024-01-01", amount="12.345"),
    ]
    assert problems_of({"members": [member(payments=payments)]}, regions) == [
        "members[0].payments[2].amount: not an amount of money: '12.345'"
    ]

    payments[2]["amount"] = "12.34"
    (ana,) = parse_feed_document(
        {"members": [member(payments=payments)]}, regions=regions, today=TODAY
    )
    assert [(p.reference, p.channel) for p in ana.payments] == [("EDGE-1", PaymentChannel.AGENT)]


def test_a_numeric_account_key_is_read_as_text_and_a_credit_may_be_zero(regions):
    (ana,) = parse_feed_document(
        {"members": [member(account_key=4471, credit="0")]}, regions=regions, today=TODAY
    )
    assert (ana.account_key, ana.credit_cents) == ("4471", 0)


def test_the_csv_example_gives_the_same_records_as_the_json_example(regions):
    from_json = load_feed_file(EXAMPLE_JSON, regions=regions, today=TODAY)
    from_csv = load_feed_file(EXAMPLE_CSV, regions=regions, today=TODAY)

    assert from_csv == from_json


def test_the_csv_example_is_the_json_example_written_as_csv():
    assert EXAMPLE_CSV.read_text() == feed_document_to_csv(example())


def test_the_docs_show_the_example_files_and_the_exact_csv_header():
    docs = DOCS.read_text()
    json_block = re.search(r"```json\n(.*?)\n```", docs, re.S)
    csv_block = re.search(r"```csv\n(.*?)\n```", docs, re.S)
    assert json_block and csv_block
    assert json.loads(json_block.group(1)) == json.loads(EXAMPLE_JSON.read_text())
    assert csv_block.group(1) + "\n" == EXAMPLE_CSV.read_text()
    assert f"```\n{','.join(CSV_COLUMNS)}\n```" in docs


def test_the_record_of_a_member_does_not_show_the_mrn_or_birth_date(regions):
    (ana,) = parse_feed_document({"members": [member()]}, regions=regions, today=TODAY)

    assert "10000001" not in repr(ana)
    assert "1980" not in repr(ana)
    assert ana.mrn_last4 == "0001"


def test_optional_fields_may_be_left_out_and_get_their_defaults(regions):
    bare = member(phone=None, email="", bills=None)
    del bare["language"], bare["monthly_premium"], bare["premiums"]

    (record,) = parse_feed_document({"members": [bare]}, regions=regions, today=TODAY)

    assert (record.phone, record.email, record.language) == (None, None, "en")
    assert (record.monthly_premium_cents, record.bills, record.premiums) == (None, (), ())


def test_codes_are_read_whatever_their_case_and_text_is_trimmed(regions):
    data = member(region=" NCAL ", state="ca", coverage_type="Individual", language="EN",
                  first_name="  Ana ")  # fmt: skip

    (record,) = parse_feed_document({"members": [data]}, regions=regions, today=TODAY)

    assert (record.region_key, record.state, record.coverage_type, record.language) == (
        "ncal", "CA", CoverageType.INDIVIDUAL, "en",
    )  # fmt: skip
    assert record.first_name == "Ana"


@pytest.mark.parametrize(
    "written", ["(415) 555-0101", "415-555-0101", "415.555.0101", "4155550101", "+1 415 555 0101",
                "1-415-555-0101", "+14155550101"],
)  # fmt: skip
def test_a_phone_number_written_any_usual_way_is_stored_in_e164(regions, written):
    (record,) = parse_feed_document(
        {"members": [member(phone=written)]}, regions=regions, today=TODAY
    )
    assert record.phone == "+14155550101"


@given(
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    style=st.sampled_from(["({a}) {e}-{n}", "{a}-{e}-{n}", "{a}{e}{n}", "+1 {a} {e} {n}",
                           "1.{a}.{e}.{n}", "+1{a}{e}{n}"]),
)  # fmt: skip
def test_phone_numbers_are_normalised_exactly_as_the_regions_module_does(
    regions, area, exchange, line, style
):
    written = style.format(a=area, e=exchange, n=f"{line:04d}")
    (record,) = parse_feed_document(
        {"members": [member(phone=written)]}, regions=regions, today=TODAY
    )
    assert record.phone == normalize_phone_number(written)


def test_csv_rows_may_come_in_any_order_and_blank_lines_are_skipped(regions):
    text = csv_text(CSV_BILL, CSV_PREMIUM, CSV_MEMBER) + "\n,,,\n"

    (record,) = parse_feed(text, format="csv", regions=regions, today=TODAY)

    assert [b.bill_number for b in record.bills] == ["B-1"]
    assert [p.coverage_month for p in record.premiums] == [date(2027, 1, 1)]


def test_csv_columns_may_be_in_any_order_and_optional_ones_left_out(regions):
    text = (
        "mrn,record,first_name,last_name,birth_date,region,state,coverage_type,"
        "coverage_month,amount\n"
        "10000001,member,Ana,Lopez,1980-04-12,ncal,CA,individual,,\n"
        "10000001,premium,,,,,,,2027-01,412.00\n"
    )

    (record,) = parse_feed(text, format="csv", regions=regions, today=TODAY)

    assert record.premiums == (PremiumRecord(date(2027, 1, 1), 41200, 0),)


def test_a_csv_file_may_start_with_a_byte_order_mark(regions, tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text(csv_text(CSV_MEMBER), encoding="utf-8-sig")

    assert len(load_feed_file(path, regions=regions, today=TODAY)) == 1


def test_the_format_can_be_named_when_the_file_name_does_not_say(regions, tmp_path):
    path = tmp_path / "feed.txt"
    path.write_text(csv_text(CSV_MEMBER))

    with pytest.raises(FeedRejected) as rejected:
        load_feed_file(path, regions=regions, today=TODAY)
    assert rejected.value.problems == ["feed.txt: unknown feed format; name the file .json or .csv"]
    assert len(load_feed_file(path, regions=regions, today=TODAY, format="csv")) == 1


# --- every bad value, by position and field ---------------------------------------------


def bill(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(example()["members"][0]["bills"][0])
    data.update(changes)
    return data


def premium(**changes: Any) -> dict[str, Any]:
    data = {"coverage_month": "2027-01", "amount": "412.00", "paid": "0.00"}
    data.update(changes)
    return data


def paid(**changes: Any) -> dict[str, Any]:
    """A payment made elsewhere, as the first example member's."""
    data = copy.deepcopy(example()["members"][0]["payments"][0])
    data.update(changes)
    return data


BAD_MEMBERS = [
    (member(mrn="1000-0001"), "members[1].mrn: must be 4 to 15 digits, nothing else"),
    (member(mrn="123"), "members[1].mrn: must be 4 to 15 digits, nothing else"),
    (member(mrn="1234567890123456"), "members[1].mrn: must be 4 to 15 digits, nothing else"),
    (member(mrn=10000002), "members[1].mrn: must be 4 to 15 digits, nothing else"),
    (member(mrn=None), "members[1].mrn: is required"),
    (member(birth_date="04/12/1980"), "members[1].birth_date: not a date (YYYY-MM-DD)"),
    (member(birth_date="1980-02-30"), "members[1].birth_date: not a date (YYYY-MM-DD)"),
    (member(birth_date="2026-11-28"), "members[1].birth_date: is in the future"),
    (member(birth_date="1899-12-31"), "members[1].birth_date: is before 1900"),
    (member(first_name=""), "members[1].first_name: is required"),
    (member(last_name="x" * 101), "members[1].last_name: longer than 100 characters"),
    (member(first_name=7), "members[1].first_name: must be text: '7'"),
    (member(region="socal"),
     "members[1].region: unknown region 'socal'; use one of co, ga, hi, mas, ncal, nw, scal, wa"),
    (member(region="mas", state="CA"),
     "members[1].state: 'CA' is not served by region 'mas'; use one of DC, MD, VA"),
    (member(coverage_type="ppo"),
     "members[1].coverage_type: unknown coverage type 'ppo'; use one of medicare, "
     "individual_exchange, individual, cobra, employer_group"),
    (member(phone="555-01"), "members[1].phone: not a phone number: '555-01'"),
    (member(email="ana.example.com"), "members[1].email: not an email address: 'ana.example.com'"),
    (member(language="fr"), "members[1].language: must be one of en, es: 'fr'"),
    (member(monthly_premium="412.005"),
     "members[1].monthly_premium: not an amount of money: '412.005'"),
    (member(coverage_type="employer_group", premiums=[]),
     "members[1].monthly_premium: employer_group members have no premium (the employer pays)"),
    (member(coverage_type="employer_group", monthly_premium=None),
     "members[1].premiums[0]: employer_group members have no premiums (the employer pays)"),
    (member(plan="gold"), "members[1].plan: unknown field"),
    (member(bills={"bill_number": "B-1"}), "members[1].bills: must be a list"),
    (member(bills=["B-1"]), "members[1].bills[0]: must be an object"),
    (member(bills=[bill(amount="12.345")]),
     "members[1].bills[0].amount: not an amount of money: '12.345'"),
    (member(bills=[bill(amount=Decimal("12.345"))]),
     "members[1].bills[0].amount: not an amount of money: '12.345'"),
    (member(bills=[bill(amount="-5.00")]),
     "members[1].bills[0].amount: must not be negative: '-5.00'"),
    (member(bills=[bill(amount=Decimal("-5"))]),
     "members[1].bills[0].amount: must not be negative: '-5'"),
    (member(bills=[bill(amount="$250")]),
     "members[1].bills[0].amount: not an amount of money: '$250'"),
    (member(bills=[bill(amount="1,250.00")]),
     "members[1].bills[0].amount: not an amount of money: '1,250.00'"),
    (member(bills=[bill(amount=250.0)]),
     "members[1].bills[0].amount: not an amount of money: '250.0'"),
    (member(bills=[bill(amount=True)]),
     "members[1].bills[0].amount: not an amount of money: 'True'"),
    (member(bills=[bill(amount="10000000.01")]),
     "members[1].bills[0].amount: more than 10000000.00: '10000000.01'"),
    (member(bills=[bill(amount=None)]), "members[1].bills[0].amount: is required"),
    (member(bills=[bill(paid="250.01")]),
     "members[1].bills[0].paid: more than the amount (250.01 > 250.00)"),
    (member(bills=[bill(due_date="2026-12-32")]),
     "members[1].bills[0].due_date: not a date (YYYY-MM-DD): '2026-12-32'"),
    (member(bills=[bill(due_date="20261215")]),
     "members[1].bills[0].due_date: not a date (YYYY-MM-DD): '20261215'"),
    (member(bills=[bill(due_date="2026-09-13")]),
     "members[1].bills[0].due_date: is before the date of service"),
    (member(bills=[bill(bill_number="B 1")]),
     "members[1].bills[0].bill_number: letters, digits and . _ / - only: 'B 1'"),
    (member(bills=[bill(), bill()]),
     "members[1].bills[1].bill_number: 'B-1001' is also members[1].bills[0]"),
    (member(bills=[bill(facility="")]), "members[1].bills[0].facility: is required"),
    (member(bills=[bill(room="12")]), "members[1].bills[0].room: unknown field"),
    (member(premiums=[premium(coverage_month="2027-1")]),
     "members[1].premiums[0].coverage_month: not a month (YYYY-MM): '2027-1'"),
    (member(premiums=[premium(coverage_month="2027-13")]),
     "members[1].premiums[0].coverage_month: not a month (YYYY-MM): '2027-13'"),
    (member(premiums=[premium(), premium()]),
     "members[1].premiums[1].coverage_month: 2027-01 is also members[1].premiums[0]"),
    (member(premiums=[premium(paid="500.00")]),
     "members[1].premiums[0].paid: more than the amount (500.00 > 412.00)"),
    (member(premiums=[premium(amount="")]), "members[1].premiums[0].amount: is required"),
    (member(account_key="KP 00451"),
     "members[1].account_key: letters, digits and . _ / - only: 'KP 00451'"),
    (member(account_key="K" * 41), "members[1].account_key: longer than 40 characters"),
    (member(credit="-20.00"), "members[1].credit: must not be negative: '-20.00'"),
    (member(credit="20.001"), "members[1].credit: not an amount of money: '20.001'"),
    (member(bills=[bill(adjustments="12.345")]),
     "members[1].bills[0].adjustments: not an amount of money: '12.345'"),
    (member(bills=[bill(adjustments="-1")]),
     "members[1].bills[0].adjustments: must not be negative: '-1'"),
    (member(bills=[bill(paid="0", adjustments="250.01")]),
     "members[1].bills[0].adjustments: more than the amount (250.01 > 250.00)"),
    (member(bills=[bill(paid="50.00", adjustments="200.01")]),
     "members[1].bills[0].adjustments: with what was paid, more than the amount "
     "(50.00 + 200.01 > 250.00)"),
    (member(payments={"reference": "W-1"}), "members[1].payments: must be a list"),
    (member(payments=["W-1"]), "members[1].payments[0]: must be an object"),
    (member(payments=[paid(paid_on="10/03/2026")]),
     "members[1].payments[0].paid_on: not a date (YYYY-MM-DD): '10/03/2026'"),
    (member(payments=[paid(paid_on="2026-11-28")]),
     "members[1].payments[0].paid_on: is in the future: 2026-11-28"),
    (member(payments=[paid(paid_on=None)]), "members[1].payments[0].paid_on: is required"),
    (member(payments=[paid(amount="0.00")]),
     "members[1].payments[0].amount: must be more than zero"),
    (member(payments=[paid(amount="-5")]),
     "members[1].payments[0].amount: must not be negative: '-5'"),
    (member(payments=[paid(amount=None)]), "members[1].payments[0].amount: is required"),
    (member(payments=[paid(channel="phone")]),
     "members[1].payments[0].channel: unknown channel 'phone'; "
     "use one of web, mail, agent, in_person"),
    (member(payments=[paid(channel="")]), "members[1].payments[0].channel: is required"),
    (member(payments=[paid(bill_number="B 1")]),
     "members[1].payments[0].bill_number: letters, digits and . _ / - only: 'B 1'"),
    (member(payments=[paid(bill_number=None, coverage_month="2026-13")]),
     "members[1].payments[0].coverage_month: not a month (YYYY-MM): '2026-13'"),
    (member(payments=[paid(bill_number=None)]),
     "members[1].payments[0].bill_number: bill_number or coverage_month is required"),
    (member(payments=[paid(coverage_month="2026-12")]),
     "members[1].payments[0].coverage_month: a payment pays a bill or a premium month, "
     "not both"),
    (member(payments=[paid(reference=None)]), "members[1].payments[0].reference: is required"),
    (member(payments=[paid(reference="WEB 5521")]),
     "members[1].payments[0].reference: letters, digits and . _ / - only: 'WEB 5521'"),
    (member(payments=[paid(reference="W" * 41)]),
     "members[1].payments[0].reference: longer than 40 characters"),
    (member(payments=[paid(), paid(amount="10.00")]),
     "members[1].payments[1].reference: 'WEB-5521' is also members[1].payments[0]"),
    (member(payments=[paid(check="1201")]), "members[1].payments[0].check: unknown field"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "problem"), BAD_MEMBERS, ids=[p for _, p in BAD_MEMBERS])
def test_each_bad_value_is_reported_with_its_position_and_field(regions, bad, problem):
    good = member(mrn="10000009")  # the bad member is the second, so positions are not all 0
    if bad["mrn"] == good["mrn"]:
        good["mrn"] = "10000008"

    assert problems_of({"members": [good, bad]}, regions) == [problem]


def test_a_second_member_with_the_same_mrn_is_named_by_position_not_by_value(regions):
    problems = problems_of({"members": [member(), member(), member()]}, regions)

    assert problems == [
        "members[1].mrn: the same MRN as members[0]",
        "members[2].mrn: the same MRN as members[0]",
    ]


def test_the_document_must_be_an_object_with_a_members_list(regions):
    assert problems_of([], regions) == ['document: must be an object with a "members" list']
    assert problems_of({"members": {}}, regions) == ["members: must be a list of members"]
    assert problems_of({"members": [], "version": 2}, regions) == ["version: unknown field"]
    assert problems_of({"members": ["x"]}, regions) == ["members[0]: must be an object"]


def test_json_that_does_not_parse_is_refused_with_its_line_and_column(regions):
    with pytest.raises(FeedRejected) as rejected:
        parse_feed('{"members": [\n  {"mrn": }]}', format="json", regions=regions, today=TODAY)

    assert rejected.value.problems == ["line 2, column 11: not valid JSON: Expecting value"]


def test_every_problem_of_every_member_is_reported_not_just_the_first(regions):
    document = {
        "members": [
            member(mrn="10000001", bills=[bill(amount="1.234"), bill(bill_number="B-2", paid="x")]),
            member(mrn="10000002"),
            member(mrn="10000003", state="TX", language="de", premiums=[premium(amount="-1")]),
        ]
    }

    assert problems_of(document, regions) == [
        "members[0].bills[0].amount: not an amount of money: '1.234'",
        "members[0].bills[1].paid: not an amount of money: 'x'",
        "members[2].state: 'TX' is not served by region 'ncal'; use one of CA",
        "members[2].language: must be one of en, es: 'de'",
        "members[2].premiums[0].amount: must not be negative: '-1'",
    ]


def test_problems_never_repeat_an_mrn_or_a_birth_date(regions):
    document = {
        "members": [
            member(mrn="98765x", birth_date="31/12/1970"),
            member(mrn="55556666", birth_date="2030-01-01"),
            member(mrn="55556666", birth_date="1850-06-01"),
        ]
    }

    text = "\n".join(problems_of(document, regions))

    for secret in ("98765", "31/12/1970", "5555", "6666", "2030-01-01", "1850-06-01"):
        assert secret not in text


# --- CSV: rows and fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({**CSV_BILL, "amount": "12.345"},
         "row 3 (bill), field amount: not an amount of money: '12.345'"),
        ({**CSV_BILL, "paid": "300"},
         "row 3 (bill), field paid: more than the amount (300.00 > 250.00)"),
        ({**CSV_BILL, "due_date": "12/15/2026"},
         "row 3 (bill), field due_date: not a date (YYYY-MM-DD): '12/15/2026'"),
        ({**CSV_BILL, "facility": ""}, "row 3 (bill), field facility: is required"),
        ({**CSV_PREMIUM, "coverage_month": "Jan 2027"},
         "row 3 (premium), field coverage_month: not a month (YYYY-MM): 'Jan 2027'"),
        ({**CSV_PREMIUM, "amount": "-9"},
         "row 3 (premium), field amount: must not be negative: '-9'"),
        ({**CSV_BILL, "coverage_month": "2027-01"},
         "row 3 (bill), field coverage_month: not a bill column; leave it empty"),
        ({**CSV_PREMIUM, "first_name": "Ana"},
         "row 3 (premium), field first_name: not a premium column; leave it empty"),
        ({**CSV_BILL, "mrn": "10000002"}, "row 3 (bill), field mrn: no member row has this MRN"),
        ({**CSV_BILL, "mrn": ""}, "row 3 (bill), field mrn: is required"),
        ({**CSV_BILL, "record": "invoice"},
         "row 3, field record: must be member, bill, premium or payment: 'invoice'"),
        ({**CSV_MEMBER, "mrn": "10000002", "state": "NV"},
         "row 3 (member), field state: 'NV' is not served by region 'ncal'; use one of CA"),
        ({**CSV_MEMBER, "first_name": "Luis"},
         "row 3 (member), field mrn: the same MRN as row 2 (member)"),
        ({**CSV_MEMBER, "mrn": "10000002", "amount": "5"},
         "row 3 (member), field amount: not a member column; leave it empty"),
        ({**CSV_BILL, "adjustments": "260"},
         "row 3 (bill), field adjustments: more than the amount (260.00 > 250.00)"),
        ({**CSV_PAYMENT, "channel": "fax"},
         "row 3 (payment), field channel: unknown channel 'fax'; "
         "use one of web, mail, agent, in_person"),
        ({**CSV_PAYMENT, "paid_on": "2026-11-28"},
         "row 3 (payment), field paid_on: is in the future: 2026-11-28"),
        ({**CSV_PAYMENT, "coverage_month": "2026-12"},
         "row 3 (payment), field coverage_month: a payment pays a bill or a premium month, "
         "not both"),
        ({**CSV_PAYMENT, "due_date": "2026-12-15"},
         "row 3 (payment), field due_date: not a payment column; leave it empty"),
        ({**CSV_PAYMENT, "credit": "5"},
         "row 3 (payment), field credit: not a payment column; leave it empty"),
        ({**CSV_BILL, "reference": "W-1"},
         "row 3 (bill), field reference: not a bill column; leave it empty"),
        ({**CSV_PAYMENT, "mrn": "10000002"},
         "row 3 (payment), field mrn: no member row has this MRN"),
    ],
)  # fmt: skip
def test_each_bad_csv_value_is_reported_with_its_row_and_field(regions, row, problem):
    assert csv_problems_of(csv_text(CSV_MEMBER, row), regions) == [problem]


def test_several_bad_csv_rows_are_all_reported_in_row_order(regions):
    text = csv_text(
        {**CSV_BILL, "amount": "12.345"},
        CSV_MEMBER,
        {**CSV_BILL, "bill_number": "B-2", "due_date": "soon"},
        {**CSV_MEMBER, "mrn": "10000002", "coverage_type": "employer_group"},
        {**CSV_PREMIUM, "mrn": "10000002"},
        {**CSV_PREMIUM, "mrn": "10000003"},
        {**CSV_MEMBER, "mrn": "12-34", "birth_date": "1980-4-12"},
    )

    assert csv_problems_of(text, regions) == [
        "row 2 (bill), field amount: not an amount of money: '12.345'",
        "row 4 (bill), field due_date: not a date (YYYY-MM-DD): 'soon'",
        "row 6 (premium): employer_group members have no premiums (the employer pays)",
        "row 7 (premium), field mrn: no member row has this MRN",
        "row 8 (member), field mrn: must be 4 to 15 digits, nothing else",
        "row 8 (member), field birth_date: not a date (YYYY-MM-DD)",
    ]


def test_a_csv_header_without_record_or_mrn_or_with_unknown_columns_is_refused(regions):
    assert csv_problems_of("mrn,first_name\n10000001,Ana\n", regions) == [
        "row 1 (header): the record column is missing",
    ]
    assert csv_problems_of("record,mrn,mrn\n", regions) == [
        "row 1 (header), field mrn: the column appears twice",
    ]
    problems = csv_problems_of(csv_text(CSV_MEMBER).replace("coverage_month", "month"), regions)
    assert problems == ["row 1 (header), field month: unknown column"]


def test_an_empty_csv_file_and_a_row_with_too_many_cells_are_refused(regions):
    assert csv_problems_of("", regions) == [
        "row 1 (header): the file is empty; the first row names the columns",
    ]
    too_wide = csv_text(CSV_MEMBER).rstrip("\n") + ",surplus\n"
    assert csv_problems_of(too_wide, regions) == [
        f"row 2: {len(CSV_COLUMNS) + 1} cells but the header names {len(CSV_COLUMNS)} columns",
    ]


def test_empty_cells_past_the_last_column_are_ignored(regions):
    text = csv_text(CSV_MEMBER).rstrip("\n") + ",,\n"

    assert len(parse_feed(text, format="csv", regions=regions, today=TODAY)) == 1


# --- money ----------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=MAX_MONEY_CENTS))
def test_any_amount_in_cents_survives_being_written_as_dollars_and_cents(cents):
    text = format_money(cents)

    assert re.fullmatch(r"\d+\.\d\d", text)
    assert parse_money(text) == cents
    assert parse_money(Decimal(text)) == cents


@pytest.mark.parametrize(
    ("value", "cents"),
    [("0", 0), ("0.5", 50), ("7.05", 705), (" 12.30 ", 1230), ("0012.00", 1200), (42, 4200),
     (Decimal("19.99"), 1999), (Decimal("1E+2"), 10000), ("10000000.00", MAX_MONEY_CENTS)],
)  # fmt: skip
def test_amounts_are_read_exactly_into_cents(value, cents):
    assert parse_money(value) == cents


@pytest.mark.parametrize(
    "value",
    ["", "1.", ".5", "1.234", "1e3", "NaN", "1_000", "+5", "12,50", 1.5, True, None,
     Decimal("NaN"), Decimal("Infinity"), Decimal("1.001"), "9" * 5000],
)  # fmt: skip
def test_anything_that_is_not_plain_dollars_and_cents_is_refused(value):
    with pytest.raises(ValueError):
        parse_money(value)


def test_a_negative_amount_is_named_as_negative():
    with pytest.raises(ValueError, match="must not be negative"):
        parse_money("-0.01")
    with pytest.raises(ValueError, match="must not be negative"):
        parse_money(-1)


# --- mailing addresses -------------------------------------------------------------------


def test_a_member_s_mailing_address_is_read_with_the_state_in_capitals(regions):
    (luis,) = parse_feed_document(
        {"members": [example()["members"][1]]}, regions=regions, today=TODAY
    )
    assert (luis.address_line1, luis.address_line2) == ("4820 Fallstaff Road", "Apt 2B")
    assert (luis.address_city, luis.address_state, luis.address_zip) == (
        "Baltimore",
        "MD",
        "21215",
    )
    (ana,) = parse_feed_document(
        {"members": [member(address_line1="1 Main St", address_city="Oakland",
                            address_state="ca", address_zip="94612-1234")]},
        regions=regions,
        today=TODAY,
    )  # fmt: skip
    assert (ana.address_state, ana.address_zip, ana.address_line2) == ("CA", "94612-1234", None)


def test_a_member_without_an_address_is_read_with_none(regions):
    (ana,) = parse_feed_document({"members": [member()]}, regions=regions, today=TODAY)
    assert ana.address_line1 is None and ana.address_zip is None


def test_part_of_a_mailing_address_is_refused_naming_each_part_it_lacks(regions):
    problems = problems_of({"members": [member(address_line2="Apt 4")]}, regions)
    assert problems == [
        "members[0].address_line1: is required",
        "members[0].address_city: is required",
        "members[0].address_state: is required",
        "members[0].address_zip: is required",
    ]


def test_a_bad_zip_code_or_state_in_an_address_is_refused(regions):
    address = {"address_line1": "1 Main St", "address_city": "Oakland"}
    problems = problems_of(
        {"members": [member(**address, address_state="C4", address_zip="9461")]}, regions
    )
    assert problems == [
        "members[0].address_state: not a two-letter state code: 'C4'",
        "members[0].address_zip: not a ZIP code (12345 or 12345-6789): '9461'",
    ]


def test_a_csv_member_row_carries_its_mailing_address(regions):
    row = {**CSV_MEMBER, "address_line1": "1 Main St", "address_city": "Oakland",
           "address_state": "CA", "address_zip": "94612"}  # fmt: skip
    (ana,) = parse_feed(csv_text(row), format="csv", regions=regions, today=TODAY)
    assert (ana.address_line1, ana.address_city, ana.address_zip) == (
        "1 Main St",
        "Oakland",
        "94612",
    )
