"""Twilio's <Pay> vocabulary: methods, steps, error types, results, card types, built-in prompts."""

from __future__ import annotations

from decimal import Decimal

from ivr_sim.twilio_types import allowed_values

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
# Twilio's list of <Prompt for> values (PromptFor in voice_response.json).
PROMPT_STEPS = allowed_values("Prompt", "for")
_STEPS_RUN = {
    CARD_NUMBER,
    EXPIRATION_DATE,
    SECURITY_CODE,
    POSTAL_CODE,
    ROUTING_NUMBER,
    ACCOUNT_NUMBER,
    PROCESSING,
}
if set(PROMPT_STEPS) != _STEPS_RUN:
    raise RuntimeError("Twilio's PromptFor is not the steps PaySession runs: teach it them")

# Why a field is asked again. A field the caller leaves silent is "timeout" here, while
# the statusCallback and PaymentError call the same thing "input-timeout".
TIMEOUT = "timeout"
INPUT_TIMEOUT = "input-timeout"
INVALID_CARD_NUMBER = "invalid-card-number"
INVALID_CARD_TYPE = "invalid-card-type"
INVALID_DATE = "invalid-date"
INVALID_SECURITY_CODE = "invalid-security-code"
INTERNAL_ERROR = "internal-error"
INPUT_MATCHING_FAILED = "input-matching-failed"
# Twilio re-asks a bad postal code, routing or account number too, and reports these names
# in PaymentError and the statusCallback's ErrorType, but <Prompt errorType> cannot name
# them (they are not in PromptErrorType): the app words those retries with attempt="2 3".
INVALID_POSTAL_CODE = "invalid-postal-code"
INVALID_ROUTING_NUMBER = "invalid-bank-routing-number"
INVALID_ACCOUNT_NUMBER = "invalid-bank-account-number"
# What <Prompt errorType> may name: Twilio's PromptErrorType, from voice_response.json.
PROMPT_ERROR_TYPES = frozenset(allowed_values("Prompt", "errorType"))

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

# Twilio's lists, from voice_response.json (PayValidCardTypes, PayBankAccountType...).
CARD_TYPES = allowed_values("Pay", "validCardTypes")
BANK_ACCOUNT_TYPES = allowed_values("Pay", "bankAccountType")
TOKEN_TYPES = allowed_values("Pay", "tokenType")
CARD_LANGUAGES = allowed_values("Pay", "language")
# Twilio speaks bank (ACH) prompts in these English languages only: another PayLanguage
# is answered with validation-error.
BANK_LANGUAGES = ("en-AU", "en-CA", "en-GB", "en-IN", "en-US")
if not set(BANK_LANGUAGES) <= set(CARD_LANGUAGES):
    raise RuntimeError("a bank language is no longer one of Twilio's PayLanguage values")
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
