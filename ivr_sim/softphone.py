"""A softphone in the terminal: call the line, hear its prompts, type keys and card details.

The call runs through the virtual Twilio, against the app in process (on the database
DATABASE_URL names) or a running server (--url, signing with the auth token). Each
prompt is printed as it is spoken, and read aloud with espeak-ng when it is installed.
What the caller types, one line at a time:

    60000006#                       keys
    (an empty line)                 nothing: the prompt's timeout runs out, in virtual time
    say relay                       speech
    card 4242424242424242 1230 123 94612
                                    a card, into a payment entry (<Pay>)
    bank 110000000 000123456789     a bank account, into a payment entry
    hangup                          hang up (end of input does too)

Input and output are plain functions, so a test (or a script) can drive the loop.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from billing_core.domain.clock import ManualClock
from ivr_sim.call import Call
from ivr_sim.errors import CallEnded, SimError
from ivr_sim.ids import new_sid
from ivr_sim.pay import PayField
from ivr_sim.recorded import ClientRecorder
from ivr_sim.script import (
    DEFAULT_FROM,
    FALLBACK_PATH,
    STATUS_PATH,
    VOICE_PATH,
    TurnRecord,
    channel_prompts,
)
from ivr_sim.transport import Transport

Reader = Callable[[str], str]
Writer = Callable[[str], None]
Speaker = Callable[[str, str], None]

FIELD_NAMES = {
    "payment-card-number": "card number",
    "expiration-date": "expiry MMYY",
    "security-code": "security code",
    "postal-code": "ZIP code",
    "bank-routing-number": "routing number",
    "bank-account-number": "account number",
}
HELP = """Type keys and press Enter (60000006#), or:
  (empty line)                      say nothing: the prompt's timeout runs out
  say WORDS                         speak
  card NUMBER [MMYY] [CVC] [ZIP]    type a card into the payment entry
  bank ROUTING ACCOUNT              type a bank account into the payment entry
  hangup                            hang up (end of input does too)
  help                              this text"""
HANG_UP_WORDS = frozenset({"hangup", "hang up", "hang-up", "bye", "quit", "exit"})


def espeak_speaker() -> Speaker | None:
    """Return a speaker using espeak-ng, or None when it is not installed."""
    program = shutil.which("espeak-ng")
    if program is None:
        return None

    def speak(text: str, language: str) -> None:
        voice = "es" if language.lower().startswith("es") else "en-us"
        # Spoken to the end before the next prompt, as on a phone.
        subprocess.run([program, "-v", voice, text], check=False, capture_output=True)

    return speak


class Softphone:
    """One call from the terminal (or from any reader and writer)."""

    def __init__(
        self,
        channel: Transport,
        *,
        to: str,
        from_: str = DEFAULT_FROM,
        clock: ManualClock | None = None,
        read: Reader = input,
        write: Writer = print,
        speak: Speaker | None = None,
        record_to: Path | None = None,
    ) -> None:
        self.channel = channel
        self.read = read
        self.write = write
        self.speak = speak
        self.clock = clock
        self.call = Call(
            channel,
            to=to,
            from_=from_,
            voice_path=VOICE_PATH,
            status_path=STATUS_PATH,
            fallback_path=FALLBACK_PATH,
            account_sid=new_sid("AC"),
            clock=clock,
        )
        self.recorder = (
            ClientRecorder(record_to, self.call.call_sid, clock.now() if clock else _now())
            if record_to is not None
            else None
        )
        self._shown = 0
        self._dialed = 0

    def run(self) -> Call:
        """Place the call and take the caller's lines until it ends."""
        call = self.call
        if not self.start():
            return call
        while not call.ended:
            try:
                line = self.read(self._prompt())
            except EOFError:
                self.write("")
                line = "hangup"
            try:
                self.act(line.strip())
            except (ValueError, SimError) as problem:
                self.write(f"  ({problem})")
            finally:
                self.show()
        self.write(f"[call ended: {call.end_reason}]")
        return call

    def start(self) -> bool:
        """Place the call; False (and the reason written) when it failed at once."""
        try:
            self.call.start()
        except SimError as problem:
            self.write(f"[the call failed: {problem}]")
            return False
        finally:
            self.show()
        return True

    def act(self, line: str) -> None:
        """Do what one typed line says."""
        call = self.call
        words = line.split()
        command = words[0].lower() if words else ""
        try:
            if not line:
                call.silence()
            elif line.lower() in HANG_UP_WORDS:
                call.hang_up()
            elif command in ("help", "?"):
                self.write(HELP)
            elif command == "say":
                call.say(line[len(words[0]) :].strip())
            elif command == "card":
                self._card(words[1:])
            elif command == "bank":
                if len(words) != 3:
                    raise ValueError("bank takes the routing number and the account number")
                call.pay_bank(words[1], words[2])
            else:
                call.press(line.replace(" ", ""))
        except CallEnded:
            pass

    def _card(self, fields: list[str]) -> None:
        """Type a card: the number, then MMYY, security code and ZIP, defaulted if left out."""
        if not fields:
            raise ValueError("card takes the number, then optionally MMYY, CVC and ZIP")
        number = fields[0]
        defaults = ["1230", "1234" if number.startswith(("34", "37")) else "123", "94612"]
        expiry, cvc, postal = (fields[1:] + defaults[len(fields) - 1 :])[:3]
        self.call.pay_card(number, expiry=expiry, cvc=cvc, postal=postal)

    def _prompt(self) -> str:
        waiting = self.call.waiting
        if isinstance(waiting, PayField):
            return f"pay ({FIELD_NAMES.get(waiting.field, waiting.field)})> "
        return "keys> "

    def show(self) -> None:
        """Write (and speak) what was heard since the last time, and record the turns."""
        call = self.call
        heard = call.heard
        for line, language in zip(
            heard[self._shown :], call.heard_languages[self._shown :], strict=True
        ):
            self.write(f"  {line}")
            if self.speak is not None:
                self.speak(line, language)
        self._shown = len(heard)
        for number in call.dialed[self._dialed :]:
            self.write(f"  [dialing {number}]")
        self._dialed = len(call.dialed)
        if self.recorder is not None:
            self.recorder.write(self.turns())

    def turns(self) -> list[TurnRecord]:
        """The call's requests so far, with the prompts each answer spoke."""
        return [
            TurnRecord(t.path, dict(t.params), t.twiml, t.at, channel_prompts(self.channel, i))
            for i, t in enumerate(self.call.transcript)
        ]


def _now() -> datetime:
    return datetime.now(UTC)
