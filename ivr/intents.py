"""What a caller asks for in their own words: "I want to pay my premium" is the request pay_premium.

The phrases of each request are data (ivr/phrases/<language>.yaml). A caller's words
match a request when they hold every word of one of its phrases, fillers ("I want to",
"please") left out; the longest such phrase wins, so "pay my premium" is the premium,
not any payment. Otherwise the closest phrase by rapidfuzz's token-sort ratio counts,
which forgives a misheard word ("balanse"), but only as a guess to confirm. A match is
`sure` only when it is whole, not tied with another request, and Twilio's own confidence
in the words is high enough; anything less is read back to the caller first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from rapidfuzz import fuzz
from text_to_num import alpha2digit

from ivr.commands import SPEECH_HINTS

PHRASES_DIR = Path(__file__).parent / "phrases"
# A whole phrase said scores this, plus a little per word, so the longest wins.
WHOLE = 90.0
# Below this a guess is no match at all; at or above SURE (and whole) it is acted on.
LEAST = 70.0
SURE = 90.0
# Twilio's Confidence (0 to 1) below which even a whole phrase is confirmed first.
LEAST_CONFIDENCE = 0.5
# Two requests scoring within this of each other (whole phrases of the same length) are
# a tie: the caller is asked which.
TIE = 1.0
# A word left over this close to a phrase's word was probably that word, misheard.
MISHEARD = 80.0


@dataclass(frozen=True)
class Match:
    """The request a caller's words stand for, how well they matched, and whether to act."""

    intent: str
    score: float
    sure: bool


def normalize(text: str) -> str:
    """Lower-case, without accents or punctuation: the form phrases are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", plain).split())


class Intents:
    """The requests of one language and the phrases callers say for them."""

    def __init__(
        self, phrases: Mapping[str, Iterable[str]], fillers: Iterable[str], language: str = "en"
    ) -> None:
        self.language = language
        self.fillers = frozenset(normalize(word) for word in fillers)
        self.phrases: list[tuple[str, tuple[str, ...]]] = []
        written: list[str] = []
        for intent, said in phrases.items():
            for phrase in said:
                written.append(phrase)
                words = self.words(phrase)
                if not words:
                    raise ValueError(f"{intent}: the phrase {phrase!r} is all fillers")
                self.phrases.append((intent, words))
        self.vocabulary = frozenset(word for _intent, words in self.phrases for word in words)
        self.words_of: dict[str, set[str]] = {}
        for intent, words in self.phrases:
            self.words_of.setdefault(intent, set()).update(words)
        # Twilio's <Gather hints> at a menu: the commands every prompt takes, then the
        # phrases as written, which help recognition hear them.
        self.hints = ", ".join(dict.fromkeys([*SPEECH_HINTS.split(", "), *written]))

    @property
    def names(self) -> frozenset[str]:
        return frozenset(intent for intent, _words in self.phrases)

    def words(self, text: str) -> tuple[str, ...]:
        return tuple(word for word in normalize(text).split() if word not in self.fillers)

    def match(self, speech: str, confidence: float | None = None) -> Match | None:
        """Return the request the words stand for, or None when they are none of them."""
        said = self.words(speech)
        if not said:
            return None
        whole: dict[str, tuple[float, tuple[str, ...]]] = {}
        guesses: dict[str, float] = {}
        for intent, words in self.phrases:
            if set(words) <= set(said):
                score = WHOLE + min(len(words), 5) * 2.0
                if score > whole.get(intent, (0.0, ()))[0]:
                    whole[intent] = (score, words)
            # Misheard or reworded: close in spelling, never more than a guess.
            guess = min(fuzz.token_sort_ratio(" ".join(said), " ".join(words)), SURE - 1.0)
            guesses[intent] = max(guesses.get(intent, 0.0), guess)
        guessed, guess = max(guesses.items(), key=lambda item: item[1])
        if whole:
            ranked = sorted(whole.items(), key=lambda item: item[1][0], reverse=True)
            intent, (score, words) = ranked[0]
            left = [word for word in said if word not in words]
            # A word left over that belongs to another request ("historial" de pago), or
            # that sounds like one of its words and then makes a longer phrase ("automatik
            # payment"): the caller may mean that one, so it is asked, not acted on.
            other = (
                guessed != intent
                and guess >= MISHEARD
                and any(word in self.words_of[guessed] for word in left)
            )
            if not other and not self._misheard(said, left, len(words)):
                tied = len(ranked) > 1 and score - ranked[1][1][0] < TIE
                trusted = confidence is None or confidence >= LEAST_CONFIDENCE
                return Match(intent, score, sure=score >= SURE and not tied and trusted)
        return Match(guessed, guess, sure=False) if guess >= LEAST else None

    def _misheard(self, said: tuple[str, ...], left: list[str], longest: int) -> bool:
        """Whether a word left over, heard as the phrase word it sounds like, makes a longer
        phrase whole."""
        for word in left:
            if word in self.vocabulary or self._number(word):
                continue  # a number is the amount said with the request, never a misheard word
            for known in self.vocabulary:
                if fuzz.ratio(word, known) < MISHEARD:
                    continue
                heard = {known if w == word else w for w in said}
                if any(len(words) > longest and set(words) <= heard for _i, words in self.phrases):
                    return True
        return False

    @cache  # noqa: B019 - a few hundred words per language, for the life of the process
    def _number(self, word: str) -> bool:
        return alpha2digit(word, self.language, threshold=0) != word


@cache
def intents_for(language: str) -> Intents:
    """Return the requests of a language ("en", "es"), read once."""
    document = yaml.safe_load((PHRASES_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    return Intents(document["intents"], document.get("fillers", "").split(), language)
