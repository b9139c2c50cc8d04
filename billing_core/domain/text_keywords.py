"""The keywords a texted reply is read for, as carriers and Twilio read them, and consent values.

Twilio's opt-out handling (its defaults, which Advanced Opt-Out starts from) acts on a message
only when the whole message is the keyword, in any case: "Stop" opts out, "Stop please" and
"stopped" do not. Spaces around it and punctuation after it ("Stop.", " STOP!") are what
phones and people add, so they are ignored as well; the same reading decides here, so a
number Twilio stops texting is a number the outbox stops texting.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass


class KeywordAction(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


class ConsentStatus(enum.StrEnum):
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"


class ConsentChannel(enum.StrEnum):
    """How a number's consent was last changed."""

    # A keyword texted to one of the plan's numbers.
    SMS = "sms"
    # Asked for on a call to the pay line.
    PHONE = "phone"
    # A billing specialist, at the member's request.
    STAFF = "staff"


# Twilio's default keywords (Advanced Opt-Out starts from these), and STOP ALL as carriers take it.
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})

_ACTIONS = {
    **{word: KeywordAction.OPT_OUT for word in OPT_OUT_WORDS},
    **{word: KeywordAction.OPT_IN for word in OPT_IN_WORDS},
    **{word: KeywordAction.HELP for word in HELP_WORDS},
}
# A message longer than one text segment is no keyword however it ends; it is not read further.
_LONGEST = 160
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Keyword:
    """A keyword recognised in a message: its word as listed above and what it asks for."""

    word: str
    action: KeywordAction


def parse_keyword(body: str | None) -> Keyword | None:
    """Return the keyword the whole message is, or None when it is anything else."""
    if not body or len(body) > _LONGEST:
        return None
    text = body.strip()
    while text and unicodedata.category(text[-1]).startswith("P"):
        text = text[:-1]
    word = _SPACES.sub(" ", text.strip()).upper()
    action = _ACTIONS.get(word)
    return Keyword(word, action) if action is not None else None


# What Twilio's Advanced Opt-Out says a message was (its OptOutType parameter), which
# counts before the app's own reading of the body: a keyword configured there, in any
# language, is one here too.
_OPT_OUT_TYPES = {
    "STOP": KeywordAction.OPT_OUT,
    "START": KeywordAction.OPT_IN,
    "HELP": KeywordAction.HELP,
}


def keyword_of(body: str | None, opt_out_type: str | None) -> Keyword | None:
    """The keyword a texted message is: as Twilio classified it, else as the body reads."""
    action = _OPT_OUT_TYPES.get((opt_out_type or "").strip().upper())
    if action is not None:
        return Keyword((opt_out_type or "").strip().upper(), action)
    return parse_keyword(body)
