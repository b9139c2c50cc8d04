"""What kind of member a bill is for: the coverage decides who pays the premium."""

from __future__ import annotations

import enum


class CoverageType(enum.StrEnum):
    MEDICARE = "medicare"
    INDIVIDUAL_EXCHANGE = "individual_exchange"
    INDIVIDUAL = "individual"
    COBRA = "cobra"
    EMPLOYER_GROUP = "employer_group"

    @property
    def pays_premium_here(self) -> bool:
        # Employer-group members' premiums are paid by the employer.
        return self is not CoverageType.EMPLOYER_GROUP
