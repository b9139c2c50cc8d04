"""The statements of members' message preferences and paperless enrollments."""

from __future__ import annotations

from sqlalchemy import select

from billing_core.adapters.models import MessagePreference, PaperlessEnrollment, TextAgreement
from billing_core.adapters.unit_of_work import UnitOfWork


def preferences(uow: UnitOfWork, member_id: int) -> list[MessagePreference]:
    return list(
        uow.session.scalars(
            select(MessagePreference).where(MessagePreference.member_id == member_id)
        ).all()
    )


def preference(uow: UnitOfWork, member_id: int, kind: str) -> MessagePreference | None:
    return uow.session.scalars(
        select(MessagePreference).where(
            MessagePreference.member_id == member_id, MessagePreference.kind == kind
        )
    ).one_or_none()


def open_paperless(uow: UnitOfWork, member_id: int) -> PaperlessEnrollment | None:
    """The member's paperless enrollment not turned off, if any."""
    return uow.session.scalars(
        select(PaperlessEnrollment).where(
            PaperlessEnrollment.member_id == member_id, PaperlessEnrollment.ended_at.is_(None)
        )
    ).one_or_none()


def text_agreement(uow: UnitOfWork, member_id: int, phone: str) -> TextAgreement | None:
    """The member's latest consent to texts at this number, if any."""
    return uow.session.scalars(
        select(TextAgreement)
        .where(TextAgreement.member_id == member_id, TextAgreement.phone == phone)
        .order_by(TextAgreement.id.desc())
        .limit(1)
    ).one_or_none()
