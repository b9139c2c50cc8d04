"""How a member wants to hear from the plan: per kind of message, email, text, both or none.

Pure values and rules. A text goes only to a member who agreed to texts (TCPA): until
they do, a kind set to text or both is sent by email alone, and one set to text alone is
not sent. Written copies of an authorization are not here: the law, not a preference,
says they are sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class MessageKind(enum.StrEnum):
    """The kinds of message a member can choose the delivery of."""

    BILL_READY = "bill_ready"
    DUE_SOON = "due_soon"
    AUTOPAY_UPCOMING = "autopay_upcoming"
    PLAN_INSTALLMENT = "plan_installment"
    PAYMENT_CONFIRMATION = "payment_confirmation"
    PAYMENT_PROBLEM = "payment_problem"


class Delivery(enum.StrEnum):
    EMAIL = "email"
    TEXT = "text"
    BOTH = "both"
    NONE = "none"

    @property
    def by_email(self) -> bool:
        return self in (Delivery.EMAIL, Delivery.BOTH)

    @property
    def by_text(self) -> bool:
        return self in (Delivery.TEXT, Delivery.BOTH)


# Until a member chooses, every kind goes by email (no text without their consent).
DEFAULT_DELIVERY = Delivery.EMAIL
# The order the phone offers the kinds in (its keys 1 to 6).
KINDS = tuple(MessageKind)


def delivery_for(choices: Mapping[str, str], kind: MessageKind) -> Delivery:
    """The member's choice for this kind, or the default."""
    try:
        return Delivery(choices.get(kind.value, DEFAULT_DELIVERY.value))
    except ValueError:
        return DEFAULT_DELIVERY


def channels(delivery: Delivery, *, email_ok: bool, text_ok: bool) -> tuple[str, ...]:
    """Where a message of this delivery goes: "email", "sms", both or none.

    email_ok: the member has a usable email address. text_ok: a usable mobile number
    that agreed to texts and has not opted out.
    """
    chosen = []
    if delivery.by_email and email_ok:
        chosen.append("email")
    if delivery.by_text and text_ok:
        chosen.append("sms")
    return tuple(chosen)
