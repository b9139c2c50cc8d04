"""Recorded calls: each webhook turn of a call kept as a redacted JSON line.

With config IVR_RECORDINGS_DIR set to a folder, the app appends every turn of a call
to <folder>/<CallSid>.jsonl: the time, the path, the request parameters with anything
sensitive redacted, the TwiML answered and the catalog prompts it spoke. Reading
recordings, turning them into call scripts and replaying them is the simulator's
(ivr_sim.recorded); only the writing runs in the app.

Never written: the keys or speech a caller gives at identification (MRN, birth date),
card and bank data beyond what Twilio masks (card ending, account ending). In their
place a recording notes what a replay needs: the shape of the entry, whether it
identified the caller, and for an MRN its keyed digest (the same one the database
holds), which to-script matches against the members it knows to put the MRN back.

Everywhere else, every parameter a caller's keys or speech can reach (Digits, SpeechResult,
UnstableSpeechResult, any other free text) is written as [redacted] when it holds what could
be a card, account or MRN number or a date (sensitive_kind says which), with a note of its
shape in keys so a replay can still enter something of the same length:
- numbers said or keyed with spaces, dashes, dots, commas or stars between them, and
  numbers spoken as words in English or Spanish (the tables of ivr.spoken_digits: "oh",
  "double four", "cuatro dos", "twenty five"): 7 digits or more in a row, or 12 in all;
- dates written or said in the usual forms: 4/12/1980, 04-12-80, 1980.04.12, 041280,
  "four twelve eighty", "April 12, 1980", "Apr 12th", "the twelfth of April",
  "12 de abril de 1980", "abril 12", with or without the year;
- a number of 3 digits or more beside words that name a card, account or identity
  ("security code 987", "mi cuenta es 4521").
Menu keys, amounts ("25*50#", "twenty five dollars") and commands stay readable.
A line of a recording:

    {"at": "2026-11-27T20:00:14.9+00:00", "call_sid": "CA...", "path": "/voice/identify/mrn/answer",
     "params": {"Digits": "[redacted]", ...}, "redacted": {"Digits": {"field": "mrn", ...}},
     "prompts": ["ASK_BIRTH_DATE"], "twiml": "<?xml ...><Response>...</Response>"}
"""

from __future__ import annotations

import json
import logging
import os
import re
import traceback
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request

from ivr.spoken_digits import SPANISH_TWENTIES

log = logging.getLogger(__name__)

# The header each answer names the catalog prompts it spoke in (ivr.twiml sets it).
PROMPTS_HEADER = "X-IVR-Prompts"
CONFIG_KEY = "IVR_RECORDINGS_DIR"
SUFFIX = ".jsonl"
REDACTED = "[redacted]"
IDENTIFICATION_PREFIX = "/voice/identify/"
_CALL_SID = re.compile(r"[A-Za-z0-9]{10,64}")
# Keys that are commands, not identity, even at the identification prompts.
COMMAND_KEYS = frozenset({"*", "#", "0", "7", "8", "9"})
# Parameters that carry card or bank data: never written.
CARD_PARAMS = ("PaymentToken", "ExpirationDate", "SecurityCode", "PaymentCardPostalCode")
BANK_PARAMS = ("BankRoutingNumber",)
# Masked numbers Twilio sends: only their last 4 digits are kept, whatever Twilio showed.
MASKED_PARAMS = ("PaymentCardNumber", "BankAccountNumber")
_PHONE_PARAMS = frozenset({"From", "To", "Called", "Caller"})
# Written by Twilio, never by a caller (a Timestamp is a date, but not a caller's).
_TWILIO_METADATA = frozenset({"ApiVersion", "Timestamp"})
# At the identification prompts these are the caller's entry itself: never written.
IDENTIFICATION_PARAMS = {
    "Digits": "keys",
    "SpeechResult": "speech",
    "UnstableSpeechResult": "speech",
}
_SANDBOX_TOKEN = re.compile(r"b?tok_sandbox_(?P<outcome>[a-z-]+)_(?P<last4>\d{4})")
# Confirmation numbers differ on every run: compared and written as a pattern.


# -- recording in the app ----------------------------------------------------------------------


def install(app: Flask) -> None:
    """Record every webhook turn when config IVR_RECORDINGS_DIR names a folder."""
    if "recording" in app.extensions:
        return
    app.config.setdefault(CONFIG_KEY, os.environ.get(CONFIG_KEY, ""))
    app.extensions["recording"] = True
    app.after_request(_record_turn)


def _record_turn(response):
    folder = current_app.config.get(CONFIG_KEY)
    if not folder or response.status_code != 200:
        return response
    call_sid = request.form.get("CallSid", "")
    if not _CALL_SID.fullmatch(call_sid):
        return response  # no call to file it under, and a name that is safe as a file name
    try:
        state = g.get("call")
        digest = state.mrn_digest if state is not None else None
        query = request.query_string.decode()
        entry = turn_entry(
            at=current_app.extensions["billing"].clock.now(),
            call_sid=call_sid,
            path=request.path + (f"?{query}" if query else ""),
            params=request.form.to_dict(),
            twiml=response.get_data(as_text=True),
            prompts=prompt_names(response.headers.get(PROMPTS_HEADER)),
            mrn_digest=digest if isinstance(digest, str) else None,
        )
        append_turn(Path(folder), call_sid, entry)
    except Exception as error:  # noqa: BLE001 - a recording problem must never cost the call
        # Only the kind of problem and where: its message may quote what the caller said.
        frames = traceback.extract_tb(error.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        log.error(
            "call %s: the turn could not be recorded (%s at %s)",
            call_sid,
            type(error).__name__,
            where,
        )
    return response


def turn_entry(
    *,
    at: datetime,
    call_sid: str,
    path: str,
    params: Mapping[str, str],
    twiml: str,
    prompts: Sequence[str],
    mrn_digest: str | None = None,
) -> dict[str, Any]:
    """Build one line of a recording, redacted."""
    kept, notes = redact(path, params, prompts, mrn_digest=mrn_digest)
    entry: dict[str, Any] = {
        "at": at.astimezone(UTC).isoformat(),
        "call_sid": call_sid,
        "path": path,
        "params": kept,
    }
    if notes:
        entry["redacted"] = notes
    entry["prompts"] = list(prompts)
    entry["twiml"] = twiml
    return entry


def append_turn(folder: Path, call_sid: str, entry: Mapping[str, Any]) -> Path:
    """Append a line to the call's recording; the file is readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{call_sid}{SUFFIX}"
    line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as file:
        file.write(line)
    return path


def redact(
    path: str,
    params: Mapping[str, str],
    prompts: Sequence[str] = (),
    *,
    mrn_digest: str | None = None,
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Return the parameters safe to write, and notes on what was taken out."""
    kept = dict(params)
    notes: dict[str, dict[str, Any]] = {}
    bare = path.split("?", 1)[0]
    if bare.startswith(IDENTIFICATION_PREFIX):
        field_name = (
            "mrn" if "/mrn" in bare else "birth_date" if "/birth-date" in bare else "identity"
        )
        for name, via in IDENTIFICATION_PARAMS.items():
            value = params.get(name)
            if value is None or _is_command(name, value):
                continue
            keys = value if name == "Digits" else _spoken_keys(value)
            note: dict[str, Any] = {
                "field": field_name,
                "via": via,
                "shape": re.sub(r"\d", "9", keys),
            }
            if field_name == "mrn":
                note["outcome"] = "invalid" if "MRN_INVALID" in prompts else "entered"
                if note["outcome"] == "entered" and mrn_digest:
                    note["mrn_digest"] = mrn_digest
            elif field_name == "birth_date":
                note["outcome"] = _identification_outcome(prompts)
            kept[name] = REDACTED
            notes[name] = note
    for name in (*CARD_PARAMS, *BANK_PARAMS):
        if name in params:
            kept[name] = REDACTED
            note = {}
            token = _SANDBOX_TOKEN.match(params[name]) if name == "PaymentToken" else None
            if token is not None:
                # A sandbox token names only its test outcome and last 4: enough to replay.
                note = {"outcome": token["outcome"], "last4": token["last4"]}
            notes[name] = note
    for name in MASKED_PARAMS:
        if params.get(name):
            digits = re.sub(r"\D", "", params[name])[-4:]
            kept[name] = "x" * 4 + digits
    for name, value in kept.items():
        if name in _PHONE_PARAMS or name in _TWILIO_METADATA or name.endswith("Sid"):
            continue
        if name in notes or name in MASKED_PARAMS or not isinstance(value, str):
            continue
        kind = sensitive_kind(value)
        if kind is not None:
            kept[name] = REDACTED
            notes[name] = {"shape": _shape(name, value), "found": kind}
    return kept, notes


def _is_command(name: str, value: str) -> bool:
    from ivr.commands import SPOKEN_COMMANDS

    if name == "Digits":
        return value.strip() in COMMAND_KEYS or value.strip() == ""
    return value.strip().lower().strip(".!?¡¿ ") in SPOKEN_COMMANDS


def _spoken_keys(speech: str) -> str:
    from ivr.spoken_digits import spoken_to_keys

    return spoken_to_keys(speech.strip().lower()) or "?"


def _identification_outcome(prompts: Sequence[str]) -> str:
    if "IDENTIFIED" in prompts:
        return "identified"
    if "NOT_MATCHED" in prompts:
        return "not-matched"
    if "BIRTH_DATE_INVALID" in prompts:
        return "invalid"
    return "other"


def prompt_names(header: str | None) -> tuple[str, ...]:
    """Split an X-IVR-Prompts header into prompt names."""
    return tuple(name for name in (header or "").split(",") if name)


# -- finding what is sensitive in free text ----------------------------------------------------

# Digits in a row (separators between them allowed) that may be an MRN, a card or an account.
RUN_DIGITS = 7
# Digits in all, whatever stands between them: a card number said in pieces.
TOTAL_DIGITS = 12
# What may stand between the digits of one number: said, typed or transcribed.
_RUN_SEPARATORS = frozenset("-./,*#()")
_DATE_SEPARATORS = frozenset("-./,")
_FILLER_WORDS = frozenset(
    {
        *("um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "eh", "hmm", "mm", "and", "then"),
        *("dash", "hyphen", "dot", "point", "slash", "space", "comma"),
        *("este", "pues", "y", "e", "luego", "guion", "punto", "barra", "espacio", "coma"),
        *("star", "asterisk", "pound", "hash", "estrella", "asterisco", "gato", "numeral"),
    }
)
# Words for numbers no digit table spells, that still make a number (a year, a day).
_NUMBER_WORDS = frozenset(
    {
        *("hundred", "thousand", "mil", "cien", "ciento", "doscientos", "trescientos"),
        *("cuatrocientos", "quinientos", "seiscientos", "setecientos", "ochocientos"),
        "novecientos",
    }
)
_ORDINALS = {
    **{"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6"},
    **{"seventh": "7", "eighth": "8", "ninth": "9", "tenth": "10", "eleventh": "11"},
    **{"twelfth": "12", "thirteenth": "13", "fourteenth": "14", "fifteenth": "15"},
    **{"sixteenth": "16", "seventeenth": "17", "eighteenth": "18", "nineteenth": "19"},
    **{"twentieth": "20", "thirtieth": "30", "primero": "1", "primer": "1"},
}
# "to", "for", "o", "un": words before they are digits; never alone the reason for a date.
_AMBIGUOUS_DIGITS = frozenset({"to", "too", "for", "o", "oh", "un", "una"})
_MONTHS = frozenset(
    {
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"),
        *("septiembre", "setiembre", "octubre", "noviembre", "diciembre"),
        *("ene", "abr", "ago", "dic"),
    }
)
# Words that may stand between a month and its day or year: "the 12th of April", "12 de abril".
_DATE_WORDS = frozenset({"the", "of", "de", "del", "el"})
# Words beside which any number of 3 digits or more is a card, an account or an identity.
_SECRET_WORDS = (
    "security code",
    "cvv",
    "cvc",
    "card number",
    "account number",
    "routing",
    "mrn",
    "medical record",
    "birth",
    "born",
    "codigo de seguridad",
    "tarjeta",
    "cuenta",
    "expediente",
    "nacimiento",
    "naci",
)
_SECRET_WORDS_RE = re.compile(r"\b(?:" + "|".join(_SECRET_WORDS) + r")\b")
_TOKEN = re.compile(
    r"(?P<num>\d+)(?:st|nd|rd|th|ro|do|er|o|a)?|(?P<word>[a-z]+)|(?P<sep>[^\sa-z0-9])"
)


def sensitive_kind(text: str) -> str | None:
    """What makes text unsafe to write: "number", "date" or "secret"; None when it is safe.

    "4242 4242 4242 4242", "four two four two ...", "cuatro dos ..." -> "number";
    "04/12/1980", "April 12", "12 de abril de 1980", "4-12-80" -> "date";
    "security code 987" -> "secret"; "1", "25*50#", "twenty five dollars", "agent" -> None.
    """
    from ivr.spoken_digits import fold

    folded = fold(text)
    tokens = _tokens(folded)
    if _has_long_number(tokens):
        return "number"
    if _has_date(tokens):
        return "date"
    if _SECRET_WORDS_RE.search(folded) and _has_long_number(tokens, run=3):
        return "secret"
    return None


def _tokens(folded: str) -> list[tuple[str, str]]:
    """Tokens of folded text: ("num", digits), ("month", ...), ("sep", ...), ("word", ...)..."""
    from ivr.spoken_digits import DIGIT_WORDS, REPEATERS, TEENS, TENS

    raw: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(folded):
        kind = match.lastgroup or "sep"
        raw.append((kind, match.group(kind)))
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(raw):
        kind, text = raw[i]
        i += 1
        if kind != "word":
            tokens.append((kind, text))
            continue
        following = raw[i][1] if i < len(raw) else ""
        if text in REPEATERS and following in DIGIT_WORDS:
            tokens.append(("num", DIGIT_WORDS[following] * REPEATERS[text]))
            i += 1
        elif text in REPEATERS and following.isdigit() and len(following) == 1:
            tokens.append(("num", following * REPEATERS[text]))
            i += 1
        elif text in TENS:
            # "twenty five", "twenty-five", "treinta y uno", "twenty first": one number.
            step = 1 if following in {"y", "-"} else 0
            unit = raw[i + step][1] if i + step < len(raw) else ""
            ones = DIGIT_WORDS.get(unit) or _ORDINALS.get(unit)
            if ones is not None and len(ones) == 1 and ones != "0" and unit not in {"o", "oh"}:
                tokens.append(("num", TENS[text] + ones))
                i += step + 1
            else:
                tokens.append(("num", TENS[text] + "0"))
        elif text in TEENS:
            tokens.append(("num", TEENS[text]))
        elif text in SPANISH_TWENTIES:
            tokens.append(("num", SPANISH_TWENTIES[text]))
        elif text in _ORDINALS:
            tokens.append(("num", _ORDINALS[text]))
        elif text in _AMBIGUOUS_DIGITS:
            tokens.append(("maybe", DIGIT_WORDS[text]))
        elif text in DIGIT_WORDS:
            tokens.append(("num", DIGIT_WORDS[text]))
        elif text in _MONTHS:
            tokens.append(("month", text))
        elif text in _NUMBER_WORDS:
            tokens.append(("numword", text))
        elif text in _FILLER_WORDS:
            tokens.append(("filler", text))
        else:
            tokens.append(("word", text))
    return tokens


def _has_long_number(tokens: Sequence[tuple[str, str]], run: int = RUN_DIGITS) -> bool:
    in_run = total = 0
    for kind, text in tokens:
        if kind in {"num", "maybe"}:
            in_run += len(text)
            total += len(text) if kind == "num" else 0
            if in_run >= run or total >= TOTAL_DIGITS:
                return True
        elif kind in {"filler", "numword"} or (kind == "sep" and text in _RUN_SEPARATORS):
            continue
        else:
            in_run = 0
    return False


def _has_date(tokens: Sequence[tuple[str, str]]) -> bool:
    numbers = [(k, t) for k, t in tokens if k != "filler"]
    for i, (kind, text) in enumerate(numbers):
        if kind == "month" and _beside_a_number(numbers, i):
            return True
        if kind == "num" and len(text) == 6 and _compact_date(text):
            return True
        if kind == "num" and _numeric_date(numbers, i):
            return True
    return False


def _beside_a_number(tokens: Sequence[tuple[str, str]], at: int) -> bool:
    for step in (-1, 1):
        i = at + step
        while 0 <= i < len(tokens):
            kind, text = tokens[i]
            if kind in {"num", "numword"}:
                return True
            if not (text in _DATE_WORDS or (kind == "sep" and text in ",.")):
                break
            i += step
    return False


def _numeric_date(tokens: Sequence[tuple[str, str]], at: int) -> bool:
    """A date of numbers from `at`: 4/12/1980, 4-12-80, 1980.04.12, "four twelve eighty", 4/12."""
    parts = [tokens[at][1]]
    separators: list[str] = []
    i = at + 1
    while len(parts) < 3 and i < len(tokens):
        separator = ""
        if tokens[i][0] == "sep" and tokens[i][1] in _DATE_SEPARATORS:
            separator = tokens[i][1]
            i += 1
        if i < len(tokens) and tokens[i][0] in {"num", "maybe"}:
            parts.append(tokens[i][1])
            separators.append(separator)
            i += 1
        else:
            break
    if len(parts) == 3 and len(set(separators)) == 1:
        first, second, third = parts
        if len(first) == 4 and _is_day_month(second, third, year_first=True):
            return True
        return len(third) in (2, 4) and _is_day_month(first, second)
    if len(parts) >= 2 and separators[0] == "/":
        first, second = parts[:2]
        return _is_day_month(first, second) or (
            len(second) == 4 and len(first) <= 2 and 1 <= int(first) <= 12
        )
    return False


def _is_day_month(first: str, second: str, *, year_first: bool = False) -> bool:
    if len(first) > 2 or len(second) > 2:
        return False
    a, b = int(first), int(second)
    if year_first:
        return 1 <= a <= 12 and 1 <= b <= 31
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= a <= 31 and 1 <= b <= 12)


def _compact_date(digits: str) -> bool:
    """041280 as a date: month, day and year, or day, month and year."""
    return _is_day_month(digits[:2], digits[2:4])


def _shape(name: str, value: str) -> str:
    """The keys a redacted entry stood for, every digit a 9: what a replay enters instead."""
    from ivr.spoken_digits import fold

    if name == "Digits":
        return re.sub(r"\d", "9", re.sub(r"[^\d*#]", "", value))
    keys = _spoken_keys(value)
    if keys == "?":
        keys = "".join(text for kind, text in _tokens(fold(value)) if kind in {"num", "maybe"})
    return re.sub(r"\d", "9", keys)
