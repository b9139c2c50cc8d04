"""Importing the billing feed: all or nothing, idempotent, and no MRN or birth date kept."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, select

from billing_core.adapters.db import Base
from billing_core.adapters.feed import MemberRecord, load_feed_file, parse_feed, parse_feed_document
from billing_core.adapters.gateways.sandbox import SandboxGateway, fixed_token
from billing_core.adapters.models import FeedPayment, MedicalBill, Member, PremiumInvoice
from billing_core.domain.exceptions import FeedRejected, IdentityNotVerified
from billing_core.domain.payments import PaymentTarget, TargetKind
from billing_core.services import feed_import
from billing_core.services.feed_import import ImportReport, import_feed
from billing_core.services.payments import PaymentRequest
from ivr_sim.demo import demo_records

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_JSON = ROOT / "examples" / "billing-feed.json"
EXAMPLE_CSV = ROOT / "examples" / "billing-feed.csv"


@pytest.fixture
def gateway(core) -> SandboxGateway:
    return SandboxGateway(core.session_factory, core.clock)


def today(core) -> date:
    return core.clock.now().date()


def example_records(core, path: Path = EXAMPLE_JSON) -> list[MemberRecord]:
    return load_feed_file(path, regions=core.regions, today=today(core))


def import_records(core, records: list[MemberRecord]) -> ImportReport:
    return import_feed(
        core.unit_of_work(), records=records, hasher=core.hasher, now=core.clock.now()
    )


def import_document(core, document: dict[str, Any]) -> ImportReport:
    text = json.dumps(document, default=str)
    records = parse_feed(text, format="json", regions=core.regions, today=today(core))
    return import_records(core, records)


def example_document() -> dict[str, Any]:
    return json.loads(EXAMPLE_JSON.read_text(), parse_float=Decimal)


def rows(core, model: type) -> list[Any]:
    with core.unit_of_work() as uow:
        found = list(uow.session.scalars(select(model).order_by(model.id)))
        uow.session.expunge_all()  # keep the loaded values past the unit of work's rollback
        return found


def member_id(core, mrn: str) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(
            select(Member.id).where(Member.mrn_digest == core.mrn_digest(mrn))
        )


def snapshot(core) -> dict[str, Any]:
    """Members, bills and premiums by their natural keys, without ids or times."""
    with core.unit_of_work() as uow:
        members = {m.id: m for m in uow.session.scalars(select(Member))}

        def values(row: Any, skip: set[str]) -> dict[str, Any]:
            return {
                column.key: getattr(row, column.key)
                for column in row.__table__.columns
                if column.key not in skip
            }

        timeless = {"id", "member_id", "created_at", "updated_at"}
        return {
            "members": {m.mrn_digest: values(m, timeless) for m in members.values()},
            "bills": {
                (members[b.member_id].mrn_digest, b.bill_number): values(b, timeless)
                for b in uow.session.scalars(select(MedicalBill))
            },
            "premiums": {
                (members[p.member_id].mrn_digest, p.coverage_month): values(p, timeless)
                for p in uow.session.scalars(select(PremiumInvoice))
            },
        }


def empty_every_table(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def test_an_import_creates_members_with_their_bills_and_premiums(core):
    report = import_records(core, example_records(core))

    assert report == ImportReport(
        members_created=3, bills_created=3, premiums_created=3, payments_created=2
    )
    ana = rows(core, Member)[0]
    assert (ana.first_name, ana.last_name, ana.mrn_last4) == ("Ana", "Lopez", "0001")
    assert (ana.region_key, ana.state, ana.phone, ana.language) == (
        "ncal",
        "CA",
        "+14155550101",
        "en",
    )
    assert ana.monthly_premium_cents == 41200
    assert ana.created_at == ana.updated_at == core.clock.now()
    summary = core.account_summary(ana.id, channel="test")
    assert [(b.bill_number, b.amount_cents, b.balance_cents) for b in summary.bills] == [
        ("B-1001", 25000, 20000),
    ]
    assert [(p.coverage_month, p.balance_cents, p.due_date) for p in summary.premiums_due] == [
        (date(2026, 12, 1), 41200, date(2026, 11, 30)),
    ]


def test_an_imported_member_is_identified_by_the_mrn_and_birth_date_of_the_file(core):
    import_records(core, example_records(core))

    found = core.identify(mrn_digest=core.mrn_digest("10000001"), birth_date=date(1980, 4, 12),
                          caller=None, channel="test")  # fmt: skip

    assert found.first_name == "Ana"


def test_importing_the_same_file_again_changes_nothing(core):
    import_records(core, example_records(core))
    before = {model: [row.updated_at for row in rows(core, model)]
              for model in (Member, MedicalBill, PremiumInvoice)}  # fmt: skip
    core.clock.advance(3600)

    report = import_records(core, example_records(core))

    assert report.unchanged
    assert report == ImportReport(members_unchanged=3)
    after = {model: [row.updated_at for row in rows(core, model)] for model in before}
    assert after == before


def test_a_changed_amount_updates_that_bill_and_nothing_else(core):
    import_records(core, example_records(core))
    first_import = core.clock.now()
    core.clock.advance(3600)
    document = example_document()
    document["members"][2]["bills"][0]["paid"] = "280.40"

    report = import_document(core, document)

    assert report == ImportReport(members_unchanged=3, bills_updated=1)
    bills = {bill.bill_number: bill for bill in rows(core, MedicalBill)}
    assert (bills["CO-77120"].paid_cents, bills["CO-77120"].updated_at) == (28040, core.clock.now())
    assert bills["CO-77121"].updated_at == first_import
    assert bills["B-1001"].updated_at == first_import
    assert all(member.updated_at == first_import for member in rows(core, Member))


def test_a_changed_name_and_a_new_premium_update_the_member(core):
    import_records(core, example_records(core))
    core.clock.advance(60)
    document = example_document()
    document["members"][0]["last_name"] = "López"
    document["members"][0]["premiums"].append({"coverage_month": "2027-01", "amount": "412.00"})
    document["members"][1]["premiums"][1]["paid"] = "615.50"

    report = import_document(core, document)

    assert report == ImportReport(members_updated=1, members_unchanged=2, premiums_created=1,
                                  premiums_updated=1)  # fmt: skip
    ana, luis, priya = rows(core, Member)
    assert (ana.last_name, ana.updated_at) == ("López", core.clock.now())
    assert ana.created_at < ana.updated_at
    assert luis.updated_at == priya.updated_at == ana.created_at
    assert core.account_summary(luis.id, channel="test").premiums_due == ()


def test_a_corrected_birth_date_moves_identification_to_the_new_date(core):
    import_records(core, example_records(core))
    document = example_document()
    document["members"][0]["birth_date"] = "1980-04-21"

    assert import_document(core, document) == ImportReport(members_updated=1, members_unchanged=2)
    found = core.identify(mrn_digest=core.mrn_digest("10000001"), birth_date=date(1980, 4, 21),
                          caller=None, channel="test")  # fmt: skip
    assert found.first_name == "Ana"


def test_a_bad_file_is_rejected_whole_and_writes_nothing(core, tmp_path):
    good_rows = EXAMPLE_CSV.read_text()
    bad = tmp_path / "feed.csv"
    # The bad row is last, after good members, bills and premiums.
    bad_row = "bill,20000002,,,,,,,,,,,,,,,,CO-9,2026-10-11,Lab,Dr. Ortiz,12.345,,2026-12-20,\n"
    bad.write_text(good_rows + bad_row)

    with pytest.raises(FeedRejected) as rejected:
        records = load_feed_file(bad, regions=core.regions, today=today(core))
        import_records(core, records)

    assert rejected.value.problems == [
        "row 13 (bill), field amount: not an amount of money: '12.345'"
    ]
    assert rows(core, Member) == rows(core, MedicalBill) == rows(core, PremiumInvoice) == []


def test_a_rejected_file_leaves_what_an_earlier_import_wrote_untouched(core):
    import_records(core, example_records(core))
    before = snapshot(core)
    document = example_document()
    document["members"][0]["first_name"] = "Anna"
    document["members"][2]["bills"][1]["amount"] = "-1"

    with pytest.raises(FeedRejected) as rejected:
        import_document(core, document)

    assert rejected.value.problems == ["members[2].bills[1].amount: must not be negative: '-1'"]
    assert snapshot(core) == before


def test_an_import_that_fails_part_way_writes_nothing(core, monkeypatch):
    real = feed_import._upsert_children

    def failing_on_premiums(uow, kind, *args, **kwargs):
        if kind == feed_import.PREMIUMS:
            raise RuntimeError("the database went away")
        return real(uow, kind, *args, **kwargs)

    monkeypatch.setattr(feed_import, "_upsert_children", failing_on_premiums)

    with pytest.raises(RuntimeError):
        import_records(core, example_records(core))

    assert rows(core, Member) == rows(core, MedicalBill) == []


def test_csv_and_json_of_the_same_data_give_the_same_database(core):
    import_records(core, example_records(core, EXAMPLE_JSON))
    from_json = snapshot(core)
    empty_every_table(core.engine)

    import_records(core, example_records(core, EXAMPLE_CSV))

    assert snapshot(core) == from_json
    assert len(from_json["members"]) == 3
    assert import_records(core, example_records(core, EXAMPLE_JSON)).unchanged


def test_no_mrn_or_birth_date_is_stored_in_any_column_of_any_table(core):
    demo = demo_records(regions=core.regions, today=today(core))
    import_records(core, demo)
    records = example_records(core)  # updates the demo's Ana Lopez, adds two members
    import_records(core, records)
    records += demo
    # Reads and refusals write audit events and identity guards: check those tables too.
    with pytest.raises(IdentityNotVerified):
        core.identify(mrn_digest=core.mrn_digest("10000001"), birth_date=date(1999, 1, 1),
                      caller="+14155550199", channel="test")  # fmt: skip
    core.account_summary(member_id(core, "10000001"), channel="test")

    secrets = {record.mrn for record in records}
    birth_dates = {record.birth_date for record in records}
    for birth in birth_dates:
        secrets |= {birth.isoformat(), f"{birth:%m%d%Y}", f"{birth:%Y%m%d}", f"{birth:%m/%d/%Y}"}
    existing = set(inspect(core.engine).get_table_names())
    seen_values = 0
    with core.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name not in existing:
                continue
            for row in connection.execute(table.select()):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    seen_values += 1
                    if isinstance(value, date) and not isinstance(value, datetime):
                        assert value not in birth_dates, f"{table.name}.{column}"
                    text = json.dumps(value, default=str) if isinstance(value, dict) else str(value)
                    leaked = [secret for secret in secrets if secret in text]
                    assert not leaked, f"{table.name}.{column} holds an MRN or birth date"
    assert seen_values > 100  # the check read real rows


def test_a_big_file_is_looked_up_in_batches_not_member_by_member(core):
    members = []
    for index in range(1200):
        member = example_document()["members"][0]
        member["mrn"] = f"{30000000 + index}"
        members.append(member)
    records = parse_feed(json.dumps({"members": members}, default=str), format="json",
                         regions=core.regions, today=today(core))  # fmt: skip
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(core.engine, "before_cursor_execute", count)
    try:
        first = import_records(core, records)
        selects_first = sum(s.lstrip().upper().startswith("SELECT") for s in statements)
        statements.clear()
        second = import_records(core, records)
        selects_second = sum(s.lstrip().upper().startswith("SELECT") for s in statements)
    finally:
        event.remove(core.engine, "before_cursor_execute", count)

    assert (first.members_created, first.bills_created, first.premiums_created) == (1200,) * 3
    assert second == ImportReport(members_unchanged=1200)
    # 1,200 members are 3 batches: members, bills, premiums and payments elsewhere are read
    # 3 queries each.
    assert selects_first <= 6
    assert selects_second <= 12


def test_an_import_needs_a_timezone_aware_time(core):
    with pytest.raises(ValueError, match="timezone-aware"):
        import_feed(core.unit_of_work(), records=example_records(core), hasher=core.hasher,
                    now=datetime(2026, 11, 27, 12, 0))  # fmt: skip


def _pay_by_phone(core, member_id: int, bill_number: str, cents: int, key: str) -> None:
    outcome = core.pay(
        PaymentRequest(
            member_id=member_id,
            target=PaymentTarget.bill(bill_number),
            amount_cents=cents,
            token=fixed_token("success", "4242"),
            method_kind="card",
            method_brand="visa",
            method_last4="4242",
            idempotency_key=key,
            channel="phone",
        )
    )
    assert outcome.status.value == "succeeded"


def _bill_balance(core, member_id: int, bill_number: str) -> int:
    summary = core.account_summary(member_id, channel="test")
    return next((b.balance_cents for b in summary.bills if b.bill_number == bill_number), 0)


def test_reimporting_a_feed_never_undoes_a_payment_taken_on_the_phone(core):
    from ivr_sim.demo import demo_feed, load_demo

    load_demo(core)
    ana = demo_feed()["members"][0]
    with core.unit_of_work() as uow:
        member_id = uow.session.scalars(
            select(Member.id).where(Member.mrn_digest == core.hasher.mrn(ana["mrn"]))
        ).one()
    _pay_by_phone(core, member_id, "B-1001", 5000, "phone-1")
    assert _bill_balance(core, member_id, "B-1001") == 15000
    report = load_demo(core)  # the same file again
    assert report.bills_updated == 0
    assert _bill_balance(core, member_id, "B-1001") == 15000


def test_a_newer_feed_counts_phone_payments_once_whether_or_not_it_has_seen_them(core):
    from ivr_sim.demo import demo_feed, load_demo

    load_demo(core)
    document = demo_feed()
    ana = document["members"][0]
    with core.unit_of_work() as uow:
        member_id = uow.session.scalars(
            select(Member.id).where(Member.mrn_digest == core.hasher.mrn(ana["mrn"]))
        ).one()
    extracted_before = core.clock.now()
    core.clock.advance(60)
    _pay_by_phone(core, member_id, "B-1001", 5000, "phone-2")
    # A check for $20 arrived by mail; the file was extracted before the phone payment.
    ana["bills"][0]["paid"] = "70.00"
    records = parse_feed_document(document, regions=core.regions, today=date(2026, 11, 27))
    import_feed(
        core.unit_of_work(),
        records=records,
        hasher=core.hasher,
        now=core.clock.now(),
        as_of=extracted_before,
    )
    assert _bill_balance(core, member_id, "B-1001") == 25000 - 7000 - 5000
    # The next file has seen the phone payment too: it is not counted twice.
    core.clock.advance(60)
    ana["bills"][0]["paid"] = "120.00"
    records = parse_feed_document(document, regions=core.regions, today=date(2026, 11, 27))
    import_feed(core.unit_of_work(), records=records, hasher=core.hasher, now=core.clock.now())
    assert _bill_balance(core, member_id, "B-1001") == 25000 - 12000


# --- account key, credit, adjustments and payments made elsewhere ----------------------


def test_the_account_key_credit_and_adjustments_are_stored_and_adjustments_lower_the_balance(
    core,
):
    import_records(core, example_records(core))

    ana, luis, priya = rows(core, Member)
    assert (ana.account_key, ana.credit_cents) == ("KP-00451", 0)
    assert (luis.account_key, luis.credit_cents) == (None, 2000)
    summary = core.account_summary(priya.id, channel="test")
    # CO-77121: $42.00 billed, $12.00 of insurance and adjustments, nothing paid.
    assert [(b.bill_number, b.adjustments_cents, b.balance_cents) for b in summary.bills] == [
        ("CO-77120", 0, 128040),
        ("CO-77121", 1200, 3000),
    ]
    assert core.account_summary(luis.id, channel="test").credit_cents == 2000


def test_payments_made_elsewhere_are_stored_once_and_a_later_file_updates_them(core):
    import_records(core, example_records(core))
    stored = [(p.reference, p.paid_on, p.amount_cents, p.channel) for p in rows(core, FeedPayment)]
    assert stored == [
        ("WEB-5521", date(2026, 10, 3), 5000, "web"),
        ("CHK-88121", date(2026, 11, 20), 61550, "mail"),
    ]
    assert import_records(core, example_records(core, EXAMPLE_CSV)).unchanged

    later = example_document()
    ana = later["members"][0]
    ana["payments"][0]["channel"] = "agent"
    ana["payments"].append(
        {"paid_on": "2026-11-02", "amount": "412.00", "channel": "web",
         "coverage_month": "2026-11", "reference": "WEB-5600"}
    )  # fmt: skip
    ana["credit"] = "15.00"
    report = import_document(core, later)

    assert (report.payments_created, report.payments_updated, report.members_updated) == (1, 1, 1)
    assert [(p.reference, p.channel) for p in rows(core, FeedPayment)] == [
        ("WEB-5521", "agent"),
        ("CHK-88121", "mail"),
        ("WEB-5600", "web"),
    ]
    assert rows(core, Member)[0].credit_cents == 1500


def test_a_payment_made_elsewhere_is_read_with_the_line_s_own_newest_first(core, gateway):
    import_records(core, example_records(core))
    ana = member_id(core, "10000001")
    core.gateway = gateway
    outcome = core.pay(
        PaymentRequest(
            member_id=ana, target=PaymentTarget.premium(), amount_cents=41200,
            token=fixed_token("success", "4242"), method_kind="card", method_brand="visa",
            method_last4="4242", idempotency_key="history-1", channel="phone",
        )
    )  # fmt: skip

    lines = core.payment_history(ana)

    assert [(line.paid_on, line.amount_cents, line.channel, line.reference) for line in lines] == [
        (date(2026, 11, 27), 41200, None, outcome.confirmation_number),
        (date(2026, 10, 3), 5000, "web", "WEB-5521"),
    ]
    assert (lines[1].target_kind, lines[1].bill_number) == (TargetKind.BILL, "B-1001")


def test_a_feed_payment_that_is_one_of_the_line_s_own_is_read_once(core, gateway):
    import_records(core, example_records(core))
    ana = member_id(core, "10000001")
    core.gateway = gateway
    outcome = core.pay(
        PaymentRequest(
            member_id=ana, target=PaymentTarget.premium(), amount_cents=41200,
            token=fixed_token("success", "4242"), method_kind="card", method_brand="visa",
            method_last4="4242", idempotency_key="history-2", channel="phone",
        )
    )  # fmt: skip
    echoed = example_document()
    echoed["members"][0]["payments"].append(
        {"paid_on": "2026-11-27", "amount": "412.00", "channel": "agent",
         "coverage_month": "2026-12", "reference": outcome.confirmation_number}
    )  # fmt: skip
    import_document(core, echoed)

    lines = core.payment_history(ana)

    assert [line.reference for line in lines] == [outcome.confirmation_number, "WEB-5521"]
    assert lines[0].channel is None


def test_a_stored_feed_payment_leaves_the_history_once_older_than_13_months(core, clock):
    import_records(core, example_records(core))
    ana = member_id(core, "10000001")
    assert [line.reference for line in core.payment_history(ana)] == ["WEB-5521"]

    clock.set(datetime(2027, 11, 4, 20, tzinfo=UTC))  # October 3, 2026 is 13 months back

    assert core.payment_history(ana) == ()
