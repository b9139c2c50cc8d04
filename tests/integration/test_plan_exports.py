"""What the billing system of record gets about payment plans: the plans export, and the
plan and installment of each payment in the ledger export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

from billing_core.adapters.gateways.sandbox import fixed_token
from billing_core.adapters.plans_csv import PLAN_EXPORT_COLUMNS, csv_text
from billing_core.domain.payments import PaymentTarget
from billing_core.services.payments import PaymentRequest
from tests.integration.test_plans import change_token, member, set_up

DEC_27_NOON = datetime(2026, 12, 27, 12, tzinfo=UTC)
JAN_27_NOON = datetime(2027, 1, 27, 12, tzinfo=UTC)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def an_active_and_a_lapsed_plan(core) -> tuple[int, int]:
    """Two six-month plans of $1,251.00: one paying every month, one missing two in a row."""
    paying = set_up(core, member(core)).plan_id
    lapsing = set_up(core, member(core)).plan_id
    change_token(core, lapsing, "declined")
    core.run_plans(DEC_27_NOON)
    assert core.run_plans(JAN_27_NOON).lapsed == [lapsing]
    return paying, lapsing


def test_the_plans_export_gives_an_active_and_a_lapsed_plan_with_their_counts_and_sums(core):
    paying, lapsing = an_active_and_a_lapsed_plan(core)
    rows = {int(row["plan_id"]): row for row in csv_rows(core.export_plans())}
    assert list(rows) == [paying, lapsing]

    active = rows[paying]
    assert (active["status"], active["months"], active["total"]) == ("active", "6", "1251.00")
    assert (active["first_installment"], active["monthly"]) == ("208.50", "208.50")
    assert (active["installments_paid"], active["installments_missed"]) == ("3", "0")
    assert (active["paid"], active["remaining"]) == ("625.50", "625.50")
    assert (active["next_due_on"], active["next_amount"]) == ("2027-02-27", "208.50")
    assert active["lapsed_at"] == ""
    assert (active["method_kind"], active["method_brand"], active["method_last4"]) == (
        "card",
        "visa",
        "4242",
    )
    assert active["bill_numbers"] == "B-1 B-2"
    assert len(active["member_mrn_last4"]) == 4

    lapsed = rows[lapsing]
    assert lapsed["status"] == "lapsed"
    assert (lapsed["installments_paid"], lapsed["installments_missed"]) == ("1", "2")
    assert (lapsed["paid"], lapsed["remaining"]) == ("208.50", "1042.50")
    assert (lapsed["next_due_on"], lapsed["next_amount"]) == ("", "")
    assert lapsed["lapsed_at"] == JAN_27_NOON.isoformat()
    assert lapsed["updated_at"] == JAN_27_NOON.isoformat()


def test_the_csv_and_json_exports_carry_the_same_plans_and_values(core):
    an_active_and_a_lapsed_plan(core)
    from_csv = csv_rows(core.export_plans(file_format="csv"))
    from_json = json.loads(core.export_plans(file_format="json"))["plans"]
    assert [list(plan) for plan in from_json] == [list(PLAN_EXPORT_COLUMNS)] * 2
    assert [{k: csv_text(v) for k, v in plan.items()} for plan in from_json] == from_csv
    assert isinstance(from_json[0]["installments_paid"], int)
    assert from_json[0]["bill_numbers"] == ["B-1", "B-2"]
    assert from_json[1]["next_due_on"] is None


def test_a_plan_whose_installments_were_charged_in_the_window_is_exported(core):
    paying, lapsing = an_active_and_a_lapsed_plan(core)
    # Both plans were set up on November 27: only their installments changed since.
    december = csv_rows(core.export_plans(date(2026, 12, 1)))
    assert [int(row["plan_id"]) for row in december] == [paying, lapsing]
    assert december[0]["updated_at"] == JAN_27_NOON.isoformat()
    assert csv_rows(core.export_plans(date(2027, 1, 28))) == []


def test_exporting_the_same_window_again_gives_the_same_rows(core):
    an_active_and_a_lapsed_plan(core)
    for file_format in ("csv", "json"):
        first = core.export_plans(date(2026, 12, 1), file_format)
        assert core.export_plans(date(2026, 12, 1), file_format) == first


def test_a_cancelled_plan_still_shows_what_its_bills_owe_and_nothing_due(core):
    from tests.integration.test_plans import card

    plan = set_up(core, member(core), method=card("insufficient-funds", "9995"))
    [row] = csv_rows(core.export_plans())
    assert (row["plan_id"], row["status"]) == (str(plan.plan_id), "cancelled")
    assert (row["installments_paid"], row["paid"], row["remaining"]) == ("0", "0.00", "1251.00")
    assert (row["next_due_on"], row["method_last4"]) == ("", "9995")


def test_ivr_plans_export_writes_csv_or_json_for_a_window(app, core):
    paying, lapsing = an_active_and_a_lapsed_plan(core)
    runner = app.test_cli_runner()
    as_csv = runner.invoke(args=["plans", "export", "--since", "2026-12-01"])
    assert as_csv.exit_code == 0, as_csv.output
    assert [int(row["plan_id"]) for row in csv_rows(as_csv.output)] == [paying, lapsing]
    as_json = runner.invoke(args=["plans", "export", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert [plan["status"] for plan in json.loads(as_json.output)["plans"]] == [
        "active",
        "lapsed",
    ]
    refused = runner.invoke(args=["plans", "export", "--since", "December"])
    assert refused.exit_code != 0


# --- the ledger export ------------------------------------------------------------------


def test_the_ledger_export_names_the_plan_and_installment_each_payment_paid(core):
    member_id = member(core, premiums=[(date(2026, 12, 1), 41_200, 0)])
    plan = set_up(core, member_id).plan_id
    core.run_plans(DEC_27_NOON)
    core.pay(
        PaymentRequest(
            member_id=member_id,
            target=PaymentTarget.premium(),
            amount_cents=41_200,
            token=fixed_token("success", "4242"),
            method_kind="card",
            method_brand="visa",
            method_last4="4242",
            idempotency_key="premium-1",
            channel="phone",
            call_sid="CA-premium",
        )
    )
    rows = csv_rows(core.export_payments_csv(date(2026, 11, 1)))
    assert list(rows[0])[-3:] == ["plan_id", "plan_installment", "account_key"]
    assert [(r["target"], r["plan_id"], r["plan_installment"]) for r in rows] == [
        ("plan", str(plan), "1"),
        ("premium", "", ""),
        ("plan", str(plan), "2"),
    ]
