"""The metrics page: off without a token, refused with a wrong one; what the counters count."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families

from billing_core.adapters.jobs import Batches, JobDefinition, batched_job
from billing_core.domain.events import PaymentSettled
from billing_core.domain.payments import PaymentStatus, PaymentTarget
from ivr.jobs import PURGE_CALLS
from tests.conftest import ROOT
from tests.integration.test_payments import BILLS, BIRTH, MRN, PREMIUMS, card
from tests.members import add_member

TOKEN = "a-long-random-scrape-token"


def scrape(app) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the metrics page, by name and labels, as Prometheus would read it."""
    app.config["IVR_METRICS_TOKEN"] = TOKEN
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def sample(app, name: str, **labels: str) -> float:
    """One sample's value; 0 for a series not counted yet."""
    return scrape(app).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def billing(app):
    """The app's own billing core, whose events the app counts."""
    return app.extensions["billing"]


def test_without_a_token_configured_there_is_no_metrics_page(app):
    assert app.config["IVR_METRICS_TOKEN"] == ""
    response = app.test_client().get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", f"bearer {TOKEN}", f"Basic {TOKEN}", TOKEN],
)
def test_a_missing_or_wrong_token_is_refused(app, authorization):
    app.config["IVR_METRICS_TOKEN"] = TOKEN
    headers = {} if authorization is None else {"Authorization": authorization}
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 403
    assert b"ivr_" not in response.data


def test_the_right_token_gets_the_prometheus_text_format_without_a_twilio_signature(app):
    app.config["IVR_METRICS_TOKEN"] = TOKEN
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    families = {
        family.name: family.type
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        if not family.name.endswith("_created")
    }
    assert families == {
        "ivr_calls": "counter",
        "ivr_identifications": "counter",
        "ivr_payments": "counter",
        "ivr_payment_declines": "counter",
        "ivr_webhook_duration_seconds": "histogram",
        "ivr_webhook_failures": "counter",
        "ivr_webhooks_refused": "counter",
        "ivr_job_runs": "counter",
        "ivr_job_duration_seconds": "histogram",
    }


def test_two_apps_in_one_process_count_apart(app, core, clock):
    from ivr import create_app

    other = create_app({"TESTING": True, "ENGINE": core.engine, "CLOCK": clock})
    app.extensions["jobs"].run_now(PURGE_CALLS, clock.now())
    assert sample(app, "ivr_job_runs_total", job=PURGE_CALLS, result="succeeded") == 1
    assert sample(other, "ivr_job_runs_total", job=PURGE_CALLS, result="succeeded") == 0


def test_a_task_run_is_counted_with_its_result_and_time(app, clock):
    app.extensions["jobs"].run_now(PURGE_CALLS, clock.now())
    app.extensions["jobs"].run_now(PURGE_CALLS, clock.now())
    assert sample(app, "ivr_job_runs_total", job=PURGE_CALLS, result="succeeded") == 2
    assert sample(app, "ivr_job_duration_seconds_count", job=PURGE_CALLS) == 2


def test_a_task_that_fails_is_counted_as_failed_and_still_raises(app, clock):
    def broken(now):
        raise RuntimeError("the provider is down")

    counted = app.extensions["metrics"].counted(JobDefinition("broken", "fails", broken))
    with pytest.raises(RuntimeError):
        counted.run(clock.now())
    assert sample(app, "ivr_job_runs_total", job="broken", result="failed") == 1
    assert sample(app, "ivr_job_runs_total", job="broken", result="succeeded") == 0


def test_a_batched_task_counts_its_split_and_each_batch(app, clock):
    batches = Batches(
        split=lambda now: [(1, 10), (10, 20)],
        run=lambda now, key: key[1] - key[0],
        combine=lambda reports: f"{sum(reports)} members",
    )
    counted = app.extensions["metrics"].counted(batched_job("charge", "charges", batches))
    assert counted.run(clock.now()) == "19 members"
    assert sample(app, "ivr_job_runs_total", job="charge", result="succeeded") == 1
    assert sample(app, "ivr_job_runs_total", job="charge-batch", result="succeeded") == 2


def test_payments_are_counted_once_each_however_often_they_are_asked_for(app, billing):
    member_id = add_member(billing, mrn=MRN, birth_date=BIRTH, bills=BILLS, premiums=PREMIUMS)
    request = card(member_id, PaymentTarget.bill("B-200"), 12000)
    assert billing.pay(request).status is PaymentStatus.SUCCEEDED
    assert billing.pay(request).status is PaymentStatus.SUCCEEDED  # the same key: no new charge
    labels = {"status": "succeeded", "method": "card", "channel": "test"}
    assert sample(app, "ivr_payments_total", **labels) == 1


def test_a_payment_left_unknown_then_settled_by_reconcile_counts_both(app, billing):
    from billing_core.adapters.gateways.sandbox import fixed_token

    member_id = add_member(billing, mrn=MRN, birth_date=BIRTH, bills=BILLS, premiums=PREMIUMS)
    token = fixed_token("timeout", "0341")
    outcome = billing.pay(card(member_id, PaymentTarget.bill("B-200"), 12000, token=token))
    assert outcome.status is PaymentStatus.UNKNOWN
    billing.reconcile()
    counted = scrape(app)
    card_payments = {
        dict(labels)["status"]: value
        for (name, labels), value in counted.items()
        if name == "ivr_payments_total" and dict(labels)["method"] == "card"
    }
    assert card_payments["unknown"] == 1
    assert card_payments.get("succeeded", 0) + card_payments.get("failed", 0) == 1


def test_an_observer_that_fails_changes_nothing_of_the_payment(app, billing, caplog):
    member_id = add_member(billing, mrn=MRN, birth_date=BIRTH, bills=BILLS, premiums=PREMIUMS)

    def broken(event):
        raise ValueError("observer bug")

    billing.observe(broken)
    with caplog.at_level(logging.ERROR):
        outcome = billing.pay(card(member_id, PaymentTarget.bill("B-200"), 12000))
    assert outcome.status is PaymentStatus.SUCCEEDED
    assert "an observer failed on PaymentSettled" in caplog.text
    assert sample(app, "ivr_payments_total", status="succeeded", method="card", channel="test")


def test_observers_hear_nothing_of_a_transaction_rolled_back(billing):
    heard = []
    billing.observe(heard.append)
    with billing.unit_of_work() as uow:
        uow.publish(PaymentSettled("succeeded", "card", "phone"))
        uow.rollback()
    with billing.unit_of_work() as uow:
        uow.publish(PaymentSettled("failed", "bank", "phone", "account_closed"))
    assert heard == []
    with billing.unit_of_work() as uow:
        uow.publish(PaymentSettled("succeeded", "card", "phone"))
        uow.commit()
    assert heard == [PaymentSettled("succeeded", "card", "phone")]


def test_a_decline_code_outside_the_gateways_words_is_counted_as_other(app):
    observe = app.extensions["metrics"].observe
    observe(PaymentSettled("failed", "card", "phone", "Declined: call 555-0100 re 4242"))
    observe(PaymentSettled("failed", "cheque", "phone", "do_not_honor"))
    assert sample(app, "ivr_payment_declines_total", code="other", method="card") == 1
    assert sample(app, "ivr_payment_declines_total", code="do_not_honor", method="other") == 1


def test_identifications_are_counted_by_result(app, billing):
    from billing_core.domain.exceptions import IdentityNotVerified

    add_member(billing, mrn=MRN, birth_date=BIRTH, bills=BILLS, premiums=PREMIUMS)
    digest = billing.mrn_digest(MRN)
    caller = "+14155550123"
    billing.identify(mrn_digest=digest, birth_date=BIRTH, caller=caller, channel="phone")
    for _ in range(3):  # three failures from one number lock the MRN for it
        with pytest.raises(IdentityNotVerified):
            billing.identify(
                mrn_digest=digest, birth_date=date(1990, 1, 1), caller=caller, channel="phone"
            )
    with pytest.raises(IdentityNotVerified):
        billing.identify(mrn_digest=digest, birth_date=BIRTH, caller=caller, channel="phone")
    assert sample(app, "ivr_identifications_total", result="matched", channel="phone") == 1
    assert sample(app, "ivr_identifications_total", result="not_matched", channel="phone") == 3
    assert sample(app, "ivr_identifications_total", result="locked_out", channel="phone") == 1


def test_in_multiprocess_mode_the_page_adds_up_every_process_on_the_host(
    app, database_url, tmp_path, monkeypatch
):
    """Two processes (gunicorn workers, a job worker) count; any one's page shows both."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    probe = (
        "import sys; from ivr import create_app; "
        "app = create_app({'TESTING': True, 'DATABASE_URL': sys.argv[1]}); "
        f"app.extensions['jobs'].run_now({PURGE_CALLS!r}, app.extensions['billing'].clock.now())"
    )
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", probe, database_url],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    assert sample(app, "ivr_job_runs_total", job=PURGE_CALLS, result="succeeded") == 2
