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


def spoken_words(text: str) -> float:
    """Return how many words `text` takes to say, numbers read the way a voice reads them.

    A confirmation number is read digit by digit; "$250.00" or "9/14/2026" take several
    words, not one.
    """
    words = 0.0
    for token in text.split():
        digits = sum(ch.isdigit() for ch in token)
        if digits >= 5 and token.strip(".,;:").isdigit():
            words += digits
        else:
            words += 1 + digits // 2
    return words


def speaking_seconds(text: str) -> float:
    """Return how long it takes to speak `text` at WORDS_PER_MINUTE."""
    return spoken_words(text) * 60.0 / WORDS_PER_MINUTE


def ssml_seconds(value: str) -> float:
    """Return the seconds an SSML time such as "500ms" or "2s" stands for."""
    match = _SSML_TIME.match(value)
    if match is None:
        raise ValueError(f"not an SSML time: {value!r}")
    number = float(match.group(1))
    return number / 1000.0 if match.group(2) == "ms" else number
