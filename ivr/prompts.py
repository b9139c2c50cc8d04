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
    GREETING = N_("Welcome to the {plan} payment line for {region}.")
    GREETING_NATIONAL = N_("Welcome to the {plan} member payment line.")

    # Language and relay, offered at the start
    OFFER_SPANISH = N_("For Spanish, press 8.")
    OFFER_RELAY = N_("For relay, press 7.")
    SPANISH_CHOSEN = N_("We will continue in Spanish.")
    RELAY_ON = N_("Relay mode is on. You have more time to answer each question.")
    RELAY_OFFER = N_(
        "If you are using a relay service and need more time to answer, press 7 or say relay. "
        "To go on as before, press 1."
    )
    STILL_THERE = N_(
        "We have not heard from you. Time to answer is running out. "
        "To keep going, press 1 or say continue. To reach a billing specialist, press 0."
    )
    TAKE_YOUR_TIME = N_("Take the time you need.")
    ENDING_FOR_SILENCE = N_("We have not heard from you, so we will end this call.")

    # Identification
    ASK_MRN = N_("Enter your medical record number, then press pound.")
    MRN_WHERE = N_("You can find it on your member ID card.")
    MRN_INVALID = N_("That is not a complete medical record number.")
    ASK_BIRTH_DATE = N_("Now enter your birth date as month, day, and year.")
    BIRTH_DATE_EXAMPLE = N_("For example, for {example_date}, enter {example_digits}.")
    BIRTH_DATE_INVALID = N_("That is not a valid date of birth.")
    NOT_MATCHED = N_("The information you entered does not match our records.")
    TRY_AGAIN = N_("Please try again.")
    NOT_VERIFIED = N_("We could not verify your information on this call.")
    IDENTIFIED = N_("Thank you, {name}.")

    # Menus and the keys that work everywhere
    MAIN_MENU = N_("Main menu.")
    MENU_PAY = N_("To make a payment, press 1.")
    MENU_BALANCES = N_("To hear your balances, press 2.")
    MENU_PLANNED = N_("For automatic payments, scheduled payments and payment plans, press 3.")
    MENU_RECENT_PAYMENTS = N_("For recent payments, press 4.")
    MENU_DOCUMENTS = N_("For statements, paperless billing and notices, press 5.")
    MENU_WAYS_TO_PAY = N_("For mail and other ways to pay, press 6.")
    MENU_SPECIALIST = N_("For a billing specialist, press 0.")
    MENU_REPEAT = N_("To repeat, press star.")
    MENU_BACK = N_("To return to the main menu, press 9.")
    PLANNED_AUTOPAY = N_("For automatic payments, press 1.")
    PLANNED_SCHEDULED = N_("For scheduled payments, press 2.")
    PLANNED_PLANS = N_("For a payment plan, press 3.")
    NOT_A_CHOICE = N_("Sorry, that is not one of the choices.")
    NO_INPUT = N_("Sorry, I did not hear your answer.")
    HAVING_TROUBLE = N_("It seems you are having trouble.")

    # Balances
    NO_MEDICAL_BILLS = N_("You have no medical bills to pay.")
    ONE_MEDICAL_BILL = N_("You have 1 medical bill.")
    MEDICAL_BILLS = N_("You have {count} medical bills.")
    MEDICAL_BILL = N_(
        "For your visit on {date_of_service} at {facility}, you owe {balance}, due {due_date}."
    )
    MEDICAL_BILL_PAST_DUE = N_(
        "For your visit on {date_of_service} at {facility}, you owe {balance}, "
        "which was due {due_date}. It is past due."
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
    ACCOUNT_CREDIT = N_("You have a credit of {amount} on your account.")
    ACCOUNT_CREDIT_APPLIED = N_(
        "Our billing office applies it to your bills. Until it does, the amounts you owe do not "
        "count it."
    )
    BALANCES_AGAIN = N_("To hear your balances again, press star.")
    BILL_DETAILS_OFFER = N_("For the details of a bill, press 1.")
    BILL_DETAILS_VISIT = N_(
        "Medical bill {bill_number}, for your visit on {date_of_service} at {facility}, "
        "with {provider}."
    )
    BILL_DETAILS_BILLED = N_("The amount billed was {amount}.")
    BILL_DETAILS_ADJUSTMENTS = N_("Insurance and adjustments came to {amount}.")
    BILL_DETAILS_PAID = N_("You have paid {amount}.")
    BILL_DETAILS_BALANCE = N_("You owe {balance}, due {due_date}.")
    BILL_DETAILS_PAST_DUE = N_("You owe {balance}. It was due {due_date}, so it is past due.")
    BILL_DETAILS_AGAIN = N_("To hear these details again, press star.")
    BILL_DETAILS_ANOTHER = N_("For another bill, press 1.")

    # Paying: what, how much, how
    NOTHING_TO_PAY = N_("You have nothing to pay right now.")
    PAY_WHICH_BILL = N_("For your {date_of_service} visit at {facility}, {balance}, press {key}.")
    PAY_ALL_BILLS = N_("For all your medical bills, {total}, press {key}.")
    PAY_PREMIUM = N_("For your premium, {balance}, press {key}.")
    PAYING_BILL = N_("your {date_of_service} visit")
    PAYING_ALL_BILLS = N_("all your medical bills")
    PAYING_PREMIUM = N_("your premium")
    PAYING_A_BILL = N_("medical bill {bill_number}")
    PAYING_PLAN = N_("your payment plan")
    PAY_PLAN_NEXT = N_("For the next payment of your payment plan, {amount}, press {key}.")
    AMOUNT_DUE = N_("The balance is {amount}.")
    AMOUNT_HELD = N_("Another payment in progress already covers {amount} of it.")
    ASK_AMOUNT = N_(
        "Say the amount, or enter the dollars, then press star, then the cents, then press pound."
    )
    AMOUNT_EXAMPLE = N_("For example, for {example}, press {keys}.")
    AMOUNT_NOT_UNDERSTOOD = N_("Sorry, that is not an amount.")
    AMOUNT_ZERO = N_("The amount must be more than zero.")
    AMOUNT_OVER_BALANCE = N_("That is more than you owe. You can pay up to {amount}.")
    AMOUNT_TOO_LARGE = N_("That amount is too large.")
    AMOUNT_CENTS = N_("The cents must be two digits.")
    ASK_METHOD_SAVED = N_("To pay with your {method}, press {key}.")
    ASK_METHOD_CARD = N_("For a credit or debit card, press {key}.")
    ASK_METHOD_BANK = N_("For a bank account, press {key}.")
    ASK_ACCOUNT_TYPE = N_("For a checking account, press 1. For a savings account, press 2.")

    # Card and bank capture (<Pay>)
    CARD_NUMBER = N_("Enter your card number, then press pound.")
    CARD_EXPIRY = N_("Enter the expiration month and year.")
    CARD_SECURITY_CODE = N_("Enter the security code.")
    CARD_SECURITY_CODE_AMEX = N_("Enter the four digit security code on the front of your card.")
    CARD_POSTAL_CODE = N_("Enter the billing ZIP code.")
    BANK_ROUTING = N_("Enter your bank's nine digit routing number, then press pound.")
    BANK_ACCOUNT = N_("Enter your account number, then press pound.")
    BANK_ROUTING_AGAIN = N_("To be sure, enter the routing number again, then press pound.")
    BANK_ACCOUNT_AGAIN = N_("To be sure, enter the account number again, then press pound.")
    PAY_NUMBERS_DIFFER = N_("The two numbers you entered do not match.")
    PAY_PROCESSING = N_("One moment.")
    PAY_TIMEOUT = N_("We did not get your entry.")
    PAY_BAD_CARD_NUMBER = N_("That card number is not valid.")
    PAY_BAD_CARD_TYPE = N_("We accept Visa, Mastercard, American Express and Discover.")
    PAY_BAD_DATE = N_("That expiration date is not valid.")
    PAY_BAD_SECURITY_CODE = N_("That security code is not valid.")
    PAY_BAD_POSTAL_CODE = N_("That ZIP code is not valid.")
    PAY_BAD_ROUTING = N_("That routing number is not valid.")
    PAY_BAD_ACCOUNT = N_("That account number is not valid.")
    PAY_CANCELED = N_("Entry canceled. Nothing was charged.")
    PAY_TOO_MANY_TRIES = N_("We could not read your payment information. Nothing was charged.")
    PAY_CONNECTOR_DOWN = N_("We cannot reach our payment processor right now. Nothing was charged.")

    # Confirming and charging
    CONFIRM_PAYMENT = N_("You are paying {amount} for {target} with your {method}.")
    METHOD_CARD = N_("{brand} ending in {last4}")
    METHOD_CARD_UNBRANDED = N_("card ending in {last4}")
    METHOD_BANK = N_("{account_type} account ending in {last4}")
    CHECKING = N_("checking")
    SAVINGS = N_("savings")
    CONFIRM_OPTIONS = N_(
        "To pay now, press 1. To change the amount, press 2. "
        "To change how you pay, press 3. To cancel, press 4."
    )
    ACH_AUTHORIZATION = N_(
        "By pressing 1, you, {name}, authorize {payee} to make a one-time electronic debit of "
        "{amount} "
        "from your {account_type} account ending in {last4}, on {date}. "
        "If you have questions about this payment, call {phone}."
    )
    ACH_OPTIONS = N_(
        "To authorize this payment, press 1. To change the amount, press 2. "
        "To change how you pay, press 3. To cancel, press 4."
    )
    PAY_LATER_OPTION = N_("To pay on a later date instead, press 5.")
    PAYMENT_CANCELED = N_("Your payment was canceled. Nothing was charged.")
    # Right after identification, for a member with a balance
    SNAPSHOT_PAY = N_("To pay {amount} for {target} with your {method}, press 1.")
    SNAPSHOT_PAY_CARD = N_("To pay {amount} for {target} by card, press 1.")
    SNAPSHOT_MENU = N_("For the main menu, press 9.")
    # A request said in the caller's own words and guessed, read back before it is acted on
    SPOKEN_CONFIRM = N_("Did you want {request}? Press 1 or say yes. Press 2 or say no.")
    REQUEST_PAY = N_("to make a payment")
    REQUEST_PAY_PREMIUM = N_("to pay your premium")
    REQUEST_BALANCES = N_("to hear your balances")
    REQUEST_AUTOPAY = N_("automatic payments")
    REQUEST_SCHEDULED = N_("scheduled payments")
    REQUEST_PLANS = N_("a payment plan")
    REQUEST_HISTORY = N_("your recent payments")
    REQUEST_STATEMENTS = N_("statements")
    REQUEST_PAPERLESS = N_("paperless billing")
    REQUEST_NOTICES = N_("notices and reminders")
    REQUEST_WAYS_TO_PAY = N_("other ways to pay")
    REQUEST_SPECIALIST = N_("a billing specialist")
    REQUEST_GOODBYE = N_("to end the call")
    REQUEST_QUESTIONS = N_("answers to questions about your bill")
    REQUEST_QUESTION_PREMIUM_CHANGE = N_("to hear why a premium changes")
    REQUEST_QUESTION_STATEMENTS = N_("to hear when statements come")
    REQUEST_QUESTION_DUE = N_("to hear when your premium is due")
    REQUEST_QUESTION_FIRST_PAYMENT = N_("to hear how the first payment is made")
    REQUEST_QUESTION_HISTORY = N_("to hear how far back your payment history goes")
    REQUEST_QUESTION_PAPERLESS = N_("to hear what paperless billing means")

    # Questions about your bill: short answers, with the caller's own facts, then a next step
    MENU_QUESTIONS = N_("For answers to questions about your bill, press 8.")
    QUESTIONS_MENU = N_("Questions about your bill.")
    QUESTION_PREMIUM_CHANGE = N_("To hear why a premium changes, press 1.")
    QUESTION_STATEMENTS = N_("To hear when statements come, press 2.")
    QUESTION_DUE = N_("To hear when your premium is due, press 3.")
    QUESTION_FIRST_PAYMENT = N_("To hear how the first payment is made, press 4.")
    QUESTION_HISTORY = N_("To hear how far back your payment history goes, press 5.")
    QUESTION_PAPERLESS = N_("To hear what paperless billing means, press 6.")
    ANSWER_PREMIUM_CHANGE = N_(
        "A premium can change each year, and when you reach a new age band: from age 14, "
        "each year of age has its own rate. It also depends on where you live, your plan, "
        "the year's health care costs, and any subsidy you receive."
    )
    ANSWER_PREMIUM_NOW = N_("Your premium is {amount} a month.")
    ANSWER_PREMIUM_EMPLOYER = N_("Your employer pays your premium.")
    ANSWER_STATEMENTS = N_(
        "Statements are made in the first two weeks of each month and mailed by the middle "
        "of the month."
    )
    ANSWER_STATEMENTS_EMAILED = N_("You have paperless billing, so yours are emailed instead.")
    ANSWER_STATEMENTS_MAILED = N_("Yours come by mail.")
    ANSWER_STATEMENTS_NO_ADDRESS = N_("We have no mailing address for you, so yours are emailed.")
    ANSWER_STATEMENTS_NOWHERE = N_(
        "We have no email or mailing address for you: a billing specialist can add one."
    )
    ANSWER_DUE = N_("A month's premium is due by the last day of the month before.")
    ANSWER_DUE_FIRST = N_("Where you live, it is due on the first day of that month instead.")
    ANSWER_DUE_NOTHING = N_("You have no premium due right now.")
    ANSWER_FIRST_PAYMENT = N_(
        "If you joined through your state's health insurance exchange, your first payment, "
        "called the binder payment, is made through the exchange, and it starts your "
        "coverage. Every payment after it can be made here."
    )
    ANSWER_FIRST_PAYMENT_EXCHANGE = N_(
        "You joined through the exchange, so this is how yours works."
    )
    ANSWER_FIRST_PAYMENT_OTHER = N_(
        "Your coverage did not come through the exchange, so every payment, the first "
        "one too, can be made here."
    )
    ANSWER_HISTORY = N_(
        "On this line you can hear your payments of the last 13 months, however you paid. "
        "For older payments, a billing specialist can help."
    )
    ANSWER_PAPERLESS = N_(
        "With paperless billing, your statements and letters are emailed to you instead of "
        "mailed. You pay the same ways as before."
    )
    ANSWER_PAPERLESS_ON = N_("Paperless billing is on for you.")
    ANSWER_PAPERLESS_OFF = N_("Paperless billing is off for you.")
    NEXT_PAY_PREMIUM = N_("To pay your premium now, press 1.")
    NEXT_BALANCES = N_("To hear your balances, press 1.")
    NEXT_STATEMENT = N_("To have a statement sent, press 1.")
    NEXT_HISTORY = N_("To hear your recent payments, press 1.")
    NEXT_PAPERLESS = N_("To turn paperless billing on or off, press 1.")
    QUESTIONS_MORE = N_("For another question, press 2.")
    # The confirmation number in the sentence that says the payment went through.
    PAYMENT_SUCCEEDED = N_("Payment complete: your confirmation number is {number}.")
    PAYMENT_SUBMITTED = N_(
        "Bank payment submitted: your confirmation number is {number}. "
        "It usually takes 1 to 3 business days."
    )
    CONFIRMATION_NUMBER = N_("Your confirmation number is {number}.")
    PAYMENT_CONFIRMING = N_(
        "We are still confirming your payment of {amount}. It will not be taken twice. "
        "We will send you a receipt once it is confirmed."
    )
    DECLINED = N_("The payment was declined.")
    DECLINED_FUNDS = N_("The payment was declined for insufficient funds.")
    DECLINED_EXPIRED = N_("The card has expired.")
    DECLINED_CVC = N_("The security code did not match.")
    DECLINED_ACCOUNT = N_("The bank account could not be used.")
    DECLINED_PROCESSING = N_("We could not process the payment. Nothing was charged.")
    AFTER_DECLINE = N_(
        "To try another payment method, press 1. To return to the main menu, press 9."
    )
    CONFIRMATION_AGAIN = N_("To hear the confirmation number again, press star.")
    OFFER_TEXT_RECEIPT = N_("To get a text receipt at the number you are calling from, press 1.")
    OFFER_SAVE_METHOD = N_("To save your {method} for next time, press 2.")
    METHOD_SAVED = N_("Your {method} is saved for next time.")
    RECEIPT_SENT = N_("We will text your receipt to the number you are calling from.")
    NO_RECEIPT_NUMBER = N_("We cannot text the number you are calling from.")

    # Paying on a later date
    ASK_PAY_DATE = N_("Say the date to pay, or enter it as 4 digits: month and day.")
    PAY_DATE_RANGE = N_("You can choose a date from tomorrow through {latest}.")
    PAY_DATE_NOT_A_DATE = N_("That is not a date.")
    PAY_DATE_NOT_AFTER_TODAY = N_("The date must be after today.")
    PAY_DATE_TOO_LATE = N_("That date is too late.")
    PAY_DATE_LATEST = N_("The latest date you can choose is {latest}.")
    PAY_DATE_REFUSED_OPTIONS = N_("To enter another date, press 1. To pay now instead, press 2.")
    PAY_LATER_NOT_POSSIBLE = N_("This payment is due {due}, so it cannot be set for a later date.")
    CONFIRM_SCHEDULED = N_(
        "You are scheduling a payment of {amount} for {target}, with your {method}, on {date}."
    )
    SCHEDULED_ACH_AUTHORIZATION = N_(
        "By pressing 1, you, {name}, authorize {payee} to make a one-time electronic debit of "
        "{amount} "
        "from your {account_type} account ending in {last4}, on {date}. "
        "If you owe less on that date, only what you owe will be debited. "
        "If you have questions about this payment, call {phone}."
    )
    CONFIRM_SCHEDULED_OPTIONS = N_(
        "To schedule this payment, press 1. To change the date, press 2. "
        "To pay now instead, press 3. To cancel, press 4."
    )
    SCHEDULED_ACH_OPTIONS = N_(
        "To authorize this scheduled payment, press 1. To change the date, press 2. "
        "To pay now instead, press 3. To cancel, press 4."
    )
    PAYMENT_SCHEDULED = N_("Your payment of {amount} is scheduled for {date}.")
    SCHEDULED_WHEN_OWED = N_(
        "If you owe less on that date, we will take only what you owe. "
        "Nothing is taken before then."
    )

    # Scheduled payments
    NO_SCHEDULED_PAYMENTS = N_("You have no scheduled payments.")
    SCHEDULED_PAYMENT = N_("On {date}, {amount} for {target}, with your {method}.")
    SCHEDULED_CANCEL_KEY = N_("To cancel the payment on {date}, press {key}.")
    SCHEDULED_AGAIN = N_("To hear your scheduled payments again, press star.")
    SCHEDULED_CANCEL_CONFIRM = N_(
        "To cancel your payment of {amount} on {date}, press 1. To keep it, press 2."
    )
    SCHEDULED_CANCELED = N_("Your payment on {date} is canceled. Nothing will be taken.")
    SCHEDULED_ALREADY_STARTED = N_(
        "That payment has already started, so it can no longer be canceled."
    )

    # Recent payments
    NO_RECENT_PAYMENTS = N_("We have no payments from you in the last 13 months.")
    RECENT_PAYMENT = N_(
        "On {date}, {amount} toward {target}, with {method}. Confirmation number {number}."
    )
    RECENT_PAYMENT_PENDING = N_(
        "On {date}, {amount} toward {target}, with {method}, still being confirmed. "
        "Confirmation number {number}."
    )
    RECENT_PAYMENT_GIVEN_BACK = N_(
        "On {date}, {amount} toward {target}, with {method}, returned or refunded. "
        "Confirmation number {number}."
    )
    RECENT_PAYMENT_ELSEWHERE = N_("On {date}, {amount} toward {target}, {channel}.")
    PAID_ONLINE = N_("paid online")
    PAID_BY_MAIL = N_("paid by mail")
    PAID_WITH_SPECIALIST = N_("paid with a billing specialist")
    PAID_IN_PERSON = N_("paid in person")
    RECENT_AGAIN = N_("To hear your payments again, press star.")

    # Ways to pay
    CHECK_PAYABLE = N_("To pay by check, make it payable to {payee}, and mail it to:")
    CHECK_ADDRESS = N_("{address}.")
    CHECK_MRN_NOTE = N_("Please write your medical record number on your check.")
    PAY_ONLINE = N_("You can also pay online at {website}.")
    HEAR_AGAIN = N_("To hear this again, press star.")

    # Automatic payments
    AUTOPAY_ENROLLED = N_(
        "Your premium of {amount} will be paid automatically on {date} from your {method}."
    )
    AUTOPAY_ENROLLED_NOTHING_DUE = N_(
        "Automatic payments are set up from your {method}. You have no premium due right now."
    )
    AUTOPAY_OPTIONS = N_(
        "To change the payment method, press 1. To cancel automatic payments, press 2."
    )
    AUTOPAY_OFFER_MAXIMUM = N_("To set a maximum amount, press 3.")
    AUTOPAY_OFFER_CHANGE_MAXIMUM = N_("To change or remove your maximum amount, press 3.")
    AUTOPAY_ABOVE_MAXIMUM = N_(
        "Your premium of {amount} due on {date} is more than your maximum amount of {maximum}, "
        "so it will not be paid automatically."
    )
    AUTOPAY_MAXIMUM_IS = N_(
        "Your maximum amount is {amount}. A premium above it is not paid automatically."
    )
    AUTOPAY_EMPLOYER = N_(
        "Your employer pays your premium, so there is nothing to pay automatically."
    )
    AUTOPAY_EXCHANGE_BINDER = N_(
        "Your first premium payment must be made through your health benefit exchange. "
        "After that, you can set up automatic payments."
    )
    AUTOPAY_ASK_METHOD = N_("To use your {method}, press {key}.")
    AUTOPAY_NEW_CARD = N_("To use a new card, press {key}.")
    AUTOPAY_NEW_BANK = N_("To use a new bank account, press {key}.")
    AUTOPAY_AUTHORIZATION = N_(
        "By pressing 1, you, {name}, authorize {payee} to charge your premium to your "
        "{method} automatically on each premium due date for your region, until you cancel. "
        "The amount of your premium may change. "
        "You can cancel at any time by calling this line. "
        "We will send you a written copy of this authorization."
    )
    AUTOPAY_ACCEPT = N_("To accept, press 1. To go back, press 2.")
    AUTOPAY_SET_UP = N_("Automatic payments are set up. We will send you a written copy.")
    AUTOPAY_METHOD_CHANGED = N_(
        "Automatic payments will now use your {method}. We will send you a written copy."
    )
    AUTOPAY_MAXIMUM_OPTIONS = N_(
        "To set a new maximum amount, press 1. To remove your maximum amount, press 2."
    )
    AUTOPAY_ASK_MAXIMUM = N_(
        "Enter the most to pay automatically for one premium, in dollars, "
        "then press star, then the cents, then press pound."
    )
    AUTOPAY_CONFIRM_MAXIMUM = N_(
        "Your maximum amount will be {amount}. To confirm, press 1. To enter it again, press 2."
    )
    AUTOPAY_MAXIMUM_SET = N_(
        "Your maximum amount is now {amount}. "
        "If a premium is more, we will not charge it, and we will let you know."
    )
    AUTOPAY_MAXIMUM_REMOVED = N_(
        "Your maximum amount is removed. Each premium will be paid automatically in full."
    )
    AUTOPAY_CANCEL_CONFIRM = N_("To cancel automatic payments, press 1. To keep them, press 2.")
    AUTOPAY_CANCELED = N_(
        "Automatic payments are canceled. Payments already started still go through."
    )

    # Payment plans
    PLAN_STATUS = N_("Your payment plan: {amount} due {date}; {count} payments left.")
    PLAN_STATUS_LAST = N_("Your payment plan: {amount} due {date}, the last payment.")
    PLAN_STATUS_PAYING = N_("A payment on your payment plan is being processed.")
    PLAN_METHOD = N_("Plan payments are made from your {method}.")
    PLAN_LAPSED = N_(
        "Your payment plan ended on {date} because payments were missed. "
        "The {amount} it still owed is due now."
    )
    PLAN_PAY_NEXT = N_("To pay the next payment, {amount}, now, press 1.")
    PLAN_PAY_OFF = N_("To pay off the plan, {amount}, press 2.")
    PLAN_CHANGE_METHOD = N_("To change the payment method, press 3.")
    PLAN_OFFER = N_("Your medical balance of {amount} can be paid in monthly payments.")
    PLAN_OPTION = N_("For {count} payments of {amount} a month, the first today, press {key}.")
    PLAN_OPTION_UNEVEN = N_(
        "For {count} payments, {first} today and then {amount} a month, press {key}."
    )
    PLAN_BILL_DISPUTED = N_(
        "Your {date_of_service} visit at {facility} cannot go into a plan while it is in dispute."
    )
    PLAN_BILL_TOO_OLD = N_(
        "Your {date_of_service} visit at {facility} is too old to go into a plan."
    )
    PLAN_BELOW_MINIMUM = N_("Payment plans are for medical balances of {minimum} or more.")
    PLAN_NOTHING_ELIGIBLE = N_("None of your medical bills can go into a payment plan.")
    PLAN_AUTHORIZATION = N_(
        "By pressing 1, you, {name}, authorize {payee} to charge your {method} for your "
        "medical bills: {first} today, then {monthly} each month from {second} to {last}, "
        "{total} in all. If a payment does not go through, we will try again and let you "
        "know; after {missed} missed payments the plan ends and the rest of the balance is "
        "due. To revoke this authorization, call a billing specialist at least 3 business "
        "days before a payment. We will send you a written copy."
    )
    PLAN_CHANGE_AUTHORIZATION = N_(
        "By pressing 1, you, {name}, authorize {payee} to charge your {method} for the rest "
        "of your payment plan: {amount} each month from {next} to {last}, {total} in all. "
        "If a payment does not go through, we will try again and let you know; after "
        "{missed} missed payments the plan ends and the rest of the balance is due. To "
        "revoke this authorization, call a billing specialist at least 3 business days "
        "before a payment. We will send you a written copy."
    )
    PLAN_SET_UP = N_("Your payment plan is set up. We will send you a written copy of the terms.")
    PLAN_NOT_SET_UP = N_("Your payment plan was not set up.")
    PLAN_OPTIONS_CHANGED = N_("Your medical balance has changed, and so have the plan options.")
    PLAN_METHOD_CHANGED = N_(
        "Plan payments will now be made from your {method}. We will send you a written copy."
    )
    PLAN_CONFIRM_AHEAD = N_(
        "To pay {amount} on your payment plan now from your {method}, press 1. To go back, press 2."
    )
    PLAN_ACH_OPTIONS = N_("To authorize this payment, press 1. To go back, press 2.")
    PLAN_PAID_OFF = N_("Your payment plan is paid off.")

    # Statements, paperless billing and notices
    DOCUMENTS_STATEMENTS = N_("For statements and letters, press 1.")
    DOCUMENTS_PAPERLESS = N_("For paperless billing, press 2.")
    DOC_PREMIUM_STATEMENT = N_("For a premium statement, press 1.")
    DOC_BILL_STATEMENT = N_("For a statement of your medical bills, press 2.")
    DOC_PAYMENT_HISTORY = N_("For a letter listing your payments of the last 13 months, press 3.")
    DOC_TAX_LETTER = N_("For a letter of your {year} premium payments, for your taxes, press 4.")
    DOC_NAME_PREMIUM_STATEMENT = N_("premium statement")
    DOC_NAME_BILL_STATEMENT = N_("medical bill statement")
    DOC_NAME_PAYMENT_HISTORY = N_("payment history letter")
    DOC_NAME_TAX_LETTER = N_("tax letter")
    DOC_EMAILED = N_("We will email your {document} to the address we have on file.")
    DOC_MAILED = N_(
        "We will mail your {document} to the address we have on file. "
        "It should arrive in 7 to 10 days."
    )
    DOC_NOT_DELIVERABLE = N_(
        "We have no email or mailing address for you, so we cannot send it. "
        "A billing specialist can add one."
    )
    DOCUMENTS_NOTICES = N_("To choose how we send you notices, press 3.")
    PAPERLESS_IS_ON = N_("Paperless billing is on: your statements come by email.")
    PAPERLESS_TURN_OFF = N_("To turn paperless billing off and get statements by mail, press 1.")
    PAPERLESS_IS_OFF = N_("Paperless billing is off: your statements come by mail.")
    PAPERLESS_NO_EMAIL = N_(
        "Paperless billing sends your statements by email, and we have no email address for "
        "you. A billing specialist can add one."
    )
    PAPERLESS_TERMS = N_(
        "By pressing 1, you agree to get your bills, statements and letters from {payee} by "
        "email instead of by mail, at the email address we have on file. We will email you "
        "each time a document is ready. You can ask for a paper copy, or turn paperless "
        "billing off, at any time by calling this line."
    )
    PAPERLESS_TURNED_ON = N_(
        "Paperless billing is on. We will email you when a statement is ready."
    )
    PAPERLESS_TURNED_OFF = N_("Paperless billing is off. Your statements will come by mail.")
    NOTICE_KIND_OPTION = N_("For {kind}, sent {delivery}, press {key}.")
    NOTICE_KIND_OFF = N_("For {kind}, not sent now, press {key}.")
    NOTICE_ASK_DELIVERY = N_(
        "How should we send {kind}? By email, press 1. By text, press 2. "
        "By email and text, press 3. To stop them, press 4."
    )
    NOTICE_SAVED = N_("We will send {kind} {delivery}.")
    NOTICE_STOPPED = N_("We will not send you {kind}.")
    NOTICE_NO_EMAIL = N_("We have no email address for you, so we cannot send them by email.")
    NOTICE_NO_PHONE = N_("We have no mobile number for you, so we cannot send them by text.")
    TEXT_CONSENT = N_(
        "By pressing 1, you agree to get text messages about your bills and payments from "
        "{payee} at the number ending in {last4}. Message and data rates may apply. Reply "
        "STOP to stop them, or HELP for help. To agree, press 1. To go back, press 2."
    )
    TEXTS_STOPPED_THERE = N_(
        "Texts to the number ending in {last4} were stopped by a STOP reply from it. To get "
        "them again, text START to this number from that phone."
    )
    KIND_BILL_READY = N_("notices that a bill is ready")
    KIND_DUE_SOON = N_("reminders before a due date")
    KIND_AUTOPAY_UPCOMING = N_("reminders of an automatic payment")
    KIND_PLAN_INSTALLMENT = N_("reminders of a payment plan payment")
    KIND_PAYMENT_CONFIRMATION = N_("payment confirmations")
    KIND_PAYMENT_PROBLEM = N_("notices of a payment problem")
    DELIVERY_EMAIL = N_("by email")
    DELIVERY_TEXT = N_("by text")
    DELIVERY_BOTH = N_("by email and text")

    # Billing specialist
    TRANSFERRING = N_("Please hold while we connect you to a billing specialist.")
    SPECIALIST_CLOSED = N_("Our billing specialists are not available right now.")
    SPECIALIST_HOURS = N_("Billing specialists are available {hours}, {time_zone}.")
    SPECIALIST_NUMBER = N_("You can also call them at {number}. For TTY, dial {tty}.")
    SPECIALIST_BUSY = N_("Sorry, no billing specialist could take your call.")
    SPECIALIST_UNREACHABLE = N_("Sorry, we could not connect you to a billing specialist.")
    HOURS_SPAN = N_("{days}, from {opens} to {closes}")
    DAY_RANGE = N_("{first} through {last}")

    # Ending and trouble
    GOODBYE = N_("Thank you for calling. Goodbye.")
    ANSWER_NOT_TAKEN = N_("Sorry, we could not take that answer. Here is where you were.")
    SYSTEM_TROUBLE = N_("We are sorry. We are having trouble on our end right now.")
    CALL_RESTARTED = N_("Sorry, we lost track of your call. Let us start again.")
