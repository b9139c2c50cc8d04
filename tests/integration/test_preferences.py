"""Members' choices of how to hear from the plan, consent to texts, and paperless billing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from billing_core.adapters.models import AuditEvent, PaperlessEnrollment, TextAgreement
from billing_core.domain.preferences import Delivery, MessageKind
from billing_core.domain.text_keywords import parse_keyword
from billing_core.services.preferences import PaperlessTerms, PreferenceNotAllowed
from tests.members import add_member

PHONE = "+15105550123"


def member(core, **contacts) -> int:
    contacts.setdefault("phone", PHONE)
    contacts.setdefault("email", "ana@example.org")
    return add_member(core, mrn="20000417", birth_date=date(1975, 6, 30), **contacts)


def terms(core) -> PaperlessTerms:
    return PaperlessTerms(
        text="By pressing 1, you agree to get your bills by email.",
        wording_version="paperless-v1",
        accepted_at=core.clock.now(),
        channel="phone",
        call_sid="CA-paperless",
    )


def count(core, model) -> int:
    with core.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_every_kind_goes_by_email_until_the_member_chooses(core):
    chosen = core.message_preferences(member(core))
    assert set(chosen.choices.values()) == {Delivery.EMAIL}
    assert (chosen.email, chosen.phone, chosen.texts_agreed, chosen.paperless) == (
        "ana@example.org",
        PHONE,
        False,
        False,
    )


def test_a_choice_is_kept_and_audited(core):
    member_id = member(core)
    core.choose_delivery(member_id, MessageKind.DUE_SOON, Delivery.NONE, channel="phone")
    assert core.message_preferences(member_id).choices[MessageKind.DUE_SOON] is Delivery.NONE
    with core.unit_of_work() as uow:
        actions = list(uow.session.scalars(select(AuditEvent.action)))
    assert "preference_changed" in actions


def test_email_or_text_needs_the_address_on_file(core):
    member_id = member(core, phone=None, email=None)
    for delivery, reason in (
        (Delivery.EMAIL, PreferenceNotAllowed.NO_EMAIL),
        (Delivery.TEXT, PreferenceNotAllowed.NO_PHONE),
    ):
        with pytest.raises(PreferenceNotAllowed) as refused:
            core.choose_delivery(member_id, MessageKind.BILL_READY, delivery, channel="phone")
        assert refused.value.reason == reason


def test_texts_are_allowed_after_consent_until_a_stop_and_again_after_a_start(core):
    member_id = member(core)
    core.agree_to_texts(member_id, text="I agree to texts.", channel="phone", call_sid="CA-1")
    assert core.message_preferences(member_id).texts_agreed
    with core.unit_of_work() as uow:
        [agreement] = uow.session.scalars(select(TextAgreement))
        assert (agreement.phone, agreement.consent_text, agreement.call_sid) == (
            PHONE,
            "I agree to texts.",
            "CA-1",
        )
    core.texted_keyword(PHONE, parse_keyword("STOP"))
    assert not core.message_preferences(member_id).texts_agreed
    core.texted_keyword(PHONE, parse_keyword("START"))
    assert core.message_preferences(member_id).texts_agreed


def test_paperless_is_turned_on_once_with_its_terms_and_off_again(core):
    member_id = member(core)
    assert core.paperless_on(member_id, terms(core))
    assert not core.paperless_on(member_id, terms(core))  # already on: no second record
    assert core.message_preferences(member_id).paperless
    with core.unit_of_work() as uow:
        [enrollment] = uow.session.scalars(select(PaperlessEnrollment))
        assert (enrollment.terms_text, enrollment.email) == (terms(core).text, "ana@example.org")
    assert core.paperless_off(member_id, channel="phone")
    assert not core.paperless_off(member_id, channel="phone")
    assert not core.message_preferences(member_id).paperless
    assert core.paperless_on(member_id, terms(core))  # on again: a new enrollment
    assert count(core, PaperlessEnrollment) == 2


def test_paperless_needs_an_email_address(core):
    with pytest.raises(PreferenceNotAllowed):
        core.paperless_on(member(core, email=None), terms(core))


def test_a_paperless_member_s_statement_is_emailed_and_another_s_mailed(core):
    from billing_core.adapters.models import Member

    member_id = member(core)
    with core.unit_of_work() as uow:
        row = uow.session.get(Member, member_id)
        row.address_line1, row.address_city = "12 Linden Street", "Oakland"
        row.address_state, row.address_zip = "CA", "94607"
        uow.commit()
    mailed = core.request_document(member_id, "premium_statement", channel="phone")
    core.paperless_on(member_id, terms(core))
    emailed = core.request_document(member_id, "premium_statement", channel="phone")
    assert (mailed.delivery.value, emailed.delivery.value) == ("mail", "email")
