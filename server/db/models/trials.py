"""Trials, their services, consent requests and device extension requests (SPEC §2–4)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, BigId, Json, UTCDateTime


class Trial(Base):
    __tablename__ = "trials"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner_orgs.id"), index=True)
    started_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    #: Not indexed: nothing reads trials by state alone, and a changing indexed column would make
    #: every state change a non-HOT update (migration 0005; PostgreSQL keeps fillfactor 50).
    state: Mapped[str] = mapped_column(String(24))
    license_count: Mapped[int] = mapped_column(Integer)
    duration_days: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    grace_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    setup_now: Mapped[bool] = mapped_column(Boolean, default=False)
    device_skip: Mapped[str | None] = mapped_column(String(40))
    #: Optimistic concurrency for edits (`expectedVersion`).
    version: Mapped[int] = mapped_column(Integer, default=1)
    order_number: Mapped[str | None] = mapped_column(String(64))
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    services: Mapped[list["TrialService"]] = relationship(
        back_populates="trial", cascade="all, delete-orphan", lazy="raise", order_by="TrialService.id"
    )


class TrialService(Base):
    """One service of a trial with its options. `holds` marks rows that block the service for the
    customer (R-SVC-06); a partial unique index makes that rule hold under concurrency."""
    __tablename__ = "trial_services"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(16))
    license_count: Mapped[int | None] = mapped_column(Integer)
    holds: Mapped[bool] = mapped_column(Boolean, default=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Meetings (R-SVC-02)
    meetings_edition: Mapped[str | None] = mapped_column(String(16))
    #: Lower-cased full host name, e.g. "acme.webex.com"; NULL once released (R-TIME-05).
    site_url: Mapped[str | None] = mapped_column(String(80), unique=True)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    meetings_features: Mapped[list | None] = mapped_column(Json)
    # Calling (R-SVC-03)
    pstn: Mapped[str | None] = mapped_column(String(16))

    trial: Mapped[Trial] = relationship(back_populates="services", lazy="raise")

    __table_args__ = (
        Index(
            "uq_trial_services_customer_service_held", "customer_id", "service", unique=True,
            postgresql_where=text("holds"), sqlite_where=text("holds = 1"),
        ),
    )


class ConsentRequest(Base):
    """R-EX-03..06: the request an existing org's admin must accept within 30 days."""
    __tablename__ = "consent_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner_orgs.id"))
    admin_email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16))
    #: Bumped on every resend and on decision, so older links die.
    nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_count: Mapped[int] = mapped_column(Integer, default=1)
    grant_full_admin: Mapped[bool | None] = mapped_column(Boolean)
    decided_by_email: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeviceExtensionRequest(Base):
    """R-EXT-02: asked by the partner, decided by the trials team."""
    __tablename__ = "device_extension_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
