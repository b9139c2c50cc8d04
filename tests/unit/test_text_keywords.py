"""A texted reply is a keyword only when the whole message is one, as Twilio reads it."""

from __future__ import annotations

import pytest

from billing_core.domain.text_keywords import KeywordAction, parse_keyword

OUT, IN, HELP = KeywordAction.OPT_OUT, KeywordAction.OPT_IN, KeywordAction.HELP

KEYWORDS = [
    ("STOP", "STOP", OUT),
    ("stop", "STOP", OUT),
    ("Stop", "STOP", OUT),
    ("sToP", "STOP", OUT),
    ("stop ", "STOP", OUT),
    (" STOP!", "STOP", OUT),
    ("Stop.", "STOP", OUT),
    ("STOP!!!", "STOP", OUT),
    ("\tstop\n", "STOP", OUT),
    ("Stop?", "STOP", OUT),
    ("stop" + "." * 60, "STOP", OUT),
    ("STOPALL", "STOPALL", OUT),
    ("stop all", "STOP ALL", OUT),
    ("Stop  All", "STOP ALL", OUT),
    ("UNSUBSCRIBE", "UNSUBSCRIBE", OUT),
    ("Cancel", "CANCEL", OUT),
    ("end", "END", OUT),
    ("Quit.", "QUIT", OUT),
    ("revoke", "REVOKE", OUT),
    ("OptOut", "OPTOUT", OUT),
    ("START", "START", IN),
    ("start!", "START", IN),
    ("Unstop", "UNSTOP", IN),
    ("yes", "YES", IN),
    ("Yes.", "YES", IN),
    ("HELP", "HELP", HELP),
    ("help?", "HELP", HELP),
    ("Info", "INFO", HELP),
]

NOT_KEYWORDS = [
    "",
    "   ",
    "please stop texting",
    "stopped",
    "stop please",
    "STOP STOP",
    "Stop it",
    "nonstop",
    "!stop",
    "st op",
    "opt out",
    "yes please",
    "yess",
    "help me",
    "I need info",
    "restart",
    "STAR",
    "halt",
    "stop" + " " * 200,
    "12345",
]


@pytest.mark.parametrize(("body", "word", "action"), KEYWORDS)
def test_a_message_that_is_only_a_keyword_is_read_as_that_keyword(body, word, action):
    keyword = parse_keyword(body)
    assert keyword is not None
    assert (keyword.word, keyword.action) == (word, action)


@pytest.mark.parametrize("body", NOT_KEYWORDS)
def test_a_message_with_more_or_less_than_a_keyword_is_no_keyword(body):
    assert parse_keyword(body) is None


def test_a_missing_body_is_no_keyword():
    assert parse_keyword(None) is None
