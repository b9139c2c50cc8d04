"""The statements and letters a member can have sent, and how they can be sent."""

from __future__ import annotations

import enum


class DocumentKind(enum.StrEnum):
    PREMIUM_STATEMENT = "premium_statement"
    BILL_STATEMENT = "bill_statement"
    PAYMENT_HISTORY = "payment_history"
    # A calendar year's premium payments, for the member's taxes.
    TAX_LETTER = "tax_letter"


class Delivery(enum.StrEnum):
    EMAIL = "email"
    MAIL = "mail"


# Why a document cannot be sent: the member has neither an email nor a mailing address.
NO_EMAIL_OR_ADDRESS = "no_email_or_address"
# The earliest tax year a letter is made for (no payments on this line are older).
EARLIEST_TAX_YEAR = 2000
