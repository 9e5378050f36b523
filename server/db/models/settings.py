"""The partner's own settings (SPEC §11, R-SET-01/02): reminder days, who gets the partner copy of
each email kind, the sender name, reply-to and logo of customer emails, and its email texts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from server.db.base import Base, BigId, Json, UTCDateTime


class PartnerSettings(Base):
    """One row per partner that changed anything; a partner without one has the defaults
    (server/domain/partner_settings/)."""
    __tablename__ = "partner_settings"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner_orgs.id"), primary_key=True)
    #: R-SET-01: days before a trial's end the warning goes out on (a subset of 30, 14, 7, 3, 1).
    reminder_days: Mapped[list] = mapped_column(Json)
    #: Per partner email kind, the partner roles that get it: {"warning_partner": ["PARTNER_FULL_ADMIN", …]};
    #: a kind not named has the default roles.
    recipients: Mapped[dict] = mapped_column(Json)
    sender_name: Mapped[str | None] = mapped_column(String(100))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    #: The logo as we re-encoded it (never the uploaded bytes), its media type and content hash.
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_type: Mapped[str | None] = mapped_column(String(20))
    logo_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_partner_settings_logo_hash", "logo_hash"),)


class PartnerEmailText(Base):
    """R-SET-02: a partner's own subject and introduction for one email kind in one language."""
    __tablename__ = "partner_email_texts"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner_orgs.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    introduction: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
