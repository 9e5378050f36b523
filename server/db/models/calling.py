"""Calling locations and phone numbers (R-SVC-03, R-TIME-06)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigId, UTCDateTime


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhoneNumber(Base):
    """E.164 numbers; unique on the platform while not released (partial unique index)."""
    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    e164: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    #: "user:<email>", "main" or "voicemail".
    assigned_to: Mapped[str | None] = mapped_column(String(340))
    release_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "uq_phone_numbers_e164_live", "e164", unique=True,
            postgresql_where=text("status <> 'RELEASED'"), sqlite_where=text("status <> 'RELEASED'"),
        ),
    )
