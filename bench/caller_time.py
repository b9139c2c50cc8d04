"""Caller time: how long a member spends on the phone to pay, with speech at 150 words a minute.

The virtual Twilio counts speaking time (150 words a minute), key presses (0.3 s a key)
and the caller's pause before answering (1 s by default). The targets (DESIGN §7):
a full-balance card payment with a new card under 90 s, with a saved card under 60 s.
Vendors quote 2 to 4 minutes for an IVR card payment: that is the baseline here.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from billing_core.adapters.db import make_engine
from billing_core.adapters.migrate import upgrade as migrate
from billing_core.domain.clock import ManualClock
from ivr import create_app
from ivr_sim import VirtualTwilio
from ivr_sim.timing import spoken_words
from tests.members import add_member

TARGETS = {"new card": 90.0, "saved card": 60.0}
VENDOR_BASELINE = (120.0, 240.0)


def _app(folder: Path):
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    migrate(url)
    clock = ManualClock(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    app = create_app(
        {
            "TESTING": True,
            "ENGINE": make_engine(url),
            "CLOCK": clock,
            "IVR_PUBLIC_BASE_URL": "https://bench.example.test",
        }
    )
    core = app.extensions["billing"]
    add_member(
        core,
        mrn="10000001",
        birth_date=date(1980, 4, 12),
        first_name="Ana",
        bills=[("B-1", date(2026, 9, 14), "Oakland Medical Center", 25000, 0, date(2026, 12, 15))],
        premiums=[],
    )
    return app, clock


WORDS_PER_SECOND = 150 / 60


def press(call, keys: str, *, eager: bool) -> None:
    """Press keys 1 s after the prompt, or, eager, 1 s after hearing the option that says them."""
    if eager:
        lines = call.heard_since_input
        for index, line in enumerate(lines):
            if line.rstrip(".").endswith(f"press {keys}"):
                rest = sum(spoken_words(later) for later in lines[index + 1 :])
                call.press(keys, delay=1.0 - rest / WORDS_PER_SECOND)
                return
    call.press(keys)


def pay_in_full(twilio: VirtualTwilio, *, saved: bool, eager: bool) -> tuple[float, int]:
    """Return the caller's seconds from dial to hearing the confirmation number, and words heard."""
    call = twilio.call(to="+18773659900", from_="+14155550123")
    call.press("10000001#")
    call.press("04121980")
    press(call, "1", eager=eager)  # make a payment (one bill: nothing to choose)
    press(call, "1", eager=eager)  # the full balance
    press(call, "1", eager=eager)  # the saved card, or a new card
    if not saved:
        call.pay_card("4242424242424242", expiry="1230", cvc="123", postal="94612")
    press(call, "1", eager=eager)  # pay now
    heard = call.heard
    confirmation = next(
        i for i, line in enumerate(heard) if line.startswith("Your confirmation number is")
    )
    # Stop the clock when the confirmation number has been heard, not after the options.
    after = sum(spoken_words(line) for line in heard[confirmation + 1 :])
    elapsed = call.elapsed - after / WORDS_PER_SECOND
    if not saved:
        call.press("2")  # save the card for the next call
    call.hang_up()
    return elapsed, round(sum(spoken_words(line) for line in heard[: confirmation + 1]))


def _reset(app, *, forget_cards: bool) -> None:
    """Put the bill back to unpaid (and forget saved cards) so each run pays the same."""
    from billing_core.adapters.models import MedicalBill, SavedPaymentMethod

    with app.extensions["billing"].unit_of_work() as uow:
        for bill in uow.session.query(MedicalBill):
            bill.paid_cents = 0
        if forget_cards:
            uow.session.query(SavedPaymentMethod).delete()
        uow.commit()


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        app, _clock = _app(Path(folder))
        with VirtualTwilio.for_app(app, clock=app.extensions["billing"].clock) as twilio:
            for eager in (False, True):
                new_card, new_words = pay_in_full(twilio, saved=False, eager=eager)
                _reset(app, forget_cards=False)
                saved_card, saved_words = pay_in_full(twilio, saved=True, eager=eager)
                _reset(app, forget_cards=True)
                rows.append((eager, "new card", new_card, new_words))
                rows.append((eager, "saved card", saved_card, saved_words))
    print("Caller time for a full-balance payment, dial to confirmation number")
    print("(virtual seconds: speech at 150 words/min, 0.3 s a key, 1 s before each answer)")
    print(f"{'caller':<34}{'case':<12}{'measured':>9}{'target':>8}{'vendors':>11}{'words':>7}")
    low, high = VENDOR_BASELINE
    for eager, case, seconds, words in rows:
        who = "presses once the option is heard" if eager else "listens to every prompt"
        print(
            f"{who:<34}{case:<12}{seconds:>8.1f}s{TARGETS[case]:>7.0f}s"
            f"{low:>5.0f}-{high:.0f}s{words:>7}"
        )


if __name__ == "__main__":
    main()
