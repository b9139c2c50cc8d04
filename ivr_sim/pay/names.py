"""Twilio's <Pay> vocabulary: methods, steps, error types, results, card types, built-in prompts."""

from __future__ import annotations

from decimal import Decimal

CREDIT_CARD = "credit-card"
ACH_DEBIT = "ach-debit"

# The payment steps, which are also the values of <Prompt for>.
CARD_NUMBER = "payment-card-number"
EXPIRATION_DATE = "expiration-date"
SECURITY_CODE = "security-code"
POSTAL_CODE = "postal-code"
ROUTING_NUMBER = "bank-routing-number"
ACCOUNT_NUMBER = "bank-account-number"
PROCESSING = "payment-processing"
PROMPT_STEPS = (
    CARD_NUMBER,
    EXPIRATION_DATE,
    SECURITY_CODE,
    POSTAL_CODE,
    ROUTING_NUMBER,
    ACCOUNT_NUMBER,
    PROCESSING,
)

# What <Prompt errorType> names. A field the caller leaves silent is "timeout" here, while
# the statusCallback and PaymentError call the same thing "input-timeout".
TIMEOUT = "timeout"
INPUT_TIMEOUT = "input-timeout"
INVALID_CARD_NUMBER = "invalid-card-number"
INVALID_CARD_TYPE = "invalid-card-type"
INVALID_DATE = "invalid-date"
INVALID_SECURITY_CODE = "invalid-security-code"
INVALID_POSTAL_CODE = "invalid-postal-code"
INVALID_ROUTING_NUMBER = "invalid-bank-routing-number"
INVALID_ACCOUNT_NUMBER = "invalid-bank-account-number"
INPUT_MATCHING_FAILED = "input-matching-failed"
PROMPT_ERROR_TYPES = frozenset(
    {
        TIMEOUT,
        INVALID_CARD_NUMBER,
        INVALID_CARD_TYPE,
        INVALID_DATE,
        "date-validation-failed",
        INVALID_SECURITY_CODE,
        INVALID_POSTAL_CODE,
        INVALID_ROUTING_NUMBER,
        INVALID_ACCOUNT_NUMBER,
        INPUT_MATCHING_FAILED,
    }
)

# The Result values Twilio posts to the action URL.
SUCCESS = "success"
TOO_MANY_FAILED_ATTEMPTS = "too-many-failed-attempts"
PAYMENT_CONNECTOR_ERROR = "payment-connector-error"
CALLER_INTERRUPTED_WITH_STAR = "caller-interrupted-with-star"
CALLER_HUNG_UP = "caller-hung-up"
VALIDATION_ERROR = "validation-error"

# Twilio error codes for what the sandbox connector can refuse.
CONNECTOR_DOES_NOT_CHARGE = "64007"
GATEWAY_REJECTED_TOKEN = "64010"

CARD_TYPES = (
    "visa",
    "mastercard",
    "amex",
    "maestro",
    "discover",
    "optima",
    "jcb",
    "diners-club",
    "enroute",
)
BANK_ACCOUNT_TYPES = ("consumer-checking", "consumer-savings", "commercial-checking")
TOKEN_TYPES = ("one-time", "reusable", "payment-method")
CARD_LANGUAGES = (
    "en-AU",
    "en-CA",
    "en-GB",
    "en-IN",
    "en-US",
    "es-ES",
    "es-MX",
    "fr-CA",
    "fr-FR",
    "de-DE",
    "it-IT",
)
BANK_LANGUAGES = ("en-AU", "en-CA", "en-GB", "en-IN", "en-US")
MAX_CHARGE = Decimal("1000000")
# Twilio documents its default as retrying a failed field once, so two tries in all.
DEFAULT_MAX_ATTEMPTS = 2

# What Twilio says when the app gives no <Prompt> for a step (English, whatever the
# language attribute says).
BUILT_IN_PROMPTS: dict[str, str] = {
    CARD_NUMBER: "Please enter your credit card number, followed by the pound key.",
    EXPIRATION_DATE: (
        "Please enter your card's expiration date, two digits for the month and two "
        "digits for the year, followed by the pound key."
    ),
    SECURITY_CODE: "Please enter your card's security code, followed by the pound key.",
    POSTAL_CODE: "Please enter your billing zip code, followed by the pound key.",
    ROUTING_NUMBER: "Please enter your bank routing number, followed by the pound key.",
    ACCOUNT_NUMBER: "Please enter your bank account number, followed by the pound key.",
    PROCESSING: "Please wait while we process your payment.",
}
BUILT_IN_CONFIRMATION = "Please enter it again to confirm, followed by the pound key."
BUILT_IN_ERRORS: dict[str, str] = {
    TIMEOUT: "Sorry, we didn't receive any input.",
    INVALID_CARD_NUMBER: "Sorry, that card number is not valid.",
    INVALID_CARD_TYPE: "Sorry, we don't accept that type of card.",
    INVALID_DATE: "Sorry, that expiration date is not valid.",
    INVALID_SECURITY_CODE: "Sorry, that security code is not valid.",
    INVALID_POSTAL_CODE: "Sorry, that zip code is not valid.",
    INVALID_ROUTING_NUMBER: "Sorry, that routing number is not valid.",
    INVALID_ACCOUNT_NUMBER: "Sorry, that account number is not valid.",
    INPUT_MATCHING_FAILED: "Sorry, the two entries did not match.",
}
