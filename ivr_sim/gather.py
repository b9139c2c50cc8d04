"""A <Gather> waiting for the caller, and what it does with keys, speech and silence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr_sim.timing import AUTO_SPEECH_TIMEOUT, KEY_SECONDS, speaking_seconds

if TYPE_CHECKING:
    from ivr_sim.call import Call


@dataclass
class GatherState:
    """The <Gather> now waiting: its settings (Twilio's defaults filled in) and prompt times."""

    action: str  # absolute URL: the action attribute resolved, or the document's own URL
    method: str
    timeout: float
    finish_on_key: str
    num_digits: int | None
    input: str
    speech_timeout: str | None
    hints: str | None
    language: str
    action_on_empty_result: bool
    barge_in: bool
    prompt_started: float  # virtual time the nested prompts began
    prompt_ended: float  # virtual time they finished and the timeout began

    def accepts(self, kind: str) -> bool:
        """Tell whether this Gather listens for `kind` input ("dtmf" or "speech")."""
        return kind in self.input.split()

    def take_digits(self, call: Call, keys: str) -> None:
        """Collect keys typed from now on and submit them as Twilio would."""
        collected = ""
        finished_on = ""
        for key in keys:
            call.advance(KEY_SECONDS)
            if self.finish_on_key and key == self.finish_on_key:
                # finishOnKey ends the Gather at once, even before any digit: then the
                # input is empty, and only actionOnEmptyResult posts it.
                finished_on = key
                break
            collected += key
            if self.num_digits is not None and len(collected) >= self.num_digits:
                break
        else:
            # Neither finishOnKey nor numDigits ended it: Twilio waits out the timeout.
            call.advance(self.timeout)
        if not collected:
            self.take_nothing(call, finished_on)
            return
        call.fetch(self.action, self.method, {"Digits": collected, "FinishedOnKey": finished_on})

    def take_speech(self, call: Call, text: str, confidence: float) -> None:
        """Hear `text` spoken from now on and submit the transcription."""
        call.advance(speaking_seconds(text) + self.end_of_speech_seconds())
        call.fetch(
            self.action, self.method, {"SpeechResult": text, "Confidence": f"{confidence:g}"}
        )

    def take_nothing(self, call: Call, finished_on: str = "") -> None:
        """End with no input: post the action only if actionOnEmptyResult says so.

        `finished_on` is the finishOnKey when the caller pressed it alone; a timeout has none.
        """
        if self.action_on_empty_result:
            params = {"Digits": "", "FinishedOnKey": finished_on} if finished_on else {}
            call.fetch(self.action, self.method, params)
        else:
            call.note("the <Gather> ends with no input: the call goes on with the next verb")
        # Otherwise the call goes on with the verb after the <Gather>.

    def end_of_speech_seconds(self) -> float:
        """Return how long Twilio waits after speech stops before it submits."""
        if self.speech_timeout is None:
            return self.timeout
        if self.speech_timeout == "auto":
            return AUTO_SPEECH_TIMEOUT
        return float(self.speech_timeout)
