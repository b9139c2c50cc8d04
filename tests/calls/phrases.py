"""What callers hear at the prompts many tests pass through, in one place."""

MAIN_MENU = [
    "Main menu.",
    "To make a payment, press 1.",
    "To hear your balances, press 2.",
    "For automatic payments, scheduled payments and payment plans, press 3.",
    "For recent payments, press 4.",
    "For statements, paperless billing and notices, press 5.",
    "For mail and other ways to pay, press 6.",
    "For answers to questions about your bill, press 8.",
    "For a billing specialist, press 0.",
    "To repeat, press star.",
]
ASK_MRN = "Enter your medical record number, then press pound."
ASK_BIRTH_DATE = "Now enter your birth date as month, day, and year."
NO_INPUT = "Sorry, I did not hear your answer."
GOODBYE = "Thank you for calling. Goodbye."
# How a payment that went through starts: the confirmation number follows in the sentence.
PAID = "Payment complete: your confirmation number is "
