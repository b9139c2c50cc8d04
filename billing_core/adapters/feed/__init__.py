"""The billing feed's file formats: members with their bills, premiums and other payments.

A feed file, JSON or CSV, is parsed and checked whole before anything is written: both
formats become the same document first and share one validation (validation.py), and
a file with any problem is refused (FeedRejected). The import that writes the checked
records is billing_core.services.feed_import.
"""

from billing_core.adapters.feed.csv_format import feed_document_to_csv
from billing_core.adapters.feed.files import load_feed_file, parse_feed
from billing_core.adapters.feed.records import (
    BILL_FIELDS,
    CSV_COLUMNS,
    CSV_RECORD_COLUMNS,
    MEMBER_FIELDS,
    PAYMENT_FIELDS,
    PREMIUM_FIELDS,
    BillRecord,
    FeedFormat,
    MemberRecord,
    PaymentChannel,
    PaymentRecord,
    PremiumRecord,
)
from billing_core.adapters.feed.validation import parse_feed_document

__all__ = [
    "BILL_FIELDS",
    "CSV_COLUMNS",
    "CSV_RECORD_COLUMNS",
    "MEMBER_FIELDS",
    "PAYMENT_FIELDS",
    "PREMIUM_FIELDS",
    "BillRecord",
    "FeedFormat",
    "MemberRecord",
    "PaymentChannel",
    "PaymentRecord",
    "PremiumRecord",
    "feed_document_to_csv",
    "load_feed_file",
    "parse_feed",
    "parse_feed_document",
]
