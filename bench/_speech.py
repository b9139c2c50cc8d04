"""Spoken length of prompts: each sentence synthesised with espeak-ng, as Twilio would read it."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import wave
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from babel.dates import format_date, format_skeleton

ESPEAK = "espeak-ng"
WORDS_PER_MINUTE = 160
INSTALL_HINT = "make bench-setup (or: apt-get install -y espeak-ng)"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_MONEY = re.compile(r"(?:US)?\$(\d[\d,]*)(?:\.(\d\d))?")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")


def available() -> bool:
    """Tell whether espeak-ng is on PATH."""
    return shutil.which(ESPEAK) is not None


def espeak_voice(language: str | None) -> str:
    """Return the espeak-ng voice for a Twilio language such as "es-US"."""
    return "es" if (language or "en").lower().startswith("es") else "en-us"


def sentences(text: str) -> list[str]:
    """Split spoken text into sentences, the unit an early caller stops listening at."""
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


def _locale(voice: str) -> str:
    return "es_US" if voice == "es" else "en_US"


def _characters(text: str) -> str:
    # say-as characters: one digit (or letter) at a time; punctuation becomes a short pause.
    return " ".join(ch if ch.isalnum() else "," for ch in text if not ch.isspace())


def _date(text: str, order: str | None, voice: str) -> str:
    parts = [int(p) for p in re.findall(r"\d+", text)]
    fields = dict(zip(order or "mdy", parts, strict=False))
    try:
        # Without a year ("md", "dm") any leap year reads February 29 as a day.
        day = date(fields.get("y", 2000), fields["m"], fields["d"])
    except (KeyError, ValueError):
        return text
    if "y" not in fields:
        return format_skeleton("MMMMd", day, locale=_locale(voice))
    return format_date(day, "long", locale=_locale(voice))


def _money(match: re.Match[str], voice: str) -> str:
    # Twilio's voices read "$1,234.56" as dollars and cents; espeak reads "dollar one ...".
    dollars = match.group(1).replace(",", "")
    cents = match.group(2)
    spanish = voice == "es"
    if spanish:
        unit = "dólar" if dollars == "1" else "dólares"
    else:
        unit = "dollar" if dollars == "1" else "dollars"
    spoken = f"{dollars} {unit}"
    if cents and cents != "00":
        spoken += (
            f" {'con' if spanish else 'and'} {int(cents)} {'centavos' if spanish else 'cents'}"
        )
    return spoken


def speakable(text: str, voice: str) -> str:
    """Return plain prompt text as a voice reads it: amounts in words."""
    return _MONEY.sub(lambda m: _money(m, voice), text)


def render_say(element: ET.Element, voice: str) -> tuple[str, float]:
    """Return what a <Say> sounds like, say-as expanded, and the seconds of its SSML breaks."""
    pieces = [element.text or ""]
    breaks = 0.0
    for child in element:
        if child.tag == "say-as":
            kind = child.get("interpret-as", "")
            inner = "".join(child.itertext())
            if kind in ("characters", "spell-out", "digits", "telephone"):
                pieces.append(f" {_characters(inner)} ")
            elif kind == "date":
                pieces.append(f" {_date(inner, child.get('format'), voice)} ")
            else:
                pieces.append(f" {inner} ")
        elif child.tag == "break":
            time = child.get("time", "")
            match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*", time)
            if match:
                breaks += float(match.group(1)) / (1000.0 if match.group(2) == "ms" else 1.0)
            pieces.append(" ")
        elif child.tag == "sub":
            pieces.append(f" {child.get('alias') or ''.join(child.itertext())} ")
        else:
            inner, inner_breaks = render_say(child, voice)
            breaks += inner_breaks
            pieces.append(f" {inner} ")
        pieces.append(child.tail or "")
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", "".join(pieces)).strip())
    return speakable(text, voice), breaks


class Synthesiser:
    """Seconds each sentence takes in espeak-ng at 160 words a minute, each synthesised once."""

    def __init__(self, words_per_minute: int = WORDS_PER_MINUTE) -> None:
        self.words_per_minute = words_per_minute
        self._seconds: dict[tuple[str, str], float] = {}
        self._folder = tempfile.TemporaryDirectory(prefix="caller-time-")

    @property
    def synthesised(self) -> int:
        """How many distinct (sentence, voice) pairs have been synthesised."""
        return len(self._seconds)

    def seconds(self, text: str, voice: str) -> float:
        """Return how long `text` sounds in `voice`."""
        key = (text, voice)
        if key not in self._seconds:
            self._seconds[key] = self._synthesise(text, voice)
        return self._seconds[key]

    def _synthesise(self, text: str, voice: str) -> float:
        # A file, not --stdout: a piped WAV header carries no real length.
        path = Path(self._folder.name) / f"{len(self._seconds)}.wav"
        subprocess.run(
            [ESPEAK, "-v", voice, "-s", str(self.words_per_minute), "-w", str(path), "--stdin"],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
        with wave.open(str(path), "rb") as audio:
            return audio.getnframes() / audio.getframerate()

    def close(self) -> None:
        """Remove the synthesised files."""
        self._folder.cleanup()
