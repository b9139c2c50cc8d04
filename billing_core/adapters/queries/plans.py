"""The statements of payment plans: add a plan with its bills and installments, find them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update

from billing_core.adapters.models import (
    MedicalBill,
    Payment,
    PaymentPlan,
    PlanBill,
    PlanInstallment,
    SavedPaymentMethod,
)
from billing_core.adapters.unit_of_work import UnitOfWork
from billing_core.domain.payments import WENT_THROUGH

ACTIVE = "active"
DUE = "due"
PAYING = "paying"
LAPSED = "lapsed"


def by_request_key(uow: UnitOfWork, request_key: str) -> PaymentPlan | None:
    return uow.session.scalars(
        select(PaymentPlan).where(PaymentPlan.request_key == request_key)
    ).one_or_none()


def active_plan(uow: UnitOfWork, member_id: int) -> PaymentPlan | None:
    return uow.session.scalars(
        select(PaymentPlan).where(PaymentPlan.member_id == member_id, PaymentPlan.status == ACTIVE)
    ).one_or_none()


def get(uow: UnitOfWork, plan_id: int) -> PaymentPlan | None:
    return uow.session.get(PaymentPlan, plan_id)


def open_bills(uow: UnitOfWork, member_id: int) -> list[MedicalBill]:
    """The member's medical bills with a balance, earliest due first."""
    return list(
        uow.session.scalars(
            select(MedicalBill)
            .where(
                MedicalBill.member_id == member_id,
                MedicalBill.owes(),
            )
            .order_by(MedicalBill.due_date, MedicalBill.id)
        ).all()
    )


def bill_ids_in_active_plans(uow: UnitOfWork, member_id: int) -> set[int]:
    """Ids of the member's bills that an active plan has taken."""
    return set(
        uow.session.scalars(
            select(PlanBill.bill_id)
            .join(PaymentPlan, PaymentPlan.id == PlanBill.plan_id)
            .where(PaymentPlan.member_id == member_id, PaymentPlan.status == ACTIVE)
        ).all()
    )


def plan_bills(uow: UnitOfWork, plan_id: int) -> list[MedicalBill]:
    return list(
        uow.session.scalars(
            select(MedicalBill)
            .join(PlanBill, PlanBill.bill_id == MedicalBill.id)
            .where(PlanBill.plan_id == plan_id)
            .order_by(MedicalBill.due_date, MedicalBill.id)
        ).all()
    )


def add_plan(
    uow: UnitOfWork,
    values: dict[str, Any],
    bills: Sequence[tuple[int, int]],
    installments: Sequence[tuple[date, int]],
) -> PaymentPlan:
    """Add a plan, its (bill id, cents) and its (due day, amount) installments.

    The flush raises IntegrityError if the request key is taken or the member already
    has an active plan.
    """
    plan = PaymentPlan(**values)
    uow.session.add(plan)
    uow.session.flush()
    for bill_id, cents in bills:
        uow.session.add(PlanBill(plan_id=plan.id, bill_id=bill_id, cents=cents))
    for number, (due_on, amount) in enumerate(installments, start=1):
        uow.session.add(
            PlanInstallment(
                plan_id=plan.id,
                number=number,
                due_on=due_on,
                amount_cents=amount,
                status="due",
                attempt=0,
                updated_at=values["updated_at"],
            )
        )
    uow.session.flush()
    return plan


def installments(uow: UnitOfWork, plan_id: int) -> list[PlanInstallment]:
    return list(
        uow.session.scalars(
            select(PlanInstallment)
            .where(PlanInstallment.plan_id == plan_id)
            .order_by(PlanInstallment.number)
        ).all()
    )


def installment(uow: UnitOfWork, plan_id: int, number: int) -> PlanInstallment | None:
    return uow.session.scalars(
        select(PlanInstallment).where(
            PlanInstallment.plan_id == plan_id, PlanInstallment.number == number
        )
    ).one_or_none()


def change_installment_if(
    uow: UnitOfWork,
    installment_id: int,
    statuses: Sequence[str],
    attempt: int,
    values: dict[str, Any],
) -> bool:
    """Change the installment only if still in one of these states at this try (compare-and-set)."""
    changed = uow.session.execute(
        update(PlanInstallment)
        .where(
            PlanInstallment.id == installment_id,
            PlanInstallment.status.in_(statuses),
            PlanInstallment.attempt == attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed.rowcount == 1


def change_plan_if(
    uow: UnitOfWork, plan_id: int, statuses: Sequence[str], values: dict[str, Any]
) -> bool:
    """Change the plan only if it is still in one of these states (compare-and-set)."""
    changed = uow.session.execute(
        update(PaymentPlan)
        .where(PaymentPlan.id == plan_id, PaymentPlan.status.in_(statuses))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed.rowcount == 1


def saved_method(uow: UnitOfWork, method_id: int) -> SavedPaymentMethod | None:
    return uow.session.get(SavedPaymentMethod, method_id)


def _runnable(last_day: date):
    """Installments a run takes: due by last_day, or being paid ahead (to learn the answer)."""
    day = func.coalesce(PlanInstallment.next_try_on, PlanInstallment.due_on)
    return or_(
        and_(PaymentPlan.status == ACTIVE, PlanInstallment.status == DUE, day <= last_day),
        # Whatever became of the plan since, a payment ahead's answer is still recorded.
        PlanInstallment.status == PAYING,
    )


def due_installments(
    uow: UnitOfWork, last_day: date, members: tuple[int, int] | None = None
) -> list[int]:
    """Ids of the installments of active plans due by last_day, or being paid ahead."""
    day = func.coalesce(PlanInstallment.next_try_on, PlanInstallment.due_on)
    query = (
        select(PlanInstallment.id)
        .join(PaymentPlan, PaymentPlan.id == PlanInstallment.plan_id)
        .where(_runnable(last_day))
    )
    if members is not None:
        first, stop = members
        query = query.where(PaymentPlan.member_id >= first, PaymentPlan.member_id < stop)
    return list(uow.session.scalars(query.order_by(day, PlanInstallment.id)).all())


def due_range_numbers(uow: UnitOfWork, last_day: date, size: int) -> list[int]:
    """The numbers (member id // size) of the id ranges holding an installment due by then."""
    number = PaymentPlan.member_id // size
    return list(
        uow.session.scalars(
            select(number)
            .join(PlanInstallment, PlanInstallment.plan_id == PaymentPlan.id)
            .where(_runnable(last_day))
            .distinct()
            .order_by(number)
        ).all()
    )


def settle_installment_if(
    uow: UnitOfWork, installment_id: int, attempt: int, values: dict[str, Any]
) -> bool:
    """Record the answer of try `attempt` once: only while no answer is recorded for it."""
    changed = uow.session.execute(
        update(PlanInstallment)
        .where(
            PlanInstallment.id == installment_id,
            PlanInstallment.status == "due",
            PlanInstallment.attempt == attempt,
            PlanInstallment.payment_id.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed.rowcount == 1


def missed_count(uow: UnitOfWork, plan_id: int) -> int:
    return uow.session.scalar(
        select(func.count())
        .select_from(PlanInstallment)
        .where(PlanInstallment.plan_id == plan_id, PlanInstallment.status == "missed")
    )


# Built once: read as each identified member is greeted.
_LATEST_PLAN = (
    select(PaymentPlan)
    .where(
        PaymentPlan.member_id == bindparam("member_id"), PaymentPlan.status.in_([ACTIVE, LAPSED])
    )
    .order_by((PaymentPlan.status == ACTIVE).desc(), PaymentPlan.id.desc())
    .limit(1)
)


def latest_plan(uow: UnitOfWork, member_id: int) -> PaymentPlan | None:
    """The member's active plan, or else their latest lapsed one."""
    return uow.session.scalars(_LATEST_PLAN, {"member_id": member_id}).one_or_none()


def open_installments(uow: UnitOfWork, plan_id: int) -> list[PlanInstallment]:
    """The plan's installments not yet paid or missed (due, or being paid ahead), in order."""
    return list(
        uow.session.scalars(
            select(PlanInstallment)
            .where(PlanInstallment.plan_id == plan_id, PlanInstallment.status.in_([DUE, PAYING]))
            .order_by(PlanInstallment.number)
        ).all()
    )


def paid_ahead_with(uow: UnitOfWork, plan_id: int, key: str) -> list[PlanInstallment]:
    """The installments a payment ahead under this key is paying."""
    return list(
        uow.session.scalars(
            select(PlanInstallment)
            .where(
                PlanInstallment.plan_id == plan_id,
                PlanInstallment.status == PAYING,
                PlanInstallment.ahead_key == key,
            )
            .order_by(PlanInstallment.number)
        ).all()
    )


def finish_ahead(uow: UnitOfWork, plan_id: int, key: str, values: dict[str, Any]) -> int:
    """Record the answer of the payment ahead under this key on its installments, once."""
    changed = uow.session.execute(
        update(PlanInstallment)
        .where(
            PlanInstallment.plan_id == plan_id,
            PlanInstallment.status == PAYING,
            PlanInstallment.ahead_key == key,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed.rowcount


def succeeded_payment_for(uow: UnitOfWork, plan_id: int, number: int) -> int | None:
    """The id of a succeeded payment of this installment of the plan, if any."""
    return uow.session.scalars(
        select(Payment.id)
        .where(
            Payment.plan_id == plan_id,
            Payment.plan_installment == number,
            Payment.status.in_(WENT_THROUGH),
        )
        .limit(1)
    ).one_or_none()
