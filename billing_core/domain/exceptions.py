"""What the billing core refuses, as exceptions a channel turns into words."""


class BillingError(Exception):
    """Base of every refusal of the billing core."""


class IdentityNotVerified(BillingError):
    """The MRN and birth date do not identify a member now.

    Deliberately one exception for "no such MRN", "wrong birth date" and "locked out":
    a caller must not learn which.
    """


class MemberNotFound(BillingError):
    """No member with that id (a session pointing at a removed member)."""


class FeedRejected(BillingError):
    """A billing feed file was refused whole; `problems` lists every bad row and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the billing feed")
        self.problems = problems


class KeyedAmountInvalid(BillingError, ValueError):
    """Keys that are not an amount; the subclass names the reason."""


class AmountNotUnderstood(KeyedAmountInvalid):
    """No digits, or something other than dollars, star, cents."""


class AmountBadCents(KeyedAmountInvalid):
    """A star followed by anything but exactly two digits of cents."""


class AmountTooLarge(KeyedAmountInvalid):
    """More dollar digits than any balance has."""


class AmountZero(KeyedAmountInvalid):
    """Nothing to pay: the amount keyed is zero."""


class DocumentNotDeliverable(BillingError):
    """A statement or letter cannot be sent: `reason` says why (no_email_or_address)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DocumentRequestInvalid(BillingError, ValueError):
    """A document asked for wrongly: `reason` names it (unknown_kind, bad_year, year_not_used)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
