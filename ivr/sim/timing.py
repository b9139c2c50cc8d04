"""How long things take on a virtual call."""

from __future__ import annotations

import re

# A text-to-speech voice and an unhurried caller both speak about 150 words a minute.
WORDS_PER_MINUTE = 150.0
# A <Play> file's length is unknown without fetching it, so every play counts the same.
PLAY_SECONDS = 5.0
# Time for one key press on the keypad, tone included.
KEY_SECONDS = 0.3
# Twilio's "auto" speechTimeout ends the recognition after a short pause.
AUTO_SPEECH_TIMEOUT = 1.0

_SSML_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")


def speaking_seconds(text: str) -> float:
    """Return how long it takes to speak `text` at WORDS_PER_MINUTE."""
    return len(text.split()) * 60.0 / WORDS_PER_MINUTE


def ssml_seconds(value: str) -> float:
    """Return the seconds an SSML time such as "500ms" or "2s" stands for."""
    match = _SSML_TIME.match(value)
    if match is None:
        raise ValueError(f"not an SSML time: {value!r}")
    number = float(match.group(1))
    return number / 1000.0 if match.group(2) == "ms" else number
