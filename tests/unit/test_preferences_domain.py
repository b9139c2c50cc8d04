"""Where a message goes, by the member's choice and what they can be reached at."""

from __future__ import annotations

import pytest

from billing_core.domain.preferences import (
    DEFAULT_DELIVERY,
    Delivery,
    MessageKind,
    channels,
    delivery_for,
)


@pytest.mark.parametrize(
    ("delivery", "email_ok", "text_ok", "expected"),
    [
        (Delivery.EMAIL, True, True, ("email",)),
        (Delivery.EMAIL, False, True, ()),
        (Delivery.TEXT, True, True, ("sms",)),
        (Delivery.TEXT, True, False, ()),  # no consent to texts: nothing, not an email
        (Delivery.BOTH, True, True, ("email", "sms")),
        (Delivery.BOTH, True, False, ("email",)),
        (Delivery.BOTH, False, True, ("sms",)),
        (Delivery.NONE, True, True, ()),
    ],
)
def test_a_message_goes_only_where_the_member_chose_and_can_be_reached(
    delivery, email_ok, text_ok, expected
):
    assert channels(delivery, email_ok=email_ok, text_ok=text_ok) == expected


def test_a_kind_never_chosen_goes_by_email_and_a_bad_stored_value_too():
    assert DEFAULT_DELIVERY is Delivery.EMAIL
    assert delivery_for({}, MessageKind.DUE_SOON) is Delivery.EMAIL
    assert delivery_for({"due_soon": "pigeon"}, MessageKind.DUE_SOON) is Delivery.EMAIL
    assert delivery_for({"due_soon": "none"}, MessageKind.DUE_SOON) is Delivery.NONE
