"""Parse TwiML voice documents into verb objects."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from ivr_sim.errors import TwimlError
from ivr_sim.timing import ssml_seconds
from ivr_sim.twilio_types import AMAZON_PREFIX, check_document


class Verb:
    """A TwiML verb; `name` is its element name, which picks its handler on the call."""

    name: ClassVar[str] = ""


@dataclass(frozen=True)
class Say(Verb):
    """<Say>: text spoken to the caller, SSML flattened to what is heard."""

    name: ClassVar[str] = "Say"
    text: str
    voice: str | None = None
    language: str | None = None
    loop: int = 1
    break_seconds: float = 0.0


@dataclass(frozen=True)
class Play(Verb):
    """<Play>: an audio file, or DTMF tones when `digits` is set."""

    name: ClassVar[str] = "Play"
    url: str
    loop: int = 1
    digits: str | None = None


@dataclass(frozen=True)
class Pause(Verb):
    """<Pause>: silence on the line."""

    name: ClassVar[str] = "Pause"
    length: float = 1.0


@dataclass(frozen=True)
class Gather(Verb):
    """<Gather>: waits for keys or speech, with prompts nested inside."""

    name: ClassVar[str] = "Gather"
    action: str | None = None
    method: str = "POST"
    timeout: float = 5.0
    finish_on_key: str = "#"
    num_digits: int | None = None
    input: str = "dtmf"
    speech_timeout: str | None = None
    hints: str | None = None
    language: str = "en-US"
    action_on_empty_result: bool = False
    barge_in: bool = True
    children: tuple[Verb, ...] = ()


@dataclass(frozen=True)
class Redirect(Verb):
    """<Redirect>: fetch the next document from a URL."""

    name: ClassVar[str] = "Redirect"
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Hangup(Verb):
    """<Hangup>: end the call."""

    name: ClassVar[str] = "Hangup"


@dataclass(frozen=True)
class Reject(Verb):
    """<Reject>: refuse the call without answering it."""

    name: ClassVar[str] = "Reject"
    reason: str = "rejected"


@dataclass(frozen=True)
class Dial(Verb):
    """<Dial>: connect the caller to other numbers."""

    name: ClassVar[str] = "Dial"
    numbers: tuple[str, ...]
    action: str | None = None
    method: str = "POST"
    timeout: float = 30.0
    caller_id: str | None = None


VerbParser = Callable[[ET.Element], Verb]

_KEYS = frozenset("0123456789*#")
_INPUTS = frozenset({"dtmf", "speech"})
# SSML elements Twilio accepts inside <Say>; amazon:* tags arrive with the prefix rewritten.
_SSML_TAGS = frozenset(
    {"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w"}
)
_AMAZON_PREFIX = re.compile(r"<(/?)amazon:")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,!?;:])")


def _int(element: ET.Element, attribute: str, default: int | None, minimum: int) -> int | None:
    raw = element.get(attribute)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise TwimlError(f"<{element.tag} {attribute}={raw!r}> is not a whole number") from None
    if value < minimum:
        raise TwimlError(f"<{element.tag} {attribute}={raw!r}> must be at least {minimum}")
    return value


def _number(element: ET.Element, attribute: str, default: float) -> float:
    raw = element.get(attribute)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise TwimlError(f"<{element.tag} {attribute}={raw!r}> is not a number") from None
    if value < 0:
        raise TwimlError(f"<{element.tag} {attribute}={raw!r}> must not be negative")
    return value


def _bool(element: ET.Element, attribute: str, default: bool) -> bool:
    raw = element.get(attribute)
    if raw is None:
        return default
    if raw.strip().lower() not in ("true", "false"):
        raise TwimlError(f"<{element.tag} {attribute}={raw!r}> must be true or false")
    return raw.strip().lower() == "true"


def _method(element: ET.Element) -> str:
    method = (element.get("method") or "POST").strip().upper()
    if method not in ("GET", "POST"):
        raise TwimlError(f"<{element.tag} method={method!r}> must be GET or POST")
    return method


def _url(element: ET.Element, attribute: str) -> str | None:
    # An empty action means "no action" to Twilio, the same as leaving it out.
    value = (element.get(attribute) or "").strip()
    return value or None


def _no_children(element: ET.Element) -> None:
    if len(element):
        raise TwimlError(f"<{element.tag}> cannot contain <{element[0].tag}>")


def render_ssml(element: ET.Element) -> tuple[str, float]:
    """Return the plain text a caller hears from a <Say> and the seconds of SSML breaks."""
    text, breaks = _render(element)
    # Element edges separate words, but punctuation stays on the word before it.
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(text.split())), breaks


def _render(element: ET.Element) -> tuple[str, float]:
    pieces: list[str] = [element.text or ""]
    breaks = 0.0
    for child in element:
        tag = child.tag
        if tag.startswith(AMAZON_PREFIX):
            tag = "amazon"
        elif tag not in _SSML_TAGS:
            raise TwimlError(f"<{element.tag}> cannot contain <{child.tag}>")
        if tag == "break":
            time = child.get("time")
            if time is not None:
                try:
                    breaks += ssml_seconds(time)
                except ValueError as exc:
                    raise TwimlError(f"<break time={time!r}> is not an SSML time") from exc
            pieces.append(" ")
        elif tag == "sub":
            # The caller hears the alias, not the written form.
            pieces.append(f" {child.get('alias') or _render(child)[0]} ")
        else:
            text, inner_breaks = _render(child)
            breaks += inner_breaks
            pieces.append(f" {text} ")
        pieces.append(child.tail or "")
    return "".join(pieces), breaks


def parse_say(element: ET.Element) -> Say:
    """Parse <Say>."""
    text, breaks = render_ssml(element)
    return Say(
        text=text,
        voice=element.get("voice"),
        language=element.get("language"),
        loop=_int(element, "loop", 1, 0) or 1,
        break_seconds=breaks,
    )


def parse_play(element: ET.Element) -> Play:
    """Parse <Play>."""
    _no_children(element)
    digits = element.get("digits")
    url = (element.text or "").strip()
    if not url and not digits:
        raise TwimlError("<Play> needs a URL or a digits attribute")
    return Play(url=url, loop=_int(element, "loop", 1, 0) or 1, digits=digits)


def parse_pause(element: ET.Element) -> Pause:
    """Parse <Pause>."""
    _no_children(element)
    return Pause(length=_number(element, "length", 1.0))


GATHER_CHILDREN = ("Say", "Play", "Pause")


def parse_gather(element: ET.Element) -> Gather:
    """Parse <Gather> and the prompts nested in it."""
    finish_on_key = element.get("finishOnKey", "#")
    if finish_on_key != "" and (len(finish_on_key) != 1 or finish_on_key not in _KEYS):
        raise TwimlError(f"<Gather finishOnKey={finish_on_key!r}> must be one of 0-9, # or *")
    inputs = (element.get("input") or "dtmf").split()
    if not inputs or not set(inputs) <= _INPUTS:
        raise TwimlError(f"<Gather input={element.get('input')!r}> must be dtmf, speech or both")
    speech_timeout = element.get("speechTimeout")
    if speech_timeout is not None and speech_timeout.strip() != "auto":
        _number(element, "speechTimeout", 0.0)
    children: list[Verb] = []
    for child in element:
        if child.tag not in GATHER_CHILDREN:
            raise TwimlError(
                f"<Gather> can only contain <Say>, <Play> or <Pause>, not <{child.tag}>"
            )
        children.append(VERB_PARSERS[child.tag](child))
    return Gather(
        action=_url(element, "action"),
        method=_method(element),
        timeout=_number(element, "timeout", 5.0),
        finish_on_key=finish_on_key,
        num_digits=_int(element, "numDigits", None, 1),
        input=" ".join(inputs),
        speech_timeout=speech_timeout.strip() if speech_timeout is not None else None,
        hints=element.get("hints"),
        language=element.get("language") or "en-US",
        action_on_empty_result=_bool(element, "actionOnEmptyResult", False),
        barge_in=_bool(element, "bargeIn", True),
        children=tuple(children),
    )


def parse_redirect(element: ET.Element) -> Redirect:
    """Parse <Redirect>."""
    _no_children(element)
    url = (element.text or "").strip()
    if not url:
        raise TwimlError("<Redirect> needs a URL")
    return Redirect(url=url, method=_method(element))


def parse_hangup(element: ET.Element) -> Hangup:
    """Parse <Hangup>."""
    _no_children(element)
    return Hangup()


def parse_reject(element: ET.Element) -> Reject:
    """Parse <Reject>."""
    _no_children(element)
    reason = element.get("reason", "rejected")
    if reason not in ("rejected", "busy"):
        raise TwimlError(f"<Reject reason={reason!r}> must be rejected or busy")
    return Reject(reason=reason)


def parse_dial(element: ET.Element) -> Dial:
    """Parse <Dial>, whose number is its text or its <Number> children."""
    numbers: list[str] = []
    text = (element.text or "").strip()
    if text:
        numbers.append(text)
    for child in element:
        if child.tag != "Number":
            raise TwimlError(f"<Dial> supports <Number> only here, not <{child.tag}>")
        number = (child.text or "").strip()
        if not number:
            raise TwimlError("<Number> inside <Dial> is empty")
        numbers.append(number)
    if not numbers:
        raise TwimlError("<Dial> has no number to dial")
    return Dial(
        numbers=tuple(numbers),
        action=_url(element, "action"),
        method=_method(element),
        timeout=_number(element, "timeout", 30.0),
        caller_id=element.get("callerId"),
    )


# Verbs the virtual Twilio understands; register a parser here (and a handler on the call)
# to teach it another verb such as <Pay>.
VERB_PARSERS: dict[str, VerbParser] = {
    "Say": parse_say,
    "Play": parse_play,
    "Pause": parse_pause,
    "Gather": parse_gather,
    "Redirect": parse_redirect,
    "Hangup": parse_hangup,
    "Reject": parse_reject,
    "Dial": parse_dial,
}


def parse_twiml(document: str, parsers: Mapping[str, VerbParser] | None = None) -> list[Verb]:
    """Parse a TwiML document into its top-level verbs, in order."""
    parsers = VERB_PARSERS if parsers is None else parsers
    if not document.strip():
        raise TwimlError("the response is empty, not a TwiML document")
    # Twilio takes <amazon:effect> and friends without a namespace declaration; XML does not.
    try:
        root = ET.fromstring(_AMAZON_PREFIX.sub(rf"<\1{AMAZON_PREFIX}", document.strip()))
    except ET.ParseError as exc:
        raise TwimlError(f"the response is not well-formed XML: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(f"the root element is <{root.tag}>, not <Response>")
    # Twilio's own types first: every element, attribute name and enumerated value.
    check_document(root, extra_verbs=parsers.keys())
    verbs: list[Verb] = []
    for element in root:
        parser = parsers.get(element.tag)
        if parser is None:
            raise TwimlError(f"<{element.tag}> is not a TwiML verb the virtual Twilio can run")
        verbs.append(parser(element))
    return verbs
