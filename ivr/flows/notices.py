"""How notices are sent: for each kind, email, text, both or none; texts only with consent."""

from __future__ import annotations

from flask import Blueprint
from twilio.twiml.voice_response import Say, VoiceResponse

from billing_core.domain.preferences import KINDS, Delivery, MessageKind, channels
from billing_core.services.preferences import PreferenceNotAllowed, Preferences
from ivr.call_state import NoticesDraft
from ivr.kernel import Turn, agreed, answered, ask, done, global_key, go, no_answer, retry, step
from ivr.prompts import Prompt
from ivr.speech import Digits, Fragment

bp = Blueprint("notices", __name__, url_prefix="/voice/notices")

# What each kind of notice is called, and each delivery.
KIND_NAMES = {
    MessageKind.BILL_READY: Prompt.KIND_BILL_READY,
    MessageKind.DUE_SOON: Prompt.KIND_DUE_SOON,
    MessageKind.AUTOPAY_UPCOMING: Prompt.KIND_AUTOPAY_UPCOMING,
    MessageKind.PLAN_INSTALLMENT: Prompt.KIND_PLAN_INSTALLMENT,
    MessageKind.PAYMENT_CONFIRMATION: Prompt.KIND_PAYMENT_CONFIRMATION,
    MessageKind.PAYMENT_PROBLEM: Prompt.KIND_PAYMENT_PROBLEM,
}
DELIVERY_NAMES = {
    Delivery.EMAIL: Prompt.DELIVERY_EMAIL,
    Delivery.TEXT: Prompt.DELIVERY_TEXT,
    Delivery.BOTH: Prompt.DELIVERY_BOTH,
}
# The keys of the delivery question, in the order it says them.
DELIVERY_KEYS = {"1": Delivery.EMAIL, "2": Delivery.TEXT, "3": Delivery.BOTH, "4": Delivery.NONE}
REFUSALS = {
    PreferenceNotAllowed.NO_EMAIL: Prompt.NOTICE_NO_EMAIL,
    PreferenceNotAllowed.NO_PHONE: Prompt.NOTICE_NO_PHONE,
}


# A delivery as it works out: the channels it reaches, back as a delivery.
_REACHED = {
    ("email", "sms"): Delivery.BOTH,
    ("email",): Delivery.EMAIL,
    ("sms",): Delivery.TEXT,
    (): Delivery.NONE,
}


def effective(chosen: Preferences, delivery: Delivery) -> Delivery:
    """How a kind is really sent: texts only with consent and no STOP, email with an address."""
    reached = channels(delivery, email_ok=chosen.email is not None, text_ok=chosen.texts_agreed)
    return _REACHED[reached]


def kind_name(kind: str | None) -> Fragment:
    return Fragment(KIND_NAMES[MessageKind(kind or MessageKind.BILL_READY)])


@step(bp, "", member=True)
def menu(turn: Turn) -> VoiceResponse:
    """Say how each kind of notice is sent now, a key for each to change it."""
    chosen = turn.billing.message_preferences(turn.call.member_id)
    turn.call.notices = NoticesDraft()
    options = [
        kind_option(turn, kind, effective(chosen, chosen.choices[kind]), key)
        for key, kind in enumerate(KINDS, start=1)
    ]
    options.append(turn.say(Prompt.MENU_BACK))
    return ask(turn, options, kind_answer, num_digits=1)


def kind_option(turn: Turn, kind: MessageKind, delivery: Delivery, key: int) -> Say:
    """One kind of notice as it is sent now, with its key."""
    if delivery is Delivery.NONE:
        return turn.say(Prompt.NOTICE_KIND_OFF, kind=Fragment(KIND_NAMES[kind]), key=str(key))
    return turn.say(
        Prompt.NOTICE_KIND_OPTION,
        kind=Fragment(KIND_NAMES[kind]),
        delivery=Fragment(DELIVERY_NAMES[delivery]),
        key=str(key),
    )


@step(bp, "/kind", member=True, answer=True)
def kind_answer(turn: Turn) -> VoiceResponse:
    """Take the kind of notice to change."""
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "notice_kind", menu)
    if digits.isdigit() and 1 <= int(digits) <= len(KINDS):
        done(turn, "notice_kind")
        turn.call.notices = NoticesDraft(kind=KINDS[int(digits) - 1].value)
        return go(turn, ask_delivery)
    return global_key(turn, digits, menu) or retry(turn, "notice_kind", menu, Prompt.NOT_A_CHOICE)


@step(bp, "/delivery", member=True)
def ask_delivery(turn: Turn) -> VoiceResponse:
    """Ask how this kind of notice should be sent."""
    draft = turn.call.notices
    if draft.kind is None:
        return go(turn, menu)
    prompts = [turn.say(Prompt.NOTICE_ASK_DELIVERY, kind=kind_name(draft.kind))]
    return ask(turn, prompts, delivery_answer, num_digits=1)


@step(bp, "/delivery/answer", member=True, answer=True)
def delivery_answer(turn: Turn) -> VoiceResponse:
    """Keep the delivery chosen; texts first need the member's consent to them."""
    draft = turn.call.notices
    if draft.kind is None:
        return go(turn, menu)
    digits = answered(turn)
    if not digits:
        return no_answer(turn, "notice_delivery", ask_delivery)
    if digits not in DELIVERY_KEYS:
        return global_key(turn, digits, ask_delivery) or retry(
            turn, "notice_delivery", ask_delivery, Prompt.NOT_A_CHOICE
        )
    done(turn, "notice_delivery")
    delivery = DELIVERY_KEYS[digits]
    chosen = turn.billing.message_preferences(turn.call.member_id)
    if delivery.by_email and chosen.email is None:
        return go(turn, ask_delivery, turn.say(Prompt.NOTICE_NO_EMAIL))
    if delivery.by_text and chosen.phone is None:
        return go(turn, ask_delivery, turn.say(Prompt.NOTICE_NO_PHONE))
    draft.delivery = delivery.value
    if delivery.by_text and not chosen.texts_agreed:
        return go(turn, text_consent)
    return keep(turn, MessageKind(draft.kind), delivery)


@step(bp, "/consent", member=True)
def text_consent(turn: Turn) -> VoiceResponse:
    """Read the consent to texts (TCPA) inside the prompt; 1 agrees."""
    phone = turn.billing.message_preferences(turn.call.member_id).phone
    if phone is None or turn.call.notices.delivery is None:
        return go(turn, ask_delivery)
    turn.call.notices.phone_last4 = phone[-4:]
    prompts = [turn.say(Prompt.TEXT_CONSENT, **consent_values(turn, phone))]
    return ask(turn, prompts, consent_answer, num_digits=1)


def consent_values(turn: Turn, phone: str) -> dict[str, object]:
    return {"payee": turn.billing.regions.plan_name, "last4": Digits(phone[-4:])}


@step(bp, "/consent/answer", member=True, answer=True)
def consent_answer(turn: Turn) -> VoiceResponse:
    """On 1, record the consent in the words read and keep the choice; on 2, choose again."""
    call, draft = turn.call, turn.call.notices
    phone = turn.billing.message_preferences(call.member_id).phone
    if draft.kind is None or draft.delivery is None or phone is None:
        return go(turn, menu)
    answer = agreed(turn, "text_consent", text_consent, declined=ask_delivery)
    if answer is not None:
        return answer
    if phone[-4:] != draft.phone_last4:
        return go(turn, text_consent)  # the phone on file changed since: read it again
    turn.billing.agree_to_texts(
        call.member_id,
        text=turn.voice.text(Prompt.TEXT_CONSENT, **consent_values(turn, phone)),
        channel="phone",
        call_sid=call.call_sid,
        caller_number=turn.form.get("From"),
    )
    said = []
    if not turn.billing.message_preferences(call.member_id).texts_agreed:
        # The number itself said STOP, and this call is not from it: its START is needed.
        said.append(turn.say(Prompt.TEXTS_STOPPED_THERE, last4=Digits(phone[-4:])))
    return keep(turn, MessageKind(draft.kind), Delivery(draft.delivery), *said)


def keep(turn: Turn, kind: MessageKind, delivery: Delivery, *before: Say) -> VoiceResponse:
    """Store the choice and say it (after what `before` says); back to the list of notices."""
    call = turn.call
    try:
        turn.billing.choose_delivery(
            call.member_id, kind, delivery, channel="phone", call_sid=call.call_sid
        )
    except PreferenceNotAllowed as refused:
        return go(turn, ask_delivery, turn.say(REFUSALS[refused.reason]))
    if delivery is Delivery.NONE:
        said = turn.say(Prompt.NOTICE_STOPPED, kind=Fragment(KIND_NAMES[kind]))
    else:
        said = turn.say(
            Prompt.NOTICE_SAVED,
            kind=Fragment(KIND_NAMES[kind]),
            delivery=Fragment(DELIVERY_NAMES[delivery]),
        )
    return go(turn, menu, *before, said)
