"""The prompt catalog: every sentence the line speaks, in one place, marked for translation.

Placeholders in braces are filled by ivr.speech, which marks money, dates, digits
and phone numbers with SSML say-as. `pybabel extract` reads the N_() markers.
"""

from __future__ import annotations

import enum


def N_(message: str) -> str:
    """Mark a message for extraction; translation happens when it is spoken."""
    return message


class Prompt(enum.StrEnum):
    # Entry
    GREETING = N_("Thank you for calling the {plan} member payment line for {region}.")
    GREETING_NATIONAL = N_("Thank you for calling the {plan} member payment line.")

    # Identification
    ASK_MRN = N_("Please enter your medical record number, then press pound.")
    MRN_WHERE = N_("You can find it on your member ID card.")
    MRN_INVALID = N_("That is not a complete medical record number.")
    ASK_BIRTH_DATE = N_(
        "Now enter your date of birth as eight digits: "
        "two for the month, two for the day, and four for the year."
    )
    BIRTH_DATE_EXAMPLE = N_("For example, for {example_date}, enter {example_digits}.")
    BIRTH_DATE_INVALID = N_("That is not a valid date of birth.")
    NOT_MATCHED = N_("The information you entered does not match our records.")
    TRY_AGAIN = N_("Please try again.")
    NOT_VERIFIED = N_("We could not verify your information on this call.")
    IDENTIFIED = N_("Thank you, {name}.")

    # Menus and the keys that work everywhere
    MAIN_MENU = N_("Main menu.")
    MENU_BALANCES = N_("To hear your balances, press 1.")
    MENU_WAYS_TO_PAY = N_("To hear how to pay by mail, and other ways to pay, press 2.")
    MENU_SPECIALIST = N_("To speak with a billing specialist, press 0.")
    MENU_REPEAT = N_("To hear these options again, press star.")
    MENU_BACK = N_("To return to the main menu, press 9.")
    NOT_A_CHOICE = N_("Sorry, that is not one of the choices.")
    NO_INPUT = N_("Sorry, I did not hear your answer.")
    HAVING_TROUBLE = N_("It seems you are having trouble.")
    STILL_THERE = N_("We have not heard from you, so we will end this call.")

    # Balances
    NO_MEDICAL_BILLS = N_("You have no medical bills to pay.")
    ONE_MEDICAL_BILL = N_("You have 1 medical bill.")
    MEDICAL_BILLS = N_("You have {count} medical bills.")
    MEDICAL_BILL = N_(
        "For your visit on {date_of_service} at {facility}, you owe {balance}, due {due_date}."
    )
    MEDICAL_TOTAL = N_("Your total medical balance is {total}.")
    PREMIUM_MONTHLY = N_("Your monthly premium is {amount}.")
    PREMIUM_DUE = N_("Your premium for {month} coverage is {balance}, due {due_date}.")
    PREMIUM_PAID_UP = N_("You have no premium to pay right now.")
    PREMIUM_EMPLOYER = N_(
        "Your employer pays your premium, so there is no premium to pay on this line."
    )
    PREMIUM_EXCHANGE_BINDER = N_(
        "If this is your first premium payment, please make it through your health "
        "benefit exchange, not on this line."
    )
    BALANCES_AGAIN = N_("To hear your balances again, press star.")

    # Ways to pay
    CHECK_PAYABLE = N_("To pay by check, make it payable to {payee}, and mail it to:")
    CHECK_ADDRESS = N_("{address}.")
    CHECK_MRN_NOTE = N_("Please write your medical record number on your check.")
    PAY_ONLINE = N_("You can also pay online at {website}.")
    WAYS_AGAIN = N_("To hear this again, press star.")

    # Billing specialist
    TRANSFERRING = N_("Please hold while we connect you to a billing specialist.")
    SPECIALIST_CLOSED = N_("Our billing specialists are not available right now.")
    SPECIALIST_HOURS = N_("They are available {hours}, {time_zone}.")
    SPECIALIST_NUMBER = N_("You can also call them at {number}. For TTY, dial {tty}.")
    SPECIALIST_BUSY = N_("Sorry, no billing specialist could take your call.")
    HOURS_SPAN = N_("{days}, from {opens} to {closes}")
    DAY_RANGE = N_("{first} through {last}")

    # Ending and trouble
    GOODBYE = N_("Thank you for calling. Goodbye.")
    SYSTEM_TROUBLE = N_("We are sorry. We are having trouble on our end right now.")
    CALL_RESTARTED = N_("Sorry, we lost track of your call. Let us start again.")
